# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Apply OS updates with apt, unattended, and say exactly what changed.

``run(args, env)`` runs a command and returns (rc, stdout, stderr) -- the
module passes AnsibleModule.run_command, tests a recorder or the real thing.
"""

from __future__ import annotations

import os
import re

from ansible_collections.patchwise.patching.plugins.module_utils import apt_pending
from ansible_collections.patchwise.patching.plugins.module_utils.asset_runtime import parse_apt_simulation
from ansible_collections.patchwise.patching.plugins.module_utils.update_selection import last_lines

# No prompts; needrestart (when installed) only lists, the role restarts services itself.
APT_ENV = {'DEBIAN_FRONTEND': 'noninteractive', 'APT_LISTCHANGES_FRONTEND': 'none', 'NEEDRESTART_MODE': 'l',
           'NEEDRESTART_SUSPEND': '1', 'LC_ALL': 'C'}
_DPKG_QUERY_FORMAT = '${binary:Package}\\t${Version}\\t${db:Status-Abbrev}\\n'
_SIMULATED = re.compile(r'^(?P<op>Inst|Remv) (?P<name>\S+)(?: \[(?P<current>[^\]]+)\])?(?: \((?P<available>\S+)[^)]*\))?')


class AptError(RuntimeError):
    """apt or dpkg failed; the message carries the command and the end of its output."""


_DPKG_ERROR = re.compile(r'^dpkg: error processing (?:package|archive) (?P<name>\S+) \((?P<action>--[\w-]+)\):\s*$')


def dpkg_errors(output):
    """[(package, action, detail)] from the ``dpkg: error processing`` blocks of apt/dpkg output."""
    errors = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        match = _DPKG_ERROR.match(line)
        if match:
            detail = lines[index + 1].strip() if index + 1 < len(lines) else ''
            errors.append((match.group('name'), match.group('action'), detail))
    return errors


def explain_failure(output):
    """What went wrong, in one line: dpkg's per-package errors, else apt's last E: line, else the last line."""
    errors = dpkg_errors(output)
    if errors:
        return '; '.join('%s (%s): %s' % error for error in errors)
    messages = [line[3:].strip() for line in output.splitlines() if line.startswith('E: ')]
    if messages:
        return messages[-1]
    return last_lines(output, 1)


def parse_dpkg_query(text):
    """{package: version} of installed (or half-installed) packages from dpkg-query -W output."""
    installed = {}
    for line in text.splitlines():
        fields = line.split('\t')
        if len(fields) != 3:
            continue
        name, version, status = fields
        # Status-Abbrev: desired, current, error flags; current 'n' (not-installed) and 'c' (config-files) have no package.
        if len(status) >= 2 and status[1] not in ('n', 'c'):
            installed[name] = version
    return installed


def parse_simulated_changes(text):
    """[{name, from, to}] that ``apt-get -s install`` would make (Remv gives to=None)."""
    changes = []
    for line in text.splitlines():
        match = _SIMULATED.match(line)
        if not match:
            continue
        if match.group('op') == 'Remv':
            changes.append({'name': match.group('name'), 'from': match.group('current'), 'to': None})
        else:
            changes.append({'name': match.group('name'), 'from': match.group('current'), 'to': match.group('available')})
    return sorted(changes, key=lambda change: change['name'])


def parse_madison(text):
    """{name: [versions]} from ``apt-cache madison`` (``name | version | source``; source lines and duplicates left out)."""
    offered = {}
    for line in text.splitlines():
        fields = [field.strip() for field in line.split('|')]
        if len(fields) < 3 or fields[2].endswith('Sources'):
            continue
        versions = offered.setdefault(fields[0], [])
        if fields[1] not in versions:
            versions.append(fields[1])
    return offered


def reboot_required(run_dir='/var/run'):
    """(required, reasons, packages) from Debian's /var/run/reboot-required(.pkgs) that package scripts write."""
    flag = os.path.join(run_dir, 'reboot-required')
    if not os.path.exists(flag):
        return False, [], []
    packages = []
    try:
        with open(flag + '.pkgs', encoding='utf-8', errors='replace') as handle:
            packages = sorted({line.strip() for line in handle if line.strip()})
    except OSError:
        pass
    reason = '%s exists' % flag + (' (%s)' % ', '.join(packages) if packages else '')
    return True, [reason], packages


class AptBackend:
    """The apt side of system_update: what is installed, held, pending; install; repair."""

    name = 'apt'
    scheme = 'deb'
    hold_reason = 'held by the package manager (apt-mark hold)'

    def __init__(self, run, keep_config=True):
        self._run = run
        self._dpkg_options = ['-o', 'Dpkg::Options::=--force-confdef',
                              '-o', 'Dpkg::Options::=' + ('--force-confold' if keep_config else '--force-confnew')]

    def _checked(self, args):
        rc, out, err = self._run(args, APT_ENV)
        if rc != 0:
            raise AptError('%s failed (rc %s): %s' % (' '.join(args[:3]), rc, last_lines(err or out)))
        return out

    def installed(self):
        return parse_dpkg_query(self._checked(['dpkg-query', '-W', '-f', _DPKG_QUERY_FORMAT]))

    def holds(self):
        return sorted(line.strip() for line in self._checked(['apt-mark', 'showhold']).splitlines() if line.strip())

    def refresh(self):
        self._checked(['apt-get', 'update', '-q'])

    def pending(self):
        """Pending updates of a full upgrade, held packages included (apt-mark hold keeps them back, not away)."""
        updates = apt_pending.pending_updates()
        if updates is None:
            updates = parse_apt_simulation(self._checked(['apt-get', '-s', '-o', 'APT::Get::Show-User-Simulation-Note=false',
                                                          '--ignore-hold', 'dist-upgrade']))
        else:
            # A dist-upgrade keeps held packages back; they are still reported (held, not applied).
            listed = {update['name'] for update in updates}
            updates = updates + [u for u in apt_pending.held_updates(self.holds()) if u['name'] not in listed]
        return sorted(updates, key=lambda update: update['name'])

    def available_versions(self, names):
        """{name: [every version the sources offer]}: a plan's exact target may be older than the candidate."""
        offered = apt_pending.available_versions(names)
        if offered is None:
            offered = parse_madison(self._checked(['apt-cache', 'madison', *names]))
        return offered

    def _install_args(self, targets, simulate):
        args = ['apt-get', '-q', '-y', '--no-install-recommends', *self._dpkg_options]
        if simulate:
            args.append('-s')
        return args + ['install'] + ['%s=%s' % (target['name'], target['target']) for target in targets]

    def simulate(self, targets):
        """[{name, from, to}] that installing the targets would change, dependencies included."""
        return parse_simulated_changes(self._checked(self._install_args(targets, simulate=True)))

    def apply(self, targets):
        """Install the targets; returns (rc, output) -- a failure is the caller's to report and repair."""
        rc, out, err = self._run(self._install_args(targets, simulate=False), APT_ENV)
        return rc, (out + ('\n' + err if err else '')).strip()

    @staticmethod
    def explain(output):
        return explain_failure(output)

    def audit(self):
        """``dpkg --audit`` output: empty when every package is consistent."""
        _rc, out, err = self._run(['dpkg', '--audit'], APT_ENV)
        return (out + err).strip()

    def repair(self):
        """Finish interrupted configuration (``dpkg --configure -a``) and say whether dpkg is consistent after."""
        rc, out, err = self._run(['dpkg', '--configure', '-a'], APT_ENV)
        audit = self.audit()
        return {'command': 'dpkg --configure -a', 'rc': rc, 'output': last_lines(out + '\n' + err),
                'consistent': not audit, 'audit': last_lines(audit)}

    def reboot_required(self):
        return reboot_required()

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What asset_facts reads on a dnf host: packages with their source RPMs, pending updates with their
advisories and severities, and what needs a restart or a reboot (``dnf needs-restarting``).

``run(args, env)`` runs a command and returns (rc, stdout, stderr); ``root`` reads an installroot
(``dnf --installroot``, ``rpm --root``), as ``dnf_update.DnfBackend`` does.

Choices, and why:

- dnf runs from its cache only (``-C``) unless ``refresh()`` is called: discovery never downloads
  metadata unless asked to.
- An update's ``severity`` is the highest severity of the security advisories naming it, as
  ``dnf updateinfo list`` prints it (``Important/Sec.``).
- Reboot detection fails closed: when ``dnf needs-restarting -r`` is missing (dnf-plugins-core not
  installed) or fails, ``reboot_required`` is ``unknown``, not false, and the reason says why.
- Processes that need a restart are those ``dnf needs-restarting`` lists (a file they map belongs to
  a package installed after they started), with their systemd unit read from ``/proc/<pid>/cgroup``
  as the apt side does.  ``needs-restarting -s`` would ask systemd over D-Bus for the same units, and
  fails where systemd or python3-dbus is absent.
"""

from __future__ import annotations

import os
import re

from ansible_collections.patchwise.patching.plugins.module_utils import asset_runtime, asset_system
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import (
    DNF_ENV,
    REBOOT_UNKNOWN,
    dnf_command,
    parse_needs_restarting_reboot,
    rpm_command,
)
from ansible_collections.patchwise.patching.plugins.module_utils.update_selection import last_lines

# Red Hat's severity ratings, lowest first.
SEVERITIES = ('Low', 'Moderate', 'Important', 'Critical')
_PROCESS = re.compile(r'^\s*(?P<pid>\d+)\s+:\s')


class DnfDiscoveryError(RuntimeError):
    """A dnf or rpm query failed; the message names the command and the end of its output."""


def severities(updateinfo_text):
    """{(name, arch): {advisory id: severity}} of the security advisories in ``dnf updateinfo list`` output."""
    found = {}
    for key, advisories in asset_runtime.parse_dnf_updateinfo(updateinfo_text).items():
        for advisory in advisories:
            if advisory['security']:
                severity = advisory['type'].split('/', 1)[0]
                found.setdefault(key, {})[advisory['id']] = severity if severity in SEVERITIES else None
    return found


def highest(values):
    """The highest of Red Hat's severities among ``values``, or None when none is one."""
    ranked = [SEVERITIES.index(value) for value in values if value in SEVERITIES]
    return SEVERITIES[max(ranked)] if ranked else None


def parse_needs_restarting(output):
    """The process ids ``dnf needs-restarting`` lists (``PID : command line``), sorted."""
    return sorted({int(match.group('pid')) for match in map(_PROCESS.match, output.splitlines()) if match})


def _proc_text(proc, pid, name):
    with open(os.path.join(proc, str(pid), name), encoding='utf-8', errors='replace') as handle:
        return handle.read()


def describe_processes(pids, proc='/proc'):
    """[{pid, process, unit, libraries}] of the processes still running, in the shape of the apt side's entries."""
    processes = []
    for pid in pids:
        try:
            name = _proc_text(proc, pid, 'comm').strip()
            unit = asset_runtime.unit_from_cgroup(_proc_text(proc, pid, 'cgroup'))
        except OSError:
            continue  # it ended since dnf looked
        processes.append({'pid': pid, 'process': name, 'unit': unit, 'libraries': []})
    return processes


class DnfDiscovery:
    """The dnf host's side of asset_facts."""

    def __init__(self, run, root=None):
        self._run = run
        self._dnf = dnf_command(root)
        self._rpm = rpm_command(root)

    def _call(self, args):
        rc, out, err = self._run(args, DNF_ENV)
        return rc, out or '', err or ''

    def _checked(self, args, accepted=(0,), hint=''):
        rc, out, err = self._call(args)
        if rc not in accepted:
            raise DnfDiscoveryError('%s failed (rc=%d): %s%s' % (' '.join(args), rc, last_lines(err or out), hint))
        return out

    def packages(self):
        """The installed packages, each with its source RPM's name and version (asset_system.parse_rpm_query)."""
        return asset_system.parse_rpm_query(self._checked([*self._rpm, '-qa', '--queryformat', asset_system.RPM_QUERY_FORMAT]))

    def refresh(self):
        # No -y: discovery imports no repository key into the rpmdb; a new key is system_update's to accept.
        self._checked([*self._dnf, '-q', 'makecache'])

    def updates(self, packages=None):
        """Pending updates [{name, arch, current, available, security, origin, advisories, severity}]."""
        hint = ' (with no dnf cache yet, use update_cache=true)'
        # check-update exits 100 when updates are available, 0 when there are none.
        check_update = self._checked([*self._dnf, '-q', '-C', 'check-update'], accepted=(0, 100), hint=hint)
        updateinfo = self._checked([*self._dnf, '-q', '-C', 'updateinfo', 'list', '--updates'], hint=hint)
        if packages is None:
            packages = self.packages()
        rated = severities(updateinfo)
        updates = asset_runtime.dnf_updates(check_update, updateinfo, packages)
        for update in updates:
            update['severity'] = highest((rated.get((update['name'], update['arch'])) or {}).values())
        return updates

    def reboot(self):
        """(reboot_required, reasons): True, False, or ``unknown`` when ``dnf needs-restarting -r`` cannot tell."""
        rc, out, err = self._call([*self._dnf, '-q', 'needs-restarting', '-r'])
        required, reasons, _packages = parse_needs_restarting_reboot(rc, out + '\n' + err)
        return (REBOOT_UNKNOWN if required is None else required), reasons

    def processes(self, proc='/proc'):
        """(processes, problem): the processes ``dnf needs-restarting`` lists, or [] and why it could not list them."""
        rc, out, err = self._call([*self._dnf, '-q', 'needs-restarting'])
        if rc != 0:
            return [], 'dnf needs-restarting failed (rc %s): %s' % (rc, last_lines(err or out, 1))
        return describe_processes(parse_needs_restarting(out), proc), None

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Apply OS updates with dnf (dnf 4), unattended, and say exactly what changed.

The dnf side of system_update, with the interface of AptBackend.  ``run(args, env)``
runs a command and returns (rc, stdout, stderr).

Choices, and why:

- ``installed()`` keys packages by name only, as the apt side does: when several
  versions or arches of one name are installed (kernels, multilib), the value is the
  newest version, the one an update replaces.  ``gpg-pubkey`` entries are keys, not
  packages, and are left out.
- Versions are ``[epoch:]version-release``, the epoch only when non-zero, as dnf prints them.
- Held packages are the versionlock plugin's lock entries (``dnf versionlock list``) and
  the installed packages matching ``exclude=`` / ``excludepkgs=`` of dnf.conf's [main].
  They are still listed as pending (the listing disables excludes and versionlock) so the
  selection reports them as held; installing never disables either, so dnf itself
  refuses to touch them.
- rpm has no switch like dpkg's --force-confold: a locally modified
  ``%config(noreplace)`` file is kept and the package's version is written beside it as
  ``.rpmnew``.  That is ``keep_config=True``.  With ``keep_config=False`` the backend
  installs the ``.rpmnew`` of each changed package after the transaction and keeps the
  host's file as ``.rpmsave`` (what rpm does itself for a plain ``%config`` file).
- rpm treats a failed ``%post``/``%posttrans`` scriptlet as a warning: the package is
  installed, dnf prints "Error in POSTIN scriptlet in rpm package NAME" and exits 0.
  ``apply()`` reports such a run as failed (rc 1, the scriptlet errors first in the
  output), as a package whose set-up step failed is not a patched package.
- The audit is ``dnf check`` (dependency, duplicate and obsoletes problems in the rpmdb):
  what an interrupted transaction leaves behind.  ``rpm -Va`` is not used: it reports
  every edited configuration file, so it is never clean on a real host.
- The repair is ``dnf remove --duplicates`` when ``dnf check --duplicates`` finds any: rpm
  has no half-configured state to finish, and an interrupted upgrade leaves both versions
  in the rpmdb; removing the older duplicates completes it.
- ``root`` runs everything against an installroot (``dnf --installroot``, ``rpm --root``),
  with the root's own plugin configuration when it has an ``etc/dnf/plugins`` folder
  (dnf otherwise reads the plugin configuration, the versionlock list included, from the
  host).
"""

from __future__ import annotations

import configparser
import fnmatch
import os
import re

from ansible_collections.patchwise.patching.plugins.module_utils.asset_runtime import dnf_updates, newest_installed
from ansible_collections.patchwise.patching.plugins.module_utils.update_selection import last_lines
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

DNF_ENV = {'LC_ALL': 'C', 'LANG': 'C'}
# The epoch only when set, as dnf prints versions.
_RPM_QUERY_FORMAT = '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'
# Listing what is pending must see held packages too, so they are reported as held.
_SEE_HELD = ['--disableexcludes=all', '--disableplugin=versionlock']
_NO_UPDATES, _UPDATES = 0, 100
_SCRIPTLET_ERROR = re.compile(r'^(?:Error|Warning) in (?P<scriptlet>\S+) scriptlet in rpm package (?P<name>\S+)')
# name-[epoch:]version-release[.arch]: the version starts with a digit, so a bare name with hyphens stays a name.
_LOCK_ENTRY = re.compile(r'^(?P<name>.+?)-(?:\d+:)?\d[^-:]*-[^-]+$')
_TRANSACTION_SECTION = re.compile(r'^(?P<action>Installing|Upgrading|Downgrading|Reinstalling|Removing)\b.*:$')
_GLOB_CHARACTERS = set('*?[')
# A reboot need that dnf needs-restarting could not tell: never read as "no reboot needed".
REBOOT_UNKNOWN = 'unknown'


def dnf_command(root=None):
    """The dnf command line for the host, or for an installroot with its own plugin configuration when it has one."""
    command = ['dnf']
    if root:
        command.append('--installroot=%s' % root)
        plugin_config = os.path.join(root, 'etc', 'dnf', 'plugins')
        if os.path.isdir(plugin_config):
            command.append('--setopt=pluginconfpath=%s' % plugin_config)
    return command


def rpm_command(root=None):
    return ['rpm', '--root', root] if root else ['rpm']


class DnfError(RuntimeError):
    """dnf or rpm failed; the message carries the command and the end of its output."""


def package_spec(name, version):
    """The dnf spec of one version of a package: ``name-[epoch:]version-release``."""
    return '%s-%s' % (name, version)


def parse_rpm_query(text):
    """[{name, version, arch}] from ``rpm -qa --qf`` with the backend's query format (gpg-pubkey left out)."""
    packages = []
    for line in text.splitlines():
        fields = line.split('\t')
        if len(fields) != 3 or fields[0] == 'gpg-pubkey':
            continue
        packages.append({'name': fields[0], 'version': fields[1], 'arch': fields[2]})
    return packages


def newest_by_name(packages):
    """{name: newest version} over all installed versions and arches of each name."""
    newest = {}
    for (name, _arch), version in newest_installed(packages).items():
        if name not in newest or compare_versions(version, newest[name], 'rpm') > 0:
            newest[name] = version
    return newest


def parse_versionlock_list(text):
    """Package names or name patterns locked by ``dnf versionlock list`` (``!`` exclude entries left out).

    An exclude entry (``dnf versionlock exclude``) bars one version, it does not hold the package.
    """
    names = []
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith('#') or entry.startswith('!') or ' ' in entry:
            continue
        if entry.endswith('.*'):
            entry = entry[:-2]
        match = _LOCK_ENTRY.match(entry)
        if match:
            entry = match.group('name')
        names.append(entry)
    return names


def config_excludes(text):
    """The package patterns of ``exclude=`` and ``excludepkgs=`` in the [main] section of a dnf.conf."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(text)
    if not parser.has_section('main'):
        return []
    patterns = []
    for option in ('exclude', 'excludepkgs'):
        value = parser.get('main', option, fallback='')
        patterns.extend(part for part in re.split(r'[\s,]+', value) if part)
    return patterns


def names_matching(patterns, names):
    """The names that the (shell-style) patterns match; a plain name counts even when not installed."""
    matched = set()
    for pattern in patterns:
        if not _GLOB_CHARACTERS & set(pattern):
            matched.add(pattern)
        matched.update(name for name in names if fnmatch.fnmatchcase(name, pattern))
    return matched


def parse_transaction(text):
    """[(action, name, version)] from the transaction table dnf prints before asking to go on.

    dnf wraps a long package name onto a line of its own; such a line is joined with the next one.
    """
    rows = []
    action = None
    carried = []
    for line in text.splitlines():
        stripped = line.strip()
        section = _TRANSACTION_SECTION.match(stripped)
        if section and not line.startswith(' '):
            action, carried = section.group('action'), []
            continue
        if action is None:
            continue
        if not line.startswith(' ') or not stripped:
            action, carried = None, []
            continue
        fields = carried + stripped.split()
        if fields[0] == 'replacing':
            carried = []
            continue
        if len(fields) < 5:
            carried = fields
            continue
        carried = []
        rows.append((action, fields[0], fields[2]))
    return rows


def transaction_changes(text, installed):
    """[{name, from, to}] of a dnf transaction table, with the current versions from ``installed``."""
    changes = {}
    for action, name, version in parse_transaction(text):
        if action == 'Removing':
            changes[name] = {'name': name, 'from': installed.get(name), 'to': None}
        else:
            changes[name] = {'name': name, 'from': installed.get(name), 'to': version}
    return [changes[name] for name in sorted(changes)]


def scriptlet_errors(output):
    """[(scriptlet, package)] of the scriptlets rpm reported as failed (dnf still exits 0 for %post)."""
    errors = []
    for line in output.splitlines():
        match = _SCRIPTLET_ERROR.match(line.strip())
        if match:
            errors.append((match.group('scriptlet'), match.group('name')))
    return errors


def explain_failure(output):
    """What went wrong, in one line: the failed scriptlets, else dnf's Error: lines, else the last line."""
    errors = scriptlet_errors(output)
    if errors:
        return '; '.join('%s scriptlet of %s failed' % error for error in errors)
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith('Error:'):
            detail = ' '.join(part.strip() for part in [line[6:], *lines[index + 1:index + 4]] if part.strip())
            return detail
    return last_lines(output, 1)


def parse_repoquery_versions(text):
    """{name: [versions]} from ``dnf repoquery --qf '%{name} %{evr}'`` (dnf prints the epoch only when it is set)."""
    offered = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 2:
            continue
        versions = offered.setdefault(fields[0], [])
        if fields[1] not in versions:
            versions.append(fields[1])
    return offered


def parse_needs_restarting_reboot(rc, output):
    """(required, reasons, packages) from ``dnf needs-restarting -r`` (rc 1 and a package list when required)."""
    packages = sorted({line.strip()[2:].strip() for line in output.splitlines() if line.strip().startswith('* ')})
    if rc == 0:
        return False, [], []
    if 'Reboot is required' in output:
        reason = 'dnf needs-restarting -r: core libraries or services updated since boot-up'
        return True, [reason + (' (%s)' % ', '.join(packages) if packages else '')], packages
    # Two lines: dnf follows "No such command" with how to install the plugin.
    return None, ['dnf needs-restarting -r could not tell (rc %s): %s' % (rc, last_lines(output, 2))], []


class DnfBackend:
    """The dnf side of system_update: what is installed, held, pending; install; repair."""

    name = 'dnf'
    scheme = 'rpm'
    hold_reason = 'held by the package manager (dnf versionlock or exclude)'

    def __init__(self, run, keep_config=True, root=None):
        self._run = run
        self._keep_config = keep_config
        self._root = root
        self._dnf = dnf_command(root)
        self._rpm = rpm_command(root)

    def _path(self, path):
        """A path of the managed system, inside the installroot when there is one."""
        return os.path.join(self._root, path.lstrip('/')) if self._root else path

    def _call(self, args):
        rc, out, err = self._run(args, DNF_ENV)
        return rc, out or '', err or ''

    def _checked(self, args, accepted=(0,)):
        rc, out, err = self._call(args)
        if rc not in accepted:
            raise DnfError('%s failed (rc %s): %s' % (' '.join(args), rc, last_lines(err or out)))
        return out

    def _packages(self):
        return parse_rpm_query(self._checked([*self._rpm, '-qa', '--qf', _RPM_QUERY_FORMAT]))

    def installed(self):
        return newest_by_name(self._packages())

    def _config_file(self):
        # dnf reads the configuration of an installroot from inside it when it has one.
        inside = self._path('/etc/dnf/dnf.conf')
        return inside if os.path.exists(inside) or not self._root else '/etc/dnf/dnf.conf'

    def holds(self):
        """Versionlocked packages and installed packages that dnf.conf's [main] excludes, sorted."""
        rc, out, err = self._call([*self._dnf, '-q', 'versionlock', 'list'])
        if rc == 0:
            patterns = parse_versionlock_list(out)
        elif 'No such command' in err + out:
            patterns = []  # the versionlock plugin is not installed: nothing can be locked
        else:
            raise DnfError('dnf versionlock list failed (rc %s): %s' % (rc, last_lines(err or out)))
        try:
            with open(self._config_file(), encoding='utf-8') as handle:
                patterns += config_excludes(handle.read())
        except FileNotFoundError:
            pass
        except (OSError, configparser.Error) as exc:
            raise DnfError('cannot read the excludes of %s: %s' % (self._config_file(), exc)) from exc
        return sorted(names_matching(patterns, self.installed()))

    def refresh(self):
        # -y: the keys of a repository's gpgkey= are imported without a prompt, as dnf -y install does.
        self._checked([*self._dnf, '-y', '-q', 'makecache'])

    def pending(self):
        """Pending updates with their security flag from updateinfo; held and excluded ones included."""
        check_update = self._checked([*self._dnf, '-q', 'check-update', *_SEE_HELD], accepted=(_NO_UPDATES, _UPDATES))
        updateinfo = self._checked([*self._dnf, '-q', 'updateinfo', 'list', '--updates', *_SEE_HELD])
        updates = dnf_updates(check_update, updateinfo, self._packages())
        return sorted(updates, key=lambda update: (update['name'], update['arch']))

    def available_versions(self, names):
        """{name: [every version the repositories offer]}: a plan's exact target may be older than the newest."""
        out = self._checked([*self._dnf, '-q', 'repoquery', '--available', '--qf', '%{name} %{evr}', *_SEE_HELD, *names])
        return parse_repoquery_versions(out)

    def _install_args(self, targets):
        # install_weak_deps=False: the counterpart of apt's --no-install-recommends.
        return self._dnf + ['--setopt=install_weak_deps=False', 'install'] + [
            package_spec(target['name'], target['target']) for target in targets]

    def simulate(self, targets):
        """[{name, from, to}] that installing the targets would change, dependencies included; changes nothing."""
        args = [*self._dnf[:1], '--assumeno', *self._install_args(targets)[1:]]
        rc, out, err = self._call(args)
        # --assumeno answers the question with no: dnf then exits 1 with "Operation aborted."
        if rc != 0 and 'Operation aborted' not in err + out:
            raise DnfError('%s failed (rc %s): %s' % (' '.join(args), rc, explain_failure(err or out)))
        return transaction_changes(out, self.installed())

    def apply(self, targets):
        """Install the targets; returns (rc, output), rc 1 when dnf exited 0 but a scriptlet failed."""
        before = self.installed() if not self._keep_config else None
        rc, out, err = self._call([*self._dnf[:1], '-y', *self._install_args(targets)[1:]])
        output = (out + ('\n' + err if err else '')).strip()
        failed_scriptlets = scriptlet_errors(output)
        if rc == 0 and failed_scriptlets:
            rc = 1
            output = 'dnf exited 0, but rpm reported failed scriptlets: %s\n%s' % (
                ', '.join('%s of %s' % error for error in failed_scriptlets), output)
        if before is not None:
            changed = sorted(name for name, version in self.installed().items() if before.get(name) != version)
            replaced = self._install_new_configs(changed)
            if replaced:
                output += '\nInstalled the packages\' configuration (host version kept as .rpmsave): %s' % ', '.join(replaced)
        return rc, output

    def _install_new_configs(self, names):
        """Put each changed package's .rpmnew in place, keeping the host's file as .rpmsave (keep_config=False)."""
        if not names:
            return []
        rc, out, _err = self._call([*self._rpm, '-qc', *names])
        replaced = []
        for line in out.splitlines() if rc == 0 else []:
            path = line.strip()
            if not path.startswith('/'):
                continue
            target = self._path(path)
            if os.path.exists(target + '.rpmnew'):
                if os.path.exists(target):
                    os.replace(target, target + '.rpmsave')
                os.replace(target + '.rpmnew', target)
                replaced.append(path)
        return replaced

    @staticmethod
    def explain(output):
        return explain_failure(output)

    def audit(self):
        """The problems ``dnf check`` reports (exit status 1), empty when the rpmdb is consistent.

        Warnings dnf prints with a zero exit status (an undetectable release version) are not problems.
        """
        rc, out, err = self._call([*self._dnf, '-q', 'check'])
        return '' if rc == 0 else ((out + err).strip() or 'dnf check failed (rc %s)' % rc)

    def repair(self):
        """Remove the older duplicates an interrupted transaction leaves, and say whether the rpmdb is consistent after.

        ``dnf remove --duplicates`` fails when there is nothing to remove, so it runs only when
        ``dnf check --duplicates`` finds some; otherwise the repair is the check alone.
        """
        rc, out, err = self._call([*self._dnf, '-q', 'check', '--duplicates'])
        if rc == 0:
            command, output = 'dnf check --duplicates', 'no duplicated packages'
        else:
            command = 'dnf -y remove --duplicates'
            rc, out, err = self._call([*self._dnf, '-y', 'remove', '--duplicates'])
            output = last_lines(out + '\n' + err)
        audit = self.audit()
        return {'command': command, 'rc': rc, 'output': output, 'consistent': not audit, 'audit': last_lines(audit)}

    def reboot_required(self):
        """(required, reasons, packages) from ``dnf needs-restarting -r``; required is ``unknown`` (REBOOT_UNKNOWN)
        when it is missing or fails, with the reason: an undetermined need is not "no reboot needed"."""
        rc, out, err = self._call([*self._dnf, '-q', 'needs-restarting', '-r'])
        required, reasons, packages = parse_needs_restarting_reboot(rc, out + '\n' + err)
        return (REBOOT_UNKNOWN if required is None else required), reasons, packages

    def services_needing_restart(self):
        """Sorted systemd units whose processes use files that updates replaced (``dnf needs-restarting -s``)."""
        out = self._checked([*self._dnf, '-q', 'needs-restarting', '-s'])
        return sorted({line.strip() for line in out.splitlines() if line.strip()})

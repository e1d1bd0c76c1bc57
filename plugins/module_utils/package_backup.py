# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which packages a host has, saving the installed ones as package files, and installing them back.

``run(args, env=None, cwd=None)`` runs a command and returns (rc, stdout, stderr): the module
passes AnsibleModule.run_command, tests the real thing. Runs on managed hosts: standard library,
Python 3.9.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible_collections.patchwise.patching.plugins.module_utils import deb_rebuild
from ansible_collections.patchwise.patching.plugins.module_utils.apt_update import APT_ENV, explain_failure
from ansible_collections.patchwise.patching.plugins.module_utils.backup_manifest import BackupError, make_private
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import dnf_command, rpm_command
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import explain_failure as explain_dnf_failure

_DPKG_QUERY_FORMAT = '${binary:Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n'
_RPM_QUERY_FORMAT = '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'


def last_lines(text, count=5):
    lines = [line for line in (text or '').strip().splitlines() if line.strip()]
    return ' | '.join(lines[-count:])


def _checked(run, args, env=None, cwd=None):
    rc, out, err = run(args, env=env, cwd=cwd)
    if rc != 0:
        raise BackupError('%s failed (rc %s): %s' % (' '.join(args[:3]), rc, last_lines(err or out)))
    return out


def base_name(name):
    return name.split(':', 1)[0]


def names(entry, requested):
    """Whether ``requested`` names the entry: as dpkg spells it, without architecture, or as ``name:arch``."""
    name = base_name(entry['name'])
    return requested in (entry['name'], name, '%s:%s' % (name, entry['arch']))


def resolve(requested, selection):
    """(installed entries to save, by name; requested names not installed) for names with or without ``:arch``."""
    chosen, absent = [], []
    for name in requested:
        matches = [entry for entry in selection if names(entry, name) and entry['installed']]
        if not matches:
            absent.append(name)
        chosen.extend(entry for entry in matches if entry not in chosen)
    return sorted(chosen, key=lambda entry: (entry['name'], entry['arch'])), absent


def package_file_name(entry, extension):
    """``<name>_<version>_<arch>.<ext>``, the epoch's colon spelled %3a as apt's archive cache does."""
    return '%s_%s_%s.%s' % (base_name(entry['name']), entry['version'].replace(':', '%3a'), entry['arch'], extension)


def _single_download(directory, extension):
    found = [name for name in os.listdir(directory) if name.endswith('.' + extension)]
    return os.path.join(directory, found[0]) if len(found) == 1 else None


class _Packages:
    """What every package backend shares: the command runner, whether to download, installed versions by name."""

    def __init__(self, run, download=True):
        self._run = run
        self._download = download

    def selection(self):
        raise NotImplementedError

    def installed_versions(self):
        return {entry['name']: entry['version'] for entry in self.selection() if entry['installed']}


class AptPackages(_Packages):
    """dpkg/apt: the selection, the installed .deb files (downloaded or rebuilt), their reinstallation."""

    name = 'apt'
    extension = 'deb'

    def selection(self):
        """[{name, version, arch, status, held, installed}] of every package dpkg knows, by name."""
        holds = {line.strip() for line in _checked(self._run, ['apt-mark', 'showhold'], APT_ENV).splitlines() if line.strip()}
        entries = []
        for line in _checked(self._run, ['dpkg-query', '-W', '-f', _DPKG_QUERY_FORMAT], APT_ENV).splitlines():
            fields = line.split('\t')
            if len(fields) != 4:
                continue
            name, version, arch, status = fields
            # Status-Abbrev: desired, current, error; a current state of 'i' is a fully unpacked and configured package.
            entries.append({'name': name, 'version': version, 'arch': arch, 'status': status.strip(),
                            'held': name in holds or base_name(name) in holds, 'installed': status[1:2] == 'i'})
        return sorted(entries, key=lambda entry: (entry['name'], entry['arch']))

    def _fields(self, path):
        out = _checked(self._run, ['dpkg-deb', '--field', path, 'Package', 'Version', 'Architecture'])
        fields = dict(line.split(': ', 1) for line in out.splitlines() if ': ' in line)
        return fields.get('Package'), fields.get('Version'), fields.get('Architecture')

    def _try_download(self, entry, scratch):
        """The archive's .deb of exactly the installed version, or None when the archive no longer has it."""
        spec = '%s=%s' % (entry['name'] if ':' in entry['name'] else '%s:%s' % (entry['name'], entry['arch']), entry['version'])
        rc, _out, _err = self._run(['apt-get', '-q', 'download', spec], env=APT_ENV, cwd=scratch)
        path = _single_download(scratch, self.extension) if rc == 0 else None
        if path and self._fields(path) == (base_name(entry['name']), entry['version'], entry['arch']):
            return path
        return None

    def save(self, entry, target_dir, work_dir):
        """Save the installed package into ``target_dir``; returns (file name, source, detail)."""
        file_name = package_file_name(entry, self.extension)
        target = os.path.join(target_dir, file_name)
        scratch = tempfile.mkdtemp(dir=work_dir)
        try:
            downloaded = self._try_download(entry, scratch) if self._download else None
            if downloaded:
                shutil.move(downloaded, target)
                source, detail = 'downloaded', {}
            else:
                result = deb_rebuild.rebuild(entry['name'], self._run, scratch, target)
                if self._fields(target) != (base_name(entry['name']), entry['version'], entry['arch']):
                    raise BackupError('%s: the rebuilt %s does not carry %s %s %s' % (entry['name'], target, entry['name'],
                                                                                      entry['version'], entry['arch']))
                source, detail = 'rebuilt', {'skipped_files': result['skipped']}
        except deb_rebuild.RebuildError as exc:
            raise BackupError(str(exc)) from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        make_private(target)
        return file_name, source, detail

    def install(self, files):
        """Install saved .deb files, downgrades allowed, configuration kept; dependencies resolved by apt.

        ``--no-remove``: a rollback that would have to remove packages stops instead of removing them.
        """
        args = ['apt-get', '-q', '-y', '--allow-downgrades', '--no-remove', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120',
                '-o', 'Dpkg::Options::=--force-confold', '-o', 'Dpkg::Options::=--force-confdef', 'install', *files]
        rc, out, err = self._run(args, env=APT_ENV)
        if rc != 0:
            raise BackupError('apt-get install of the saved packages failed (rc %s): %s' % (rc, explain_failure(out + '\n' + err)))


class DnfPackages(_Packages):
    """rpm/dnf: the selection, the installed .rpm files when the repositories still have them, their reinstallation.

    ``root``: an installroot (``dnf --installroot``, ``rpm --root``), as dnf_update.DnfBackend takes it.
    """

    name = 'dnf'
    extension = 'rpm'

    def __init__(self, run, download=True, root=None):
        super().__init__(run, download)
        self._dnf = dnf_command(root)
        self._rpm = rpm_command(root)

    def _locks(self):
        rc, out, _err = self._run([*self._dnf, '-q', 'versionlock', 'list'], env={'LC_ALL': 'C'})
        # Without the versionlock plugin nothing is locked; its entries read name-[epoch:]version-release.arch.
        return {line.strip() for line in out.splitlines() if line.strip()} if rc == 0 else set()

    def selection(self):
        locks = self._locks()
        entries = []
        for line in _checked(self._run, [*self._rpm, '-qa', '--qf', _RPM_QUERY_FORMAT], {'LC_ALL': 'C'}).splitlines():
            fields = line.split('\t')
            # gpg-pubkey entries are the rpmdb's keys, not packages.
            if len(fields) != 3 or fields[0] == 'gpg-pubkey':
                continue
            name, version, arch = fields
            # A lock of this package, not of one whose name only begins the same ('foo' and 'foo-libs').
            held = any(lock.startswith(name + '-') and lock[len(name) + 1:len(name) + 2].isdigit() for lock in locks)
            entries.append({'name': name, 'version': version, 'arch': arch, 'status': 'installed', 'held': held, 'installed': True})
        return sorted(entries, key=lambda entry: (entry['name'], entry['arch']))

    def save(self, entry, target_dir, work_dir):
        """``dnf download`` of the installed NEVRA; rpm has no rebuild, so an absent one is recorded unavailable."""
        if not self._download:
            return None, 'unavailable', {'reason': 'downloads disabled'}
        scratch = tempfile.mkdtemp(dir=work_dir)
        try:
            nevra = '%s-%s.%s' % (entry['name'], entry['version'], entry['arch'])
            rc, out, err = self._run([*self._dnf, '-q', 'download', '--destdir', scratch, nevra], env={'LC_ALL': 'C'})
            path = _single_download(scratch, self.extension) if rc == 0 else None
            if not path:
                return None, 'unavailable', {'reason': last_lines(err or out, 2) or 'not in the enabled repositories'}
            file_name = package_file_name(entry, self.extension)
            shutil.move(path, os.path.join(target_dir, file_name))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        make_private(os.path.join(target_dir, file_name))
        return file_name, 'downloaded', {}

    def install(self, files):
        """Put the saved .rpm files back: ``dnf downgrade``, else ``rpm -Uvh --oldpackage``.

        dnf resolves dependencies and checks the files' signatures; it also loads the repositories'
        metadata, so when it fails (an unreachable repository during an outage) rpm installs the files
        alone, in one transaction, with its own dependency check.  Nothing is removed either way.
        """
        rc, out, err = self._run([*self._dnf, '-y', '-q', '--setopt=install_weak_deps=False', 'downgrade', *files], env={'LC_ALL': 'C'})
        if rc == 0:
            return
        dnf_failure = explain_dnf_failure(out + '\n' + err)
        rc, out, err = self._run([*self._rpm, '-Uvh', '--oldpackage', *files], env={'LC_ALL': 'C'})
        if rc != 0:
            raise BackupError('restoring the saved rpm packages failed: dnf downgrade: %s; rpm -Uvh --oldpackage (rc %s): %s'
                              % (dnf_failure, rc, last_lines(err or out, 3)))


def backend(manager, run, download=True, root=None):
    """The package backend for ``manager`` (auto: apt when apt-get exists, else dnf); ``root``: a dnf installroot."""
    if root and manager != 'dnf':
        raise BackupError('an installroot is only supported with the dnf package manager')
    if manager == 'auto':
        manager = 'apt' if shutil.which('apt-get') else ('dnf' if shutil.which('dnf') else None)
    if manager == 'apt':
        return AptPackages(run, download)
    if manager == 'dnf':
        return DnfPackages(run, download, root)
    raise BackupError('no supported package manager on this host (apt-get or dnf)')

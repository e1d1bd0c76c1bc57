"""system_backup against this Debian host's real dpkg and apt.

A throwaway package, pw-backup-test, is built in two versions with dpkg-deb, version 1.0 installed,
backed up (the archive does not have it: the .deb is rebuilt), version 2.0 installed over it, and
restored: 1.0 runs again, with the configuration as it was on disk. The package is purged at the
end even when a test fails. netbase (always installed) serves the plain backup-and-verify run.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import backup_manifest
from ansible_collections.patchwise.patching.plugins.modules import system_backup
from ansible_collections.patchwise.patching.tests.unit.controller.dpkg_lock import machine_packages_held
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module

PACKAGE = 'pw-backup-test'
# Needs pw-backup-test 2.0: rolling pw-backup-test back would have to remove it.
DEPENDENT = 'pw-backup-test-user'
APT = ['apt-get', '-q', '-y', '-o', 'DPkg::Lock::Timeout=120', '-o', 'Dpkg::Options::=--force-confold']
ENV = dict(os.environ, DEBIAN_FRONTEND='noninteractive', LC_ALL='C')
# One test at a time installs the throwaway package, across pytest workers and concurrent runs.


def _version(package=PACKAGE):
    process = subprocess.run(['dpkg-query', '-W', '-f', '${Version} ${db:Status-Abbrev}', package], capture_output=True, text=True,
                             check=False)
    return process.stdout.split()[0] if process.returncode == 0 and process.stdout.split()[1:2] == ['ii'] else None


def _build(directory, version):
    """pw-backup-test <version>: a data file, a conffile and a postinst that records its run."""
    tree = directory / ('tree-' + version)
    (tree / 'DEBIAN').mkdir(parents=True)
    (tree / 'DEBIAN').chmod(0o755)
    (tree / 'DEBIAN' / 'control').write_text(
        'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: patchwise tests <dev@example.org>\n'
        'Priority: optional\nSection: misc\nDepends: base-files\nDescription: system_backup test package\n'
        ' Installed and purged by tests/unit/controller/test_system_backup_dpkg.py.\n' % (PACKAGE, version))
    (tree / 'DEBIAN' / 'conffiles').write_text('/etc/pw-backup-test.conf\n')
    (tree / 'DEBIAN' / 'postinst').write_text('#!/bin/sh\nset -e\necho "$1 %s" > /var/lib/pw-backup-test.postinst\n' % version)
    (tree / 'DEBIAN' / 'postinst').chmod(0o755)
    (tree / 'DEBIAN' / 'postrm').write_text('#!/bin/sh\nset -e\n[ "$1" != purge ] || rm -f /var/lib/pw-backup-test.postinst\n')
    (tree / 'DEBIAN' / 'postrm').chmod(0o755)
    (tree / 'etc').mkdir()
    (tree / 'etc' / 'pw-backup-test.conf').write_text('setting = %s\n' % version)
    (tree / 'usr' / 'share' / PACKAGE).mkdir(parents=True)
    (tree / 'usr' / 'share' / PACKAGE / 'version').write_text(version + '\n')
    output = directory / ('%s_%s_all.deb' % (PACKAGE, version))
    subprocess.run(['dpkg-deb', '--root-owner-group', '--build', str(tree), str(output)], check=True, capture_output=True)
    return str(output)


def _build_dependent(directory):
    tree = directory / 'tree-dependent'
    (tree / 'DEBIAN').mkdir(parents=True)
    (tree / 'DEBIAN').chmod(0o755)
    (tree / 'DEBIAN' / 'control').write_text(
        'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: patchwise tests <dev@example.org>\n'
        'Depends: %s (>= 2.0)\nDescription: needs pw-backup-test 2.0\n' % (DEPENDENT, PACKAGE))
    output = directory / ('%s_1.0_all.deb' % DEPENDENT)
    subprocess.run(['dpkg-deb', '--root-owner-group', '--build', str(tree), str(output)], check=True, capture_output=True)
    return str(output)


def _install(deb):
    subprocess.run([*APT, 'install', deb], check=True, capture_output=True, env=ENV)


def _purge():
    """dpkg --purge, waiting (up to 2 minutes) while another dpkg or apt holds the lock."""
    for _attempt in range(60):
        process = subprocess.run(['dpkg', '--purge', DEPENDENT, PACKAGE], capture_output=True, text=True, env=ENV, check=False)
        if 'lock' not in process.stderr:
            return
        time.sleep(2)


@pytest.fixture
def throwaway(tmp_path):
    with machine_packages_held():
        yield from _installed_and_purged(tmp_path)


def _installed_and_purged(tmp_path):
    _purge()  # a run killed before its teardown may have left them
    debs = {version: _build(tmp_path, version) for version in ('1.0', '2.0')}
    debs['dependent'] = _build_dependent(tmp_path)
    try:
        yield debs
    finally:
        _purge()
        if os.path.exists('/etc/pw-backup-test.conf'):
            os.remove('/etc/pw-backup-test.conf')
    assert _version() is None and _version(DEPENDENT) is None


def test_restore_downgrades_to_the_rebuilt_package(throwaway, tmp_path):
    _install(throwaway['1.0'])
    with open('/etc/pw-backup-test.conf', 'w') as handle:
        handle.write('setting = changed by the admin\n')
    args = {'path': str(tmp_path / 'backups'), 'run_id': 'restore-test', 'packages': [PACKAGE], 'paths': [str(tmp_path / 'tree-1.0')]}
    made = run_module(system_backup.main, args)
    assert not made.failed, made.result.get('msg')
    saved, = made.result['backup']['packages']
    assert (saved['name'], saved['version'], saved['source']) == (PACKAGE, '1.0', 'rebuilt')

    _install(throwaway['2.0'])
    assert _version() == '2.0'
    planned = run_module(system_backup.main, dict(args, state='restored'), check_mode=True)
    assert not planned.failed and planned.result['changed'] is True
    assert planned.result['restored'] == [{'name': PACKAGE, 'from': '2.0', 'to': '1.0'}]
    assert _version() == '2.0', 'check mode installs nothing'

    restored = run_module(system_backup.main, dict(args, state='restored'))
    assert not restored.failed, restored.result.get('msg')
    assert restored.result['changed'] is True and restored.result['restored'] == [{'name': PACKAGE, 'from': '2.0', 'to': '1.0'}]
    assert _version() == '1.0'
    with open('/usr/share/pw-backup-test/version') as handle:
        assert handle.read() == '1.0\n'
    with open('/var/lib/pw-backup-test.postinst') as handle:
        assert handle.read().split() == ['configure', '1.0'], 'the saved maintainer script ran'
    with open('/etc/pw-backup-test.conf') as handle:
        assert handle.read() == 'setting = changed by the admin\n'

    again = run_module(system_backup.main, dict(args, state='restored'))
    assert not again.failed and again.result['changed'] is False and again.result['restored'] == []


def test_restore_refuses_a_tampered_package_file(throwaway, tmp_path):
    _install(throwaway['1.0'])
    args = {'path': str(tmp_path / 'backups'), 'run_id': 'tamper-test', 'packages': [PACKAGE], 'paths': [str(tmp_path / 'tree-1.0')],
            'download': False}
    assert not run_module(system_backup.main, args).failed
    _install(throwaway['2.0'])
    deb = os.path.join(args['path'], 'tamper-test', 'packages', '%s_1.0_all.deb' % PACKAGE)
    with open(deb, 'r+b') as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 0xFF]))
    outcome = run_module(system_backup.main, dict(args, state='restored'))
    assert outcome.failed and deb + ' does not match its SHA-256' in outcome.result['msg']
    assert _version() == '2.0'


def test_backup_of_an_installed_package_and_etc_verifies(tmp_path):
    args = {'path': str(tmp_path / 'backups'), 'run_id': 'netbase-test', 'packages': ['netbase', 'pw-not-installed'],
            'download': False}
    planned = run_module(system_backup.main, args, check_mode=True)
    assert not planned.failed and planned.result['changed'] is True and not os.path.exists(args['path'])
    assert planned.result['backup']['packages'][0]['name'] == 'netbase' and planned.result['backup']['paths'] == {'/etc': 'etc.tar.gz'}
    made = run_module(system_backup.main, args)
    assert not made.failed, made.result.get('msg')
    directory = made.result['backup']['dir']
    assert made.result['not_installed'] == ['pw-not-installed']
    assert sorted(os.listdir(directory)) == ['etc.tar.gz', 'manifest.json', 'packages', 'selection.json']
    listed = subprocess.run(['tar', '-tzf', os.path.join(directory, 'etc.tar.gz')], capture_output=True, text=True, check=True)
    assert 'etc/shadow' in listed.stdout.splitlines() and 'etc/services' in listed.stdout.splitlines()
    assert backup_manifest.problems(directory) == []
    deb = os.path.join(directory, made.result['backup']['packages'][0]['file'])
    fields = subprocess.run(['dpkg-deb', '--field', deb, 'Package', 'Version'], capture_output=True, text=True, check=True)
    installed = subprocess.run(['dpkg-query', '-W', '-f', 'Package: ${Package}\nVersion: ${Version}\n', 'netbase'],
                               capture_output=True, text=True, check=True)
    assert fields.stdout == installed.stdout
    verified = run_module(system_backup.main, dict(args, state='verified'))
    assert not verified.failed and verified.result['backup']['files'] == made.result['backup']['files'] == 3


def test_a_rollback_that_would_remove_packages_stops_instead(throwaway, tmp_path):
    _install(throwaway['1.0'])
    args = {'path': str(tmp_path / 'backups'), 'run_id': 'no-remove-test', 'packages': [PACKAGE], 'paths': [str(tmp_path / 'tree-1.0')],
            'download': False}
    assert not run_module(system_backup.main, args).failed
    _install(throwaway['2.0'])
    _install(throwaway['dependent'])
    outcome = run_module(system_backup.main, dict(args, state='restored'))
    assert outcome.failed
    assert 'Packages need to be removed but remove is disabled' in outcome.result['msg']
    assert 'still not at the saved version: %s (2.0, saved 1.0)' % PACKAGE in outcome.result['msg']
    assert outcome.result['changed'] is False and outcome.result['restored'] == []
    assert (_version(), _version(DEPENDENT)) == ('2.0', '1.0')

"""rpm rollback on the dnf installroot test host: back up, update, restore the saved packages (old EVR back)."""

from __future__ import annotations

import os
import subprocess

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import system_backup
from ansible_collections.patchwise.patching.plugins.module_utils.backup_manifest import BackupError
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import DnfBackend
from ansible_collections.patchwise.patching.plugins.module_utils.package_backup import DnfPackages, backend
from ansible_collections.patchwise.patching.tests.unit.controller.dnf_installroot import run

UPDATES = [{'name': 'pw-demo-security', 'target': '1.0-2'}, {'name': 'pw-demo-normal', 'target': '1.1-1'}]


def run_in(args, env=None, cwd=None):
    """package_backup's runner: a command's (rc, stdout, stderr), in ``cwd``."""
    process = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(env or {})), cwd=cwd, check=False)
    return process.returncode, process.stdout, process.stderr


@pytest.fixture()
def updated(root, tmp_path):
    """(backups folder, packages backend): pw-demo-security and pw-demo-normal saved, then updated by system_update's backend."""
    packages = DnfPackages(run_in, root=str(root))
    backups = str(tmp_path / 'backups')
    made = system_backup.create(backups, 'run-1', packages, packages=['pw-demo-security', 'pw-demo-normal'])
    assert [(p['name'], p['version'], p['source'], p['file']) for p in made['backup']['packages']] == [
        ('pw-demo-normal', '1.0-1', 'downloaded', 'packages/pw-demo-normal_1.0-1_noarch.rpm'),
        ('pw-demo-security', '1.0-1', 'downloaded', 'packages/pw-demo-security_1.0-1_noarch.rpm')]
    rc, output = DnfBackend(run, root=str(root)).apply(UPDATES)
    assert rc == 0, output
    assert {name: packages.installed_versions()[name] for name in ('pw-demo-security', 'pw-demo-normal')} == {
        'pw-demo-security': '1.0-2', 'pw-demo-normal': '1.1-1'}
    return backups, packages


def test_a_rollback_reinstalls_the_saved_versions_with_dnf(updated):
    backups, packages = updated
    assert system_backup.restore(backups, 'run-1', [], packages, check_mode=True)['restored'] == [
        {'name': 'pw-demo-normal', 'from': '1.1-1', 'to': '1.0-1'}, {'name': 'pw-demo-security', 'from': '1.0-2', 'to': '1.0-1'}]
    assert packages.installed_versions()['pw-demo-security'] == '1.0-2', 'check mode changes nothing'
    result = system_backup.restore(backups, 'run-1', [], packages)
    assert result['changed'] is True
    assert result['restored'] == [{'name': 'pw-demo-normal', 'from': '1.1-1', 'to': '1.0-1'}, {'name': 'pw-demo-security', 'from': '1.0-2', 'to': '1.0-1'}]
    assert {name: packages.installed_versions()[name] for name in ('pw-demo-security', 'pw-demo-normal')} == {
        'pw-demo-security': '1.0-1', 'pw-demo-normal': '1.0-1'}
    again = system_backup.restore(backups, 'run-1', [], packages)
    assert again['changed'] is False and again['restored'] == [], 'the old versions are back: nothing left to do'


def test_only_the_packages_asked_for_are_rolled_back(updated):
    backups, packages = updated
    result = system_backup.restore(backups, 'run-1', ['pw-demo-security'], packages)
    assert result['restored'] == [{'name': 'pw-demo-security', 'from': '1.0-2', 'to': '1.0-1'}]
    assert packages.installed_versions()['pw-demo-normal'] == '1.1-1'


def test_rpm_rolls_back_when_dnf_cannot_reach_the_repositories(root, updated):
    backups, packages = updated
    # An outage: the repository is gone and dnf refuses to run without its metadata.
    repo_file = root / 'etc' / 'yum.repos.d' / 'pw.repo'
    repo_file.write_text(repo_file.read_text().replace('baseurl=file://', 'baseurl=file:///nonexistent') + 'skip_if_unavailable=False\n')
    run(['dnf', '--installroot=%s' % root, '-q', 'clean', 'all'])
    installs = []

    def recording(args, env=None, cwd=None):
        answer = run_in(args, env, cwd)
        if 'downgrade' in args or '-Uvh' in args:
            installs.append((args[0], answer[0]))
        return answer

    result = system_backup.restore(backups, 'run-1', [], DnfPackages(recording, root=str(root)))
    assert installs[0][0] == 'dnf' and installs[0][1] != 0 and installs[1:] == [('rpm', 0)]
    assert [change['to'] for change in result['restored']] == ['1.0-1', '1.0-1']
    assert {name: packages.installed_versions()[name] for name in ('pw-demo-security', 'pw-demo-normal')} == {
        'pw-demo-security': '1.0-1', 'pw-demo-normal': '1.0-1'}
    assert 'gpg-pubkey' not in packages.installed_versions()


def test_a_restore_that_neither_dnf_nor_rpm_can_do_says_why_and_what_changed(root, updated):
    backups, _packages = updated

    def refusing(args, env=None, cwd=None):
        # Both installing commands fail as they do on a bad option; the queries run as they are.
        installing = 'downgrade' in args or '-Uvh' in args
        return run_in([*args, '--no-such-option'] if installing else args, env, cwd)

    with pytest.raises(BackupError) as failure:
        system_backup.restore(backups, 'run-1', [], DnfPackages(refusing, root=str(root)))
    message = str(failure.value)
    assert message.startswith('restoring from %s: restoring the saved rpm packages failed: dnf downgrade: ' % os.path.join(backups, 'run-1'))
    assert 'rpm -Uvh --oldpackage (rc 1): ' in message and 'no-such-option' in message
    assert failure.value.result['restored'] == [] and failure.value.result['changed'] is False


def test_an_installroot_needs_dnf():
    with pytest.raises(BackupError, match='only supported with the dnf package manager'):
        backend('apt', run_in, root='/srv/image')

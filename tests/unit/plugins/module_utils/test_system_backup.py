"""Making, verifying and restoring a backup directory, with a package backend that only writes files.

The real dpkg/apt backend is exercised in tests/unit/controller/test_system_backup_dpkg.py.
"""

from __future__ import annotations

import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import backup_manifest, system_backup
from ansible_collections.patchwise.patching.plugins.module_utils.backup_manifest import BackupError


class FakePackages:
    name = 'apt'

    def __init__(self, installed, fail_on=None):
        self.installed = dict(installed)
        self.fail_on = fail_on
        self.installed_files = []

    def selection(self):
        return [{'name': name, 'version': version, 'arch': 'amd64', 'status': 'ii', 'held': False, 'installed': True}
                for name, version in sorted(self.installed.items())]

    def installed_versions(self):
        return dict(self.installed)

    def save(self, entry, target_dir, work_dir):
        if entry['name'] == self.fail_on:
            raise BackupError('%s: disk full' % entry['name'])
        file_name = '%s_%s_amd64.deb' % (entry['name'], entry['version'])
        with backup_manifest.open_private(os.path.join(target_dir, file_name)) as handle:
            handle.write(('%s %s' % (entry['name'], entry['version'])).encode())
        return file_name, 'rebuilt', {'skipped_files': []}

    def install(self, files):
        self.installed_files.append(list(files))
        for path in files:
            name, version = open(path).read().split()
            self.installed[name] = version


@pytest.fixture
def conf(tmp_path):
    directory = tmp_path / 'conf'
    directory.mkdir()
    (directory / 'app.conf').write_text('a=1\n')
    return str(directory)


def _create(root, backend, conf, *, run_id='run-1', packages=('openssl', 'libssl3'), retention=5, check_mode=False):
    return system_backup.create(str(root), run_id, backend, packages=list(packages), paths=[conf], retention=retention,
                                check_mode=check_mode)


def test_a_backup_holds_selection_packages_archives_and_a_manifest_written_last(tmp_path, conf):
    backend = FakePackages({'openssl': '3.0.17-1', 'libssl3': '3.0.17-1', 'bash': '5.2-1'})
    result = _create(tmp_path / 'backups', backend, conf, packages=['openssl', 'libssl3', 'new-pkg'])
    directory = tmp_path / 'backups' / 'run-1'
    assert result['changed'] is True
    assert result['not_installed'] == ['new-pkg']
    summary = result['backup']
    assert summary['dir'] == str(directory) and summary['manifest'] == str(directory / 'manifest.json')
    assert [(p['name'], p['version'], p['file'], p['source']) for p in summary['packages']] == [
        ('libssl3', '3.0.17-1', 'packages/libssl3_3.0.17-1_amd64.deb', 'rebuilt'),
        ('openssl', '3.0.17-1', 'packages/openssl_3.0.17-1_amd64.deb', 'rebuilt')]
    archive = conf.strip('/').replace('/', '_') + '.tar.gz'
    manifest = json.loads((directory / 'manifest.json').read_text())
    assert sorted(manifest['files']) == sorted([archive, 'packages/libssl3_3.0.17-1_amd64.deb',
                                                'packages/openssl_3.0.17-1_amd64.deb', 'selection.json'])
    assert manifest['run_id'] == 'run-1' and manifest['manager'] == 'apt' and manifest['created'].endswith('Z')
    assert manifest['paths'] == {conf: archive}
    assert summary['files'] == 4 and summary['bytes'] == sum(entry['size'] for entry in manifest['files'].values())
    selection = json.loads((directory / 'selection.json').read_text())
    assert [entry['name'] for entry in selection['packages']] == ['bash', 'libssl3', 'openssl']
    assert (tmp_path / 'backups').stat().st_mode & 0o777 == 0o700
    assert backup_manifest.problems(str(directory)) == []
    assert system_backup.verify(str(tmp_path / 'backups'), 'run-1')['backup']['files'] == 4


def test_an_existing_backup_that_verifies_is_not_remade(tmp_path, conf):
    backend = FakePackages({'openssl': '3.0.17-1'})
    first = _create(tmp_path, backend, conf, packages=['openssl'])
    backend.installed['openssl'] = '3.0.18-1'
    again = _create(tmp_path, backend, conf, packages=['openssl'])
    assert again['changed'] is False
    assert again['backup']['packages'][0]['version'] == '3.0.17-1', 'the pre-patch versions stay'
    assert again['backup']['manifest_sha256'] == first['backup']['manifest_sha256']


def test_an_existing_damaged_backup_is_not_overwritten(tmp_path, conf):
    backend = FakePackages({'openssl': '3.0.17-1'})
    _create(tmp_path, backend, conf, packages=['openssl'])
    (tmp_path / 'run-1' / 'selection.json').write_text('{}')
    with pytest.raises(BackupError, match=r'selection\.json does not match its SHA-256'):
        _create(tmp_path, backend, conf, packages=['openssl'])


def test_a_failure_midway_leaves_no_backup_and_no_partial_directory(tmp_path, conf):
    backend = FakePackages({'openssl': '3.0.17-1', 'libssl3': '3.0.17-1'}, fail_on='openssl')
    with pytest.raises(BackupError, match='disk full'):
        _create(tmp_path, backend, conf)
    assert os.listdir(str(tmp_path)) == ['conf']


def test_the_backup_is_staged_under_a_partial_name_then_renamed(tmp_path, conf, monkeypatch):
    seen = []
    rename = os.rename

    def watch(source, target):
        seen.append((os.path.basename(source), os.path.basename(target), os.path.exists(os.path.join(source, 'manifest.json'))))
        rename(source, target)

    monkeypatch.setattr(system_backup.os, 'rename', watch)
    _create(tmp_path, FakePackages({'openssl': '3.0.17-1'}), conf, packages=['openssl'])
    (staged, final, complete), = seen
    assert staged.startswith(backup_manifest.PARTIAL_PREFIX + 'run-1-') and final == 'run-1' and complete


def test_check_mode_writes_nothing_and_reports_what_it_would_save(tmp_path, conf):
    result = _create(tmp_path / 'backups', FakePackages({'openssl': '3.0.17-1'}), conf, packages=['openssl'], check_mode=True)
    assert result['changed'] is True
    assert result['backup']['packages'] == [{'name': 'openssl', 'version': '3.0.17-1', 'arch': 'amd64', 'file': None,
                                             'source': None}]
    assert result['backup']['paths'] == {conf: conf.strip('/').replace('/', '_') + '.tar.gz'}
    assert not os.path.exists(str(tmp_path / 'backups'))


def test_retention_keeps_the_newest_and_never_the_one_just_made(tmp_path, conf):
    backend = FakePackages({'openssl': '3.0.17-1'})
    for number in range(1, 4):
        _create(tmp_path / 'b', backend, conf, run_id='run-%d' % number, packages=['openssl'], retention=2)
        manifest = tmp_path / 'b' / ('run-%d' % number) / 'manifest.json'
        # Creation times one minute apart without waiting: rewrite 'created' and re-protect the manifest.
        data = json.loads(manifest.read_text())
        data['created'] = '2026-11-29T01:0%d:00Z' % number
        manifest.write_text(json.dumps(data))
    assert sorted(os.listdir(str(tmp_path / 'b'))) == ['run-2', 'run-3']
    planned = _create(tmp_path / 'b', backend, conf, run_id='run-4', packages=['openssl'], retention=2, check_mode=True)
    assert planned['removed'] == ['run-2']
    made = _create(tmp_path / 'b', backend, conf, run_id='run-0', packages=['openssl'], retention=1)
    assert made['removed'] == ['run-2', 'run-3'], 'the new backup stays even when its name sorts first'
    assert os.listdir(str(tmp_path / 'b')) == ['run-0']


@pytest.mark.parametrize('run_id', ['', '..', 'a/b', '.hidden'])
def test_run_ids_that_are_no_directory_name_are_refused(tmp_path, run_id):
    with pytest.raises(BackupError, match='cannot name a backup directory'):
        system_backup.verify(str(tmp_path), run_id)


@pytest.fixture
def made(tmp_path, conf):
    backend = FakePackages({'openssl': '3.0.17-1', 'libssl3': '3.0.17-1', 'bash': '5.2-1'})
    _create(tmp_path, backend, conf)
    backend.installed.update({'openssl': '3.0.18-1', 'libssl3': '3.0.18-1'})
    return backend


def test_restore_installs_the_saved_packages_whose_version_changed(tmp_path, made):
    result = system_backup.restore(str(tmp_path), 'run-1', [], made)
    assert result['changed'] is True
    assert result['restored'] == [{'name': 'libssl3', 'from': '3.0.18-1', 'to': '3.0.17-1'},
                                  {'name': 'openssl', 'from': '3.0.18-1', 'to': '3.0.17-1'}]
    installed = [os.path.basename(path) for path in made.installed_files[0]]
    assert installed == ['libssl3_3.0.17-1_amd64.deb', 'openssl_3.0.17-1_amd64.deb']
    again = system_backup.restore(str(tmp_path), 'run-1', [], made)
    assert (again['changed'], again['restored']) == (False, [])


def test_restore_of_named_packages_only(tmp_path, made):
    result = system_backup.restore(str(tmp_path), 'run-1', ['openssl:amd64'], made)
    assert result['restored'] == [{'name': 'openssl', 'from': '3.0.18-1', 'to': '3.0.17-1'}]
    assert made.installed['libssl3'] == '3.0.18-1'
    assert system_backup.restore(str(tmp_path), 'run-1', ['openssl'], made)['restored'] == []


def test_restore_check_mode_installs_nothing(tmp_path, made):
    result = system_backup.restore(str(tmp_path), 'run-1', ['libssl3'], made, check_mode=True)
    assert result['changed'] is True and result['restored'] == [{'name': 'libssl3', 'from': '3.0.18-1', 'to': '3.0.17-1'}]
    assert made.installed_files == []


def test_restore_refuses_a_backup_that_does_not_verify(tmp_path, made):
    os.chmod(str(tmp_path / 'run-1' / 'packages' / 'openssl_3.0.17-1_amd64.deb'), 0o644)
    with pytest.raises(BackupError, match=r'openssl_3\.0\.17-1_amd64\.deb has mode 0644'):
        system_backup.restore(str(tmp_path), 'run-1', [], made)
    assert made.installed_files == []


def test_restore_of_a_package_not_in_the_backup_is_refused(tmp_path, made):
    with pytest.raises(BackupError, match='holds no saved package for bash'):
        system_backup.restore(str(tmp_path), 'run-1', ['openssl', 'bash'], made)
    assert made.installed_files == []


def test_restore_that_does_not_reach_the_saved_version_fails(tmp_path, made, monkeypatch):
    monkeypatch.setattr(made, 'install', lambda files: None)
    with pytest.raises(BackupError, match=r'still not at the saved version: libssl3 \(3.0.18-1, saved 3.0.17-1\)'):
        system_backup.restore(str(tmp_path), 'run-1', ['libssl3'], made)


def test_a_failed_restore_reports_what_it_did_change(tmp_path, made, monkeypatch):
    install = made.install

    def only_the_first(files):
        install(files[:1])
        raise BackupError('apt-get install of the saved packages failed (rc 100): openssl (--configure): postinst failed')

    monkeypatch.setattr(made, 'install', only_the_first)
    with pytest.raises(BackupError) as caught:
        system_backup.restore(str(tmp_path), 'run-1', [], made)
    assert 'postinst failed; still not at the saved version: openssl (3.0.18-1, saved 3.0.17-1)' in str(caught.value)
    assert caught.value.result['changed'] is True
    assert caught.value.result['restored'] == [{'name': 'libssl3', 'from': '3.0.18-1', 'to': '3.0.17-1'}]


def test_a_path_that_does_not_exist_fails_also_in_check_mode(tmp_path, conf):
    backend = FakePackages({'openssl': '3.0.17-1'})
    for check_mode in (True, False):
        with pytest.raises(BackupError, match='paths to archive do not exist on this host: /nonexistent/app'):
            system_backup.create(str(tmp_path / 'b'), 'run-1', backend, packages=['openssl'], paths=[conf, '/nonexistent/app'],
                                 check_mode=check_mode)
    assert not os.path.exists(str(tmp_path / 'b'))

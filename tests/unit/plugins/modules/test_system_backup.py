"""The system_backup module: options reach the right step, results and failures come back whole.

Real dpkg/apt runs (rebuild, restore of a throwaway package) are in tests/unit/controller/test_system_backup_dpkg.py.
"""

from __future__ import annotations

import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import backup_manifest, package_backup
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.system_backup_runner import run_module


class OnePackage:
    """A backend with openssl installed, saving a small file per package and installing nothing for real."""

    name = 'apt'

    def __init__(self):
        self.version = '3.0.17-1'
        self.installed_files = []

    def selection(self):
        return [{'name': 'openssl', 'version': self.version, 'arch': 'amd64', 'status': 'ii', 'held': False, 'installed': True}]

    def installed_versions(self):
        return {'openssl': self.version}

    def save(self, entry, target_dir, work_dir):
        with backup_manifest.open_private(os.path.join(target_dir, 'openssl.deb')) as handle:
            handle.write(entry['version'].encode())
        return 'openssl.deb', 'rebuilt', {'skipped_files': []}

    def install(self, files):
        self.installed_files.append(files)
        self.version = open(files[0]).read()


@pytest.fixture
def backend(monkeypatch):
    fake = OnePackage()
    chosen = []

    def pick(manager, run, download=True):
        chosen.append((manager, download))
        return fake

    monkeypatch.setattr(package_backup, 'backend', pick)
    fake.chosen = chosen
    return fake


@pytest.fixture
def args(tmp_path):
    (tmp_path / 'conf').mkdir()
    (tmp_path / 'conf' / 'a.conf').write_text('secret=do-not-print\n')
    return {'path': str(tmp_path / 'backups'), 'run_id': '42', 'packages': ['openssl'], 'paths': [str(tmp_path / 'conf')]}


def test_present_in_check_mode_then_for_real_then_verified(monkeypatch, backend, args, tmp_path):
    failed, planned = run_module(monkeypatch, args, check_mode=True)
    assert not failed and planned['changed'] is True
    assert planned['backup']['packages'] == [{'name': 'openssl', 'version': '3.0.17-1', 'arch': 'amd64', 'file': None, 'source': None}]
    assert not os.path.exists(args['path'])
    failed, made = run_module(monkeypatch, dict(args, download=False, manager='apt'))
    assert not failed and made['changed'] is True
    assert backend.chosen[-1] == ('apt', False)
    assert made['backup']['dir'] == os.path.join(args['path'], '42')
    assert made['backup']['packages'][0]['file'] == 'packages/openssl.deb'
    assert made['backup']['files'] == 3 and made['not_installed'] == [] and made['removed'] == []
    assert 'do-not-print' not in repr(made)
    failed, again = run_module(monkeypatch, args)
    assert not failed and again['changed'] is False
    failed, verified = run_module(monkeypatch, dict(args, state='verified'))
    assert not failed and verified['changed'] is False and verified['backup']['manifest_sha256'] == made['backup']['manifest_sha256']


def test_verified_fails_naming_the_tampered_file(monkeypatch, backend, args):
    run_module(monkeypatch, args)
    os.chmod(os.path.join(args['path'], '42', 'packages', 'openssl.deb'), 0o644)
    failed, result = run_module(monkeypatch, dict(args, state='verified'))
    assert failed
    assert result['msg'].startswith('system_backup (verified) of 42: backup %s does not verify: ' % os.path.join(args['path'], '42'))
    assert 'packages/openssl.deb has mode 0644, not 0600' in result['msg']


def test_restored_reports_each_package_from_and_to(monkeypatch, backend, args):
    run_module(monkeypatch, args)
    backend.version = '3.0.18-1'
    failed, planned = run_module(monkeypatch, dict(args, state='restored'), check_mode=True)
    assert not failed and planned['changed'] is True and backend.installed_files == []
    assert planned['restored'] == [{'name': 'openssl', 'from': '3.0.18-1', 'to': '3.0.17-1'}]
    failed, restored = run_module(monkeypatch, dict(args, state='restored'))
    assert not failed and restored['restored'] == planned['restored'] and backend.version == '3.0.17-1'
    failed, again = run_module(monkeypatch, dict(args, state='restored'))
    assert not failed and again['changed'] is False and again['restored'] == []


def test_a_missing_backup_fails_clearly(monkeypatch, backend, args):
    failed, result = run_module(monkeypatch, dict(args, state='restored', run_id='41'))
    assert failed and 'backup %s does not exist' % os.path.join(args['path'], '41') in result['msg']


def test_a_run_id_with_a_slash_fails(monkeypatch, backend, args):
    failed, result = run_module(monkeypatch, dict(args, run_id='../etc'))
    assert failed and "run_id '../etc' cannot name a backup directory" in result['msg']

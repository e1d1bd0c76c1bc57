"""The system_backup module: options reach the right step, results and failures come back whole.

Real dpkg/apt runs (rebuild, restore of a throwaway package) are in tests/unit/controller/test_system_backup_dpkg.py.
"""

from __future__ import annotations

import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import backup_manifest, package_backup
from ansible_collections.patchwise.patching.plugins.modules import system_backup
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module


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


def test_present_in_check_mode_then_for_real_then_verified(backend, args, tmp_path):
    planned = run_module(system_backup.main, args, check_mode=True)
    assert not planned.failed and planned.result['changed'] is True
    assert planned.result['backup']['packages'] == [{'name': 'openssl', 'version': '3.0.17-1', 'arch': 'amd64', 'file': None, 'source': None}]
    assert not os.path.exists(args['path'])
    made = run_module(system_backup.main, dict(args, download=False, manager='apt'))
    assert not made.failed and made.result['changed'] is True
    assert backend.chosen[-1] == ('apt', False)
    assert made.result['backup']['dir'] == os.path.join(args['path'], '42')
    assert made.result['backup']['packages'][0]['file'] == 'packages/openssl.deb'
    assert made.result['backup']['files'] == 3 and made.result['not_installed'] == [] and made.result['removed'] == []
    assert 'do-not-print' not in repr(made.result)
    again = run_module(system_backup.main, args)
    assert not again.failed and again.result['changed'] is False
    verified = run_module(system_backup.main, dict(args, state='verified'))
    assert not verified.failed and verified.result['changed'] is False
    assert verified.result['backup']['manifest_sha256'] == made.result['backup']['manifest_sha256']


def test_verified_fails_naming_the_tampered_file(backend, args):
    run_module(system_backup.main, args)
    os.chmod(os.path.join(args['path'], '42', 'packages', 'openssl.deb'), 0o644)
    outcome = run_module(system_backup.main, dict(args, state='verified'))
    assert outcome.failed
    assert outcome.result['msg'].startswith('system_backup (verified) of 42: backup %s does not verify: ' % os.path.join(args['path'], '42'))
    assert 'packages/openssl.deb has mode 0644, not 0600' in outcome.result['msg']


def test_restored_reports_each_package_from_and_to(backend, args):
    run_module(system_backup.main, args)
    backend.version = '3.0.18-1'
    planned = run_module(system_backup.main, dict(args, state='restored'), check_mode=True)
    assert not planned.failed and planned.result['changed'] is True and backend.installed_files == []
    assert planned.result['restored'] == [{'name': 'openssl', 'from': '3.0.18-1', 'to': '3.0.17-1'}]
    restored = run_module(system_backup.main, dict(args, state='restored'))
    assert not restored.failed and restored.result['restored'] == planned.result['restored'] and backend.version == '3.0.17-1'
    again = run_module(system_backup.main, dict(args, state='restored'))
    assert not again.failed and again.result['changed'] is False and again.result['restored'] == []


def test_a_missing_backup_fails_clearly(backend, args):
    outcome = run_module(system_backup.main, dict(args, state='restored', run_id='41'))
    assert outcome.failed and 'backup %s does not exist' % os.path.join(args['path'], '41') in outcome.result['msg']


def test_a_run_id_with_a_slash_fails(backend, args):
    outcome = run_module(system_backup.main, dict(args, run_id='../etc'))
    assert outcome.failed and "run_id '../etc' cannot name a backup directory" in outcome.result['msg']

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The config_check action plugin, run through ansible-playbook on localhost with the audit callback."""

from __future__ import annotations

import hashlib
import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import verify_lines
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import run_task

SHA = 'cd' * 32
POLICY = b'epss_threshold: 0.3\nwindows:\n  weeknights: {days: [mon, tue, wed, thu], time: "22:00-04:00", timezone: UTC}\n'
REGISTER = b'schema: 1\nhosts:\n  web01: {exposure: internet, criticality: high, owner: alice@example.org}\n  db01: {}\n'
SECRET = 'pw-unit-secret-71c2'  # noqa: S105 - the test secret that must appear nowhere


def _files(tmp_path):
    (tmp_path / 'policy.yml').write_bytes(POLICY)
    (tmp_path / 'register.yml').write_bytes(REGISTER)


def _task(tmp_path, applications):
    return ('    - patchwise.patching.config_check:\n'
            '        policy: "%s"\n'
            '        register: "%s"\n'
            '        applications: %s\n'
            '      register: outcome\n' % (tmp_path / 'policy.yml', tmp_path / 'register.yml', json.dumps(applications)))


def _apps(password=SECRET, sha=SHA):
    return [{'name': 'demo', 'version': '2.0.0',
             'artifact': {'url': 'https://repo.example.org/demo.tgz', 'sha256': sha, 'url_password': password}}]


def test_valid_config_fingerprints_reach_the_audit_trail_without_secrets(tmp_path, monkeypatch):
    _files(tmp_path)
    log = tmp_path / 'audit.jsonl'
    monkeypatch.setenv('ANSIBLE_CALLBACKS_ENABLED', 'patchwise.patching.audit')
    monkeypatch.setenv('PATCHWISE_AUDIT_LOG', str(log))
    process, outcome = run_task(tmp_path, _task(tmp_path, _apps()), check=True)
    assert process.returncode == 0, process.stdout + process.stderr
    assert outcome['changed'] is False
    config = outcome['config']
    assert config['policy'] == {'sha256': hashlib.sha256(POLICY).hexdigest(), 'source': str(tmp_path / 'policy.yml')}
    assert config['register']['sha256'] == hashlib.sha256(REGISTER).hexdigest() and config['register']['hosts'] == 2
    assert config['applications']['names'] == ['demo'] and len(config['applications']['sha256']) == 64
    assert len(outcome['sha256']) == 64

    text = log.read_text()
    assert SECRET not in text and SECRET not in process.stdout + process.stderr
    with log.open() as handle:
        assert verify_lines(handle)['valid']
    records = [json.loads(line) for line in text.splitlines()]
    recorded = [r for r in records if r.get('action') == 'patchwise.patching.config_check' and r['event'] == 'host_result']
    assert len(recorded) == 1 and recorded[0]['summary']['config'] == config


def test_password_change_keeps_the_fingerprint_other_changes_do_not(tmp_path):
    _files(tmp_path)
    _process, first = run_task(tmp_path, _task(tmp_path, _apps()))
    _process, new_password = run_task(tmp_path, _task(tmp_path, _apps(password='another-one')))  # noqa: S106 - a test secret
    _process, new_artifact = run_task(tmp_path, _task(tmp_path, _apps(sha='ef' * 32)))
    assert first['config']['applications'] == new_password['config']['applications']
    assert first['config']['applications'] != new_artifact['config']['applications']
    assert first['sha256'] != new_artifact['sha256']


def test_invalid_policy_fails_naming_the_key(tmp_path):
    _files(tmp_path)
    (tmp_path / 'policy.yml').write_text('epss_threshold: 3\n')
    process, outcome = run_task(tmp_path, _task(tmp_path, _apps()))
    assert process.returncode == 2 and outcome is None
    assert 'invalid configuration: %s: epss_threshold: must be a probability between 0 and 1' % (tmp_path / 'policy.yml') in process.stdout


def test_invalid_register_fails_naming_file_host_and_key(tmp_path):
    _files(tmp_path)
    (tmp_path / 'register.yml').write_text('hosts:\n  web01: {exposure: everywhere}\n')
    process, _outcome = run_task(tmp_path, _task(tmp_path, _apps()))
    assert process.returncode == 2
    assert "register.yml: host web01: exposure 'everywhere' is not one of internet, internal, isolated" in process.stdout


def test_invalid_application_fails_naming_the_entry_without_echoing_secrets(tmp_path):
    _files(tmp_path)
    process, _outcome = run_task(tmp_path, _task(tmp_path, _apps(sha='not-a-digest')))
    assert process.returncode == 2
    assert 'app_patch_applications[0] (demo): artifact.sha256 must be 64 hexadecimal digits' in process.stdout
    assert SECRET not in process.stdout + process.stderr


def test_nothing_to_check_is_an_error(tmp_path):
    process, _outcome = run_task(tmp_path, '    - patchwise.patching.config_check: {}\n      register: outcome\n')
    assert process.returncode == 2
    assert 'give at least one of policy, register and applications' in process.stdout

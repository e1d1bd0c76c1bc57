"""The asset_store action plugin, run through ansible-playbook on localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import COLLECTIONS_ROOT, run_task
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record


def _play(tmp_path, records, register=None, check=False):
    (tmp_path / 'records.json').write_text(json.dumps({'records_in': records}))
    register_line = '        register: "%s"\n' % register if register else ''
    task = ('    - patchwise.patching.asset_store:\n'
            '        path: "%s"\n'
            '        records: "{{ records_in }}"\n'
            '%s'
            '        run_id: test-run\n'
            '      register: outcome\n' % (tmp_path / 'assets.db', register_line))
    return run_task(tmp_path, task, check, play_header='  vars_files: ["%s"]\n' % (tmp_path / 'records.json'))


def test_store_then_no_change_and_check_mode(tmp_path):
    registered = {'changed': False, 'record': record('web02'), 'ansible_facts': {}}
    process, result = _play(tmp_path, {'web01': record(), 'web02': registered}, check=True)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True and not (tmp_path / 'assets.db').exists()

    process, result = _play(tmp_path, {'web01': record(), 'web02': registered})
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True
    assert result['hosts']['web02'] == {'changed': True, 'new': True, 'changes': ['first_seen']}
    assert result['summary']['hosts'] == 2 and result['summary']['security_updates'] == 2
    assert result['run_id'] == 'test-run'

    process, result = _play(tmp_path, {'web01': record(collected_at='2026-11-02T00:00:00Z'), 'web02': registered})
    assert result['changed'] is False, result

    process, result = _play(tmp_path, {'web01': record(updates=[])}, check=True)
    assert result['changed'] is True and result['hosts']['web01']['changes'] == ['updates']
    with AssetStore(str(tmp_path / 'assets.db'), readonly=True) as store:
        assert store.record('web01')['updates'], 'check mode must not write'


def test_register_stored_and_bad_register_fails_naming_key(tmp_path):
    good = tmp_path / 'register.yml'
    good.write_text('hosts:\n  web01: {criticality: high, exposure: internet}\n')
    process, result = _play(tmp_path, {'web01': record()}, register=str(good))
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['register_changed'] == ['web01']
    bad = tmp_path / 'bad.yml'
    bad.write_text('hosts:\n  web01: {criticality: urgent}\n')
    process, result = _play(tmp_path, {'web01': record()}, register=str(bad))
    assert process.returncode != 0
    assert "bad.yml: host web01: criticality 'urgent' is not one of" in process.stdout
    with AssetStore(str(tmp_path / 'assets.db'), readonly=True) as store:
        assert store.register() == {'web01': {'criticality': 'high', 'exposure': 'internet'}}


def test_corrupt_database_fails_clearly(tmp_path):
    (tmp_path / 'assets.db').write_bytes(b'\0garbage' * 512)
    process, _result = _play(tmp_path, {'web01': record()})
    assert process.returncode != 0
    assert 'assets.db: not a usable asset database' in process.stdout


def test_patch_outcomes_are_appended_with_the_run_id(tmp_path):
    playbook = tmp_path / 'outcome.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: false\n'
        '  tasks:\n'
        '    - patchwise.patching.asset_store:\n'
        '        path: "%s"\n'
        '        run_id: run-7\n'
        '        outcomes:\n'
        '          - {kind: app, status: failed, detail: {name: shop, previous: "1.0", target: "2.0", rolled_back: true}}\n'
        '          - {host: web02, kind: system, status: ok, detail: {packages: [{name: openssl, from: "3.0.14", to: "3.0.15"}]}}\n'
        % (tmp_path / 'assets.db'), encoding='utf-8')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1')
    command = [sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)]
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    with AssetStore(str(tmp_path / 'assets.db'), readonly=True) as store:
        app, = store.patch_outcomes(host='localhost')
        assert (app['kind'], app['status'], app['run_id'], app['detail']['rolled_back']) == ('app', 'failed', 'run-7', True)
        system, = store.patch_outcomes(host='web02')
        assert system['detail']['packages'][0]['to'] == '3.0.15'
    process = subprocess.run([*command, '--check'], env=env, capture_output=True, text=True, check=False)
    assert process.returncode == 0
    with AssetStore(str(tmp_path / 'assets.db'), readonly=True) as store:
        assert len(store.patch_outcomes()) == 2, 'check mode must not append'


def test_a_bad_record_is_refused_alone_and_the_task_warns(tmp_path):
    task = ('    - patchwise.patching.asset_store:\n'
            '        path: "%s"\n'
            '        records:\n'
            '          web01: %s\n'
            '          db01: {schema: 1, collected_at: "2026-11-01T10:00:00Z", host: {hostname: db01}, os: {family: debian},'
            ' packages: oops}\n'
            '      register: outcome\n' % (tmp_path / 'assets.db', json.dumps(record())))
    process, result = run_task(tmp_path, task)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['refused'] == {'db01': 'packages must be a list, got str'}
    assert result['hosts']['web01']['new'] is True and result['summary']['hosts'] == 1
    assert '1 record(s) refused, the other hosts were stored: host db01: packages must be a list, got str' in ' '.join(result['warnings'])

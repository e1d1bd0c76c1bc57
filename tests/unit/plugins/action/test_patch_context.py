"""The patch_context action plugin, run through ansible-playbook on localhost."""

from __future__ import annotations

import datetime
import hashlib

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import run_task
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record


def _now(hours=0):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)).strftime('%Y-%m-%dT%H:%M:%SZ')


def _plan(host):
    return {'schema': 1, 'host': host, 'tier': 'high', 'applications': [],
            'system': {'mode': 'security', 'packages': [{'name': 'openssl', 'target': '3.0.15-1~deb12u1'}], 'held': []}}


def _setup(tmp_path):
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.store_records({'web01': record(), 'db01': record('db01')}, now=_now(-3))
        store.replace_register({'web01': {'window': 'always', 'exclude': ['linux-image-*']}}, 'test')
        store.store_plans({'web01': _plan('web01'), 'db01': _plan('web01')}, run_id='assess-7', now=_now(-1))


def _play(tmp_path, options='', host='web01', check=False):
    task = ('    - patchwise.patching.patch_context:\n'
            '        host: %s\n'
            '        asset_db: "%s"\n'
            '%s'
            '      register: outcome\n'
            '      ignore_errors: true\n' % (host, tmp_path / 'assets.db', options))
    return run_task(tmp_path, task, check)


def test_the_stored_plan_and_the_holds_in_force(tmp_path):
    _setup(tmp_path)
    before = hashlib.sha256((tmp_path / 'assets.db').read_bytes()).hexdigest()
    for check in (False, True):
        process, result = _play(tmp_path, '        policy: {holds: [{package: "openssl", reason: freeze}]}\n', check=check)
        assert process.returncode == 0, process.stdout + process.stderr
        assert result['found'] is True and result['changed'] is False and result['run_id'] == 'assess-7'
        assert result['plan']['system']['packages'] == [{'name': 'openssl', 'target': '3.0.15-1~deb12u1'}]
        assert [(h['name'], h['source']) for h in result['holds']] == [('libssl3', 'policy'), ('openssl', 'policy')]
        assert result['exclude'] == ['linux-image-*'] and result['register']['window'] == 'always'
        assert len(result['policy_fingerprint']) == 64
    assert hashlib.sha256((tmp_path / 'assets.db').read_bytes()).hexdigest() == before, 'read-only'


def test_a_plan_for_another_host_fails_naming_both_hosts_and_a_missing_database_is_no_plan(tmp_path):
    _setup(tmp_path)
    _process, result = _play(tmp_path, host='db01')
    assert result['failed'] and result['refused'] is True
    assert "host db01: the plan stored under this host is for host 'web01'" in result['msg']
    _process, result = _play(tmp_path, '        register: {window: sun}\n', host='new01')
    assert not result.get('failed') and result['found'] is False and result['register'] == {'window': 'sun'}
    assert 'no stored plan for new01' in result['notes'][0]
    (tmp_path / 'assets.db').unlink()
    _process, result = _play(tmp_path)
    assert not result.get('failed') and result['found'] is False and 'no asset database at' in result['notes'][0]
    assert not (tmp_path / 'assets.db').exists(), 'never created'


def test_bad_input_names_the_option(tmp_path):
    _setup(tmp_path)
    _process, result = _play(tmp_path, '        at: tomorrow\n')
    assert result['failed'] and "at: 'tomorrow' is not a UTC time" in result['msg']
    _process, result = _play(tmp_path, '        policy: {plan_max_age_days: 0}\n')
    assert result['failed'] and 'plan_max_age_days' in result['msg']
    _process, result = _play(tmp_path, '        register: [1, 2]\n')
    assert result['failed'] and 'register: must be a register file path' in result['msg']

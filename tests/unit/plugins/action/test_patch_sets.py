# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""patch_set_freeze, patch_context with a set and patch_set_promote, run through ansible-playbook on one asset database."""

from __future__ import annotations

import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import run_task
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

POLICY = {'stages': ['staging', 'production'], 'promotion': {'soak_hours': 0}}


def _task(module, **options):
    return '    - %s: %s\n      ignore_errors: true\n      register: outcome\n' % (module, json.dumps(options))


def _fleet(path):
    def plan(host):
        return {'schema': 1, 'host': host, 'tier': 'high', 'applications': [],
                'system': {'mode': 'security', 'packages': [{'name': 'openssl', 'target': '3.0.16-1~deb12u1', 'findings': ['CVE-1']}]}}

    with AssetStore(path) as store:
        store.store_records({name: record(name) for name in ('stage01', 'prod01')})
        store.replace_register({'stage01': {'environment': 'staging'}, 'prod01': {'environment': 'production'}}, 'test')
        store.store_plans({'stage01': plan('stage01'), 'prod01': plan('prod01')}, run_id='assess-1')


def test_freeze_install_context_and_promote(tmp_path):
    path = str(tmp_path / 'assets.db')
    _fleet(path)
    freeze = _task('patchwise.patching.patch_set_freeze', id='s-1', stage='staging', asset_db=path, hosts=['stage01', 'prod01'], policy=POLICY)
    process, result = run_task(tmp_path, freeze, check=True)
    assert process.returncode == 0 and result['changed'] is True, process.stdout
    with AssetStore(path, readonly=True) as store:
        assert store.patch_set('s-1') is None, 'check mode must not freeze'
    process, result = run_task(tmp_path, freeze)
    assert result['content']['system'] == {'Debian:12': {'openssl': '3.0.16-1~deb12u1'}} and result['left_out'] == ['prod01']
    process, result = run_task(tmp_path, freeze)
    assert result['changed'] is False, 'freezing the same set again changes nothing'

    context = _task('patchwise.patching.patch_context', host='prod01', asset_db=path, policy=POLICY, patch_set='s-1')
    process, result = run_task(tmp_path, context)
    assert result['failed'] and 'is only for staging: promote it first' in result['msg']

    promote = _task('patchwise.patching.patch_set_promote', id='s-1', to_stage='production', asset_db=path, policy=POLICY, change_ref='CHG-9')
    process, result = run_task(tmp_path, promote)
    assert result['failed'] and 'gate coverage: installed on 0 of 1 hosts' in result['msg']
    with AssetStore(path) as store:
        store.add_patch_outcome('stage01', 'system', 'changed', {'patch_set': {'id': 's-1'}}, run_id='patch-1', now='2026-12-01T00:00:00Z')
    process, result = run_task(tmp_path, promote)
    assert process.returncode == 0 and result['changed'] is True and result['msg'] == 'patch set s-1 promoted from staging to production'
    process, result = run_task(tmp_path, promote)
    assert result['changed'] is False and 'already promoted to production' in result['msg']
    process, result = run_task(tmp_path, context)
    assert process.returncode == 0 and result['patch_set']['packages'] == [{'name': 'openssl', 'target': '3.0.16-1~deb12u1'}]
    with AssetStore(path, readonly=True) as store:
        promotion, = store.patch_set('s-1')['promotions']
    assert (promotion['change_ref'], promotion['from_stage'], promotion['to_stage']) == ('CHG-9', 'staging', 'production')

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_record import CENSORED, run_id_from, summarise
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_sanitise import Masker, clean


class FakeVaultValue(str):
    vault = object()


def test_secret_keys_urls_bearer_and_vault_are_redacted():
    value = {'password': 'p4ss', 'api_token': 't0k', 'ssh_key': 'k3y', 'nested': {'client_secret': 's3c'},
             'url': 'https://bob:hunter2@example.com/a?token=abc123&x=1', 'Authorization': 'Bearer abcdefghijkl',
             'hdr': 'Authorization: Bearer zzzzzzzzzzzz', 'vaulted': FakeVaultValue('v4ult')}
    text = json.dumps(clean(value))
    for secret in ('p4ss', 't0k', 'k3y', 's3c', 'hunter2', 'abc123', 'abcdefghijkl', 'zzzzzzzzzzzz', 'v4ult'):
        assert secret not in text
    assert 'example.com' in text


def test_no_log_results_are_censored_entirely():
    assert summarise({'msg': 'secret output', 'rc': 0}, no_log=True) == CENSORED
    assert summarise({'msg': 'x', '_ansible_no_log': True}, no_log=False) == CENSORED


def test_summary_keeps_only_explaining_keys():
    assert summarise({'msg': 'boom', 'rc': 2, 'stdout': 'big', 'results': [1, 2]}, no_log=False) == {
        'msg': 'boom', 'rc': 2, 'items': 2}
    fingerprints = {'policy': {'sha256': 'ab' * 32, 'source': 'inline'}}
    assert summarise({'msg': 'configuration valid', 'config': fingerprints, 'sha256': 'cd' * 32}, no_log=False) == {
        'msg': 'configuration valid', 'config': fingerprints}


def test_run_id_prefers_awx_job_then_env_then_generated():
    assert run_id_from({'tower_job_id': 42}, {}) == 'awx-42'
    assert run_id_from({'patchwise_run_id': 'CHG-1234-r1', 'tower_job_id': 42}, {'JOB_ID': '7'}) == 'CHG-1234-r1'
    assert run_id_from({}, {'JOB_ID': '7'}) == 'awx-7'
    assert run_id_from({}, {'PATCHWISE_RUN_ID': 'r1'}) == 'r1'
    assert len(run_id_from({}, {})) == 36


def test_masker_masks_known_values_anywhere_longest_first():
    masker = Masker()
    assert masker.mask({'msg': 'nothing known yet'}) == {'msg': 'nothing known yet'}
    masker.add({'nested': ['s3cret-value', 'ab'], 'other': 's3cret-value-longer'})
    masker.add('ab')   # too short to mask everywhere
    record = {'task': 'use s3cret-value-longer', 'summary': {'stderr': 'x s3cret-value y', 'rc': 3}, 'list': ['s3cret-value'], 'ab': 'ab'}
    assert masker.mask(record) == {'task': 'use ********', 'summary': {'stderr': 'x ******** y', 'rc': 3}, 'list': ['********'], 'ab': 'ab'}
    assert record['task'] == 'use s3cret-value-longer'   # the input is not changed


def test_masker_treats_regex_characters_literally():
    masker = Masker()
    masker.add('p@ss.w*rd(1)')
    assert masker.mask('x p@ss.w*rd(1) pXssXwrd(1)') == 'x ******** pXssXwrd(1)'

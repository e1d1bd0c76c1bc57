# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import GENESIS, Chain, verify_lines


def _log(count=6, key=None):
    chain = Chain(key=key)
    return [chain.seal({'event': 'host_result', 'host': 'h%d' % i, 'status': 'ok'}).decode() for i in range(count)], chain


def test_intact_log_verifies_and_reports_head():
    lines, chain = _log()
    result = verify_lines(lines, expected_head=chain.head)
    assert result == {'valid': True, 'records': 6, 'head': chain.head, 'first_bad_line': None, 'reason': ''}


def test_edited_record_is_named():
    lines, _chain = _log()
    lines[2] = lines[2].replace('"h2"', '"hX"')
    result = verify_lines(lines)
    assert not result['valid'] and result['first_bad_line'] == 3 and 'altered' in result['reason']


def test_edited_record_with_recomputed_hash_is_caught_by_successor():
    lines, _chain = _log()
    record = json.loads(lines[2])
    record['status'] = 'failed'
    del record['hash']
    lines[2] = Chain(head=record['prev_hash']).seal(record).decode()
    result = verify_lines(lines)
    assert not result['valid'] and result['first_bad_line'] == 4


def test_hmac_key_prevents_recomputing():
    lines, _chain = _log(key='k1')
    assert verify_lines(lines, key='k1')['valid']
    assert verify_lines(lines, key='wrong')['first_bad_line'] == 1
    assert verify_lines(lines)['first_bad_line'] == 1


def test_deleted_record_is_named():
    lines, _chain = _log()
    del lines[3]
    result = verify_lines(lines)
    assert not result['valid'] and result['first_bad_line'] == 4 and 'removed' in result['reason']


def test_inserted_record_is_named():
    lines, _chain = _log()
    forged = Chain(head=GENESIS).seal({'event': 'host_result', 'host': 'evil'}).decode()
    lines.insert(2, forged)
    assert verify_lines(lines)['first_bad_line'] == 3


def test_cut_tail_detected_against_known_head():
    lines, chain = _log()
    result = verify_lines(lines[:-2], expected_head=chain.head)
    assert not result['valid'] and result['first_bad_line'] is None and 'expected head' in result['reason']


def test_truncated_last_line_is_named():
    lines, _chain = _log()
    lines[-1] = lines[-1][:20]
    assert verify_lines(lines)['first_bad_line'] == 6

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import GENESIS, Chain, chain_break, verify_lines


def _log(count=6, key=None):
    chain = Chain(key=key)
    return [chain.seal({'event': 'host_result', 'host': 'h%d' % i, 'status': 'ok'}).decode() for i in range(count)], chain


def test_intact_log_verifies_and_reports_head():
    lines, chain = _log()
    result = verify_lines(lines, expected_head=chain.head)
    assert result == {'valid': True, 'records': 6, 'head': chain.head, 'first_bad_line': None, 'reason': '', 'breaks': []}


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


def test_expected_head_with_seq_detects_a_cut_tail():
    lines, chain = _log()
    head = {'seq': 6, 'hash': chain.head, 'run_id': 'r', 'records': 6}
    assert verify_lines(lines, expected_head=head)['valid']
    result = verify_lines(lines[:4], expected_head=head)
    assert not result['valid'] and result['first_bad_line'] is None and result['records'] == 4
    assert 'ends at record 4' in result['reason'] and '2 record(s) were cut' in result['reason']


def test_expected_head_with_seq_allows_later_runs_and_detects_a_rewrite():
    lines, _chain = _log()
    head = {'seq': 3, 'hash': json.loads(lines[2])['hash']}
    assert verify_lines(lines, expected_head=head)['valid']  # records 4-6 came from later runs
    rewritten = Chain()
    forged = []
    for line in lines:
        record = json.loads(line)
        for field in ('hash', 'prev_hash', 'seq'):
            record.pop(field)
        record['status'] = 'changed' if record['host'] == 'h1' else record['status']
        forged.append(rewritten.seal(record).decode())
    assert verify_lines(forged)['valid']
    result = verify_lines(forged, expected_head=head)
    assert not result['valid'] and result['first_bad_line'] == 3 and 'rewritten' in result['reason']


def test_records_carry_their_position_and_a_continued_chain_keeps_counting():
    lines, chain = _log(3)
    assert [json.loads(line)['seq'] for line in lines] == [1, 2, 3]
    more = Chain(head=chain.head, seq=chain.seq)
    lines.append(more.seal({'event': 'playbook_start'}).decode())
    assert json.loads(lines[-1])['seq'] == 4 and verify_lines(lines)['valid'] and more.count == 1


def test_expected_head_must_be_a_hash_or_mapping():
    lines, _chain = _log(2)
    with pytest.raises(ValueError, match='expected_head'):
        verify_lines(lines, expected_head=['x'])
    with pytest.raises(ValueError, match='seq must be an integer'):
        verify_lines(lines, expected_head={'seq': 'three', 'hash': 'x'})


@pytest.mark.parametrize(('written_with', 'verified_with', 'named'), [
    ('k1', 'k2', 'wrong or missing key: line 1 does not verify with the HMAC key given'),
    ('k1', None, 'wrong or missing key: line 1 does not verify as plain SHA-256; the log was probably written with an HMAC key'),
    (None, 'k1', 'wrong or missing key: line 1 is a plain SHA-256 record but an HMAC key was given'),
])
def test_a_wrong_or_missing_key_is_named_as_such(written_with, verified_with, named):
    lines, _chain = _log(key=written_with)
    result = verify_lines(lines, key=verified_with)
    assert not result['valid'] and result['first_bad_line'] == 1 and result['reason'].startswith(named)


def test_an_altered_first_line_is_not_blamed_on_the_key():
    lines, _chain = _log(key='k1')
    lines[0] = lines[0].replace('"h0"', '"hX"')
    result = verify_lines(lines, key='k1')
    assert result['first_bad_line'] == 1 and result['reason'] == 'line 1 was altered (its hash does not match its content)'


def _broken_then_new_segment():
    """A log whose line 3 was altered, then a chain_break and a new segment of two records."""
    lines, _chain = _log(4)
    lines[2] = lines[2].replace('"h2"', '"hX"')
    chain = Chain(seq=4)
    lines.append(chain.seal(chain_break('line 3 was altered', 4, 'abc')).decode())
    lines.extend(chain.seal({'event': 'host_result', 'host': 'n%d' % i}).decode() for i in range(2))
    return lines, chain


def test_a_chain_break_starts_a_segment_that_verifies_on_its_own():
    lines, chain = _broken_then_new_segment()
    whole = verify_lines(lines)
    assert not whole['valid'] and whole['first_bad_line'] == 3
    assert whole['breaks'] == [{'line': 5, 'reason': 'line 3 was altered', 'after_line': 4}]
    last = verify_lines(lines, since_last_break=True)
    assert last['valid'] and last['records'] == 7 and last['head'] == chain.head
    assert verify_lines(lines, since_last_break=True, expected_head={'seq': 7, 'hash': chain.head})['valid']
    # The new segment is verified like any other: an edit in it is named.
    lines[-1] = lines[-1].replace('"n1"', '"nX"')
    assert verify_lines(lines, since_last_break=True)['first_bad_line'] == 7


def test_a_forged_break_in_the_middle_of_a_good_chain_is_reported():
    lines, _chain = _log(4)
    forged = Chain(seq=2)
    tail = [forged.seal(chain_break('nothing wrong', 2, 'x')).decode(), *lines[3:]]
    result = verify_lines(lines[:2] + tail)
    # The break is listed, and the record after it no longer chains to the forged break.
    assert result['breaks'][0]['line'] == 3 and not result['valid'] and result['first_bad_line'] == 4

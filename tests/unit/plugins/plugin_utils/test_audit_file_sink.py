# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a run continues the audit chain: tail verification, large logs, and the lock."""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import audit_file_sink
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import GENESIS, Chain
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_file_sink import AuditLogError, FileSink, tail_state


def _write(path, count, key=None):
    chain = Chain(key=key)
    lines = [chain.seal({'event': 'host_result', 'n': i, 'pad': 'x' * 100}).decode() for i in range(count)]
    path.write_text('\n'.join(lines) + '\n')
    return lines, chain


def test_a_new_or_empty_log_starts_at_genesis(tmp_path):
    assert tail_state(str(tmp_path / 'none.jsonl')) == {'head': GENESIS, 'records': 0, 'problem': None, 'lines': 0}
    (tmp_path / 'empty.jsonl').write_text('')
    assert tail_state(str(tmp_path / 'empty.jsonl'))['head'] == GENESIS


def test_a_large_log_is_verified_from_its_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(audit_file_sink, 'WHOLE_LOG_BYTES', 10_000)
    monkeypatch.setattr(audit_file_sink, 'TAIL_RECORDS', 20)
    path = tmp_path / 'big.jsonl'
    lines, chain = _write(path, 300)
    assert tail_state(str(path)) == {'head': chain.head, 'records': 300, 'problem': None, 'lines': 300}
    # An edit before the tail is not seen by the quick check (audit_verify reads the whole log); one inside it is.
    edited = list(lines)
    edited[10] = edited[10].replace('"n":10', '"n":99')
    path.write_text('\n'.join(edited) + '\n')
    assert tail_state(str(path))['problem'] is None
    edited[295] = edited[295].replace('"n":295', '"n":99')
    path.write_text('\n'.join(edited) + '\n')
    state = tail_state(str(path))
    assert state['problem'] == 'line 296 was altered (its hash does not match its content)'
    assert state['lines'] == 300


def test_a_log_without_a_final_newline_is_not_continued(tmp_path):
    path = tmp_path / 'log.jsonl'
    _write(path, 3)
    path.write_bytes(path.read_bytes()[:-1])
    assert tail_state(str(path))['problem'] == 'its last line is incomplete (a run was stopped while writing it)'


def test_garbage_is_not_taken_for_a_chain(tmp_path):
    path = tmp_path / 'log.jsonl'
    path.write_text('not json\n')
    assert 'line 1 is not valid JSON' in tail_state(str(path))['problem']


def test_the_lock_is_exclusive_between_sinks(tmp_path):
    path = str(tmp_path / 'log.jsonl')
    first = FileSink(path)
    with pytest.raises(AuditLogError, match='another run is writing this audit log; waited 0 s'):
        FileSink(path, lock_timeout=0.0)
    first.close()
    FileSink(path, lock_timeout=0.0).close()

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The spool and the webhook sender against a real HTTP receiver that goes down and comes back."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool import Spool
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_webhook_sink import EVENT_ID_HEADER, WebhookSink, event_id_of, parse_headers
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.audit_receivers import deduplicated


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # urllib honours *_proxy variables; the receiver is on loopback.
    monkeypatch.setenv('no_proxy', '127.0.0.1')


def _line(seq, run='run-1'):
    return json.dumps({'event_id': '%s:%d' % (run, seq), 'type': 'audit_record', 'record': {'seq': seq}},
                      separators=(',', ':')).encode()


def test_spool_files_are_private_and_offsets_survive_reopen(tmp_path):
    spool = Spool(str(tmp_path / 'spool'))
    for seq in range(1, 5):
        spool.append(_line(seq))
    assert stat.S_IMODE(os.stat(tmp_path / 'spool').st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / 'spool' / 'events.jsonl').st_mode) == 0o600
    pending = spool.pending()
    assert [event_id_of(line) for _end, line in pending] == ['run-1:1', 'run-1:2', 'run-1:3', 'run-1:4']
    spool.ack(pending[1][0])
    spool.close()
    reopened = Spool(str(tmp_path / 'spool'))
    assert [event_id_of(line) for _end, line in reopened.pending()] == ['run-1:3', 'run-1:4']
    assert reopened.backlog() == 2
    reopened.compact()  # not everything delivered: nothing removed
    assert reopened.backlog() == 2
    reopened.ack(reopened.pending()[-1][0])
    reopened.compact()
    assert os.path.getsize(tmp_path / 'spool' / 'events.jsonl') == 0 and reopened.pending() == []
    reopened.append(_line(5))
    assert [event_id_of(line) for _end, line in reopened.pending()] == ['run-1:5']


def test_offset_beyond_an_emptied_file_restarts_at_zero(tmp_path):
    spool = Spool(str(tmp_path))
    spool.append(_line(1))
    spool.ack(spool.pending()[0][0])
    spool.close()
    (tmp_path / 'events.jsonl').write_bytes(b'')  # a crash after emptying the file, before the offset reset
    reopened = Spool(str(tmp_path))
    reopened.append(_line(2))
    assert [event_id_of(line) for _end, line in reopened.pending()] == ['run-1:2']


def test_headers_and_bad_urls():
    assert parse_headers(['X-Team: ops', 'X-A:b:c']) == {'X-Team': 'ops', 'X-A': 'b:c'}
    with pytest.raises(ValueError, match='webhook_headers'):
        parse_headers(['no colon'])
    with pytest.raises(ValueError, match='webhook_headers entry for X-Name: only latin-1'):
        parse_headers(['X-Name: \u0436'])
    with pytest.raises(ValueError, match='webhook_url ftp://\\*\\*\\*\\*\\*\\*\\*\\*@x'):
        WebhookSink('ftp://user:pw@x/', None)


def test_delivers_in_order_with_token_and_event_id_header(tmp_path, webhook_receiver):
    sink = WebhookSink(webhook_receiver.url, Spool(str(tmp_path)), timeout=2, headers={'X-Team': 'ops'}, token='t0ken-value')  # noqa: S106
    for seq in range(1, 21):
        sink.send(_line(seq))
    assert sink.close(10) == 0
    events = webhook_receiver.events()
    assert [e['event_id'] for e in events] == ['run-1:%d' % seq for seq in range(1, 21)]
    headers = webhook_receiver.headers[0]
    assert headers['Authorization'] == 'Bearer t0ken-value' and headers['X-Team'] == 'ops'
    assert headers[EVENT_ID_HEADER] == 'run-1:1' and headers['Content-Type'] == 'application/json'
    assert os.path.getsize(tmp_path / 'events.jsonl') == 0  # delivered spool compacted
    assert b't0ken' not in (tmp_path / 'delivered').read_bytes()


def test_outage_mid_run_then_next_run_delivers_everything_in_order(tmp_path, webhook_receiver):
    spool_dir = str(tmp_path / 'spool')
    sink = WebhookSink(webhook_receiver.url, Spool(spool_dir), timeout=1)
    for seq in range(1, 6):
        sink.send(_line(seq))
    webhook_receiver.wait_for(lambda events: len(events) == 5)
    webhook_receiver.stop()
    started = time.monotonic()
    for seq in range(6, 11):
        sink.send(_line(seq))  # the play goes on while the endpoint is down
    assert time.monotonic() - started < 0.5
    left = sink.close(1.0)
    assert left == 5 and 'Connection refused' in sink.last_error and sink.failures >= 1
    # the next run: the endpoint is back, answers the first retry with 503 after storing it (a duplicate)
    webhook_receiver.fail_next = 1
    webhook_receiver.start()
    sink = WebhookSink(webhook_receiver.url, Spool(spool_dir), timeout=1)
    for seq in range(1, 4):
        sink.send(_line(seq, run='run-2'))
    assert sink.close(10) == 0
    ids = [e['event_id'] for e in webhook_receiver.events()]
    assert ids.count('run-1:6') == 2  # redelivered after the 503: at least once
    assert [e['event_id'] for e in deduplicated(webhook_receiver.events())] == (
        ['run-1:%d' % seq for seq in range(1, 11)] + ['run-2:%d' % seq for seq in range(1, 4)])


def test_a_run_id_beyond_ascii_is_delivered_with_an_encoded_header(tmp_path, webhook_receiver):
    sink = WebhookSink(webhook_receiver.url, Spool(str(tmp_path)), timeout=2)
    sink.send(_line(1, run='l\u00e4uf \u0436'))
    assert sink.close(5) == 0
    assert webhook_receiver.events()[0]['event_id'] == 'l\u00e4uf \u0436:1'
    assert webhook_receiver.headers[0][EVENT_ID_HEADER] == 'l%C3%A4uf%20%D0%B6:1'


def test_a_new_event_retries_early_after_the_endpoint_returns(tmp_path, webhook_receiver):
    webhook_receiver.stop()
    sink = WebhookSink(webhook_receiver.url, Spool(str(tmp_path)), timeout=1)
    sink.send(_line(1))
    time.sleep(1.5)  # several failed attempts: the back-off has grown
    webhook_receiver.start()
    sink.send(_line(2))
    events = webhook_receiver.wait_for(lambda events: len(events) == 2, timeout=5)
    assert [e['event_id'] for e in events] == ['run-1:1', 'run-1:2']
    assert sink.close(2) == 0

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The webhook events kept in the asset database between runs: taken in one transaction, kept in order, bounded."""

from __future__ import annotations

import json

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool_store import SpoolStoreError, keep_spooled, take_spooled

URL = 'https://hooks.example.org/audit?token=s3cret'


def _event(number, size=0):
    return json.dumps({'event_id': 'run:%d' % number, 'type': 'audit_record', 'pad': 'x' * size}, separators=(',', ':')).encode('utf-8')


def test_events_are_kept_in_order_and_taken_once(asset_db):
    keep_spooled(asset_db, URL, [_event(1), _event(2)])
    keep_spooled(asset_db, URL, [_event(3)])
    keep_spooled(asset_db, 'https://other.example.org/', [_event(9)])
    received = []
    assert take_spooled(asset_db, URL, received.extend) == 3
    assert received == [_event(1), _event(2), _event(3)]
    assert take_spooled(asset_db, URL, received.extend) == 0 and len(received) == 3
    assert take_spooled(asset_db, 'https://other.example.org/', received.extend) == 1


def test_what_the_receiver_cannot_take_stays(asset_db):
    keep_spooled(asset_db, URL, [_event(1), _event(2), _event(3)])
    assert take_spooled(asset_db, URL, lambda lines: lines[1:]) == 1
    received = []
    take_spooled(asset_db, URL, received.extend)
    assert received == [_event(2), _event(3)]


def test_a_receiver_that_fails_leaves_every_event(asset_db):
    keep_spooled(asset_db, URL, [_event(1)])

    def broken(_lines):
        raise OSError('disk full')

    with pytest.raises(OSError):
        take_spooled(asset_db, URL, broken)
    received = []
    assert take_spooled(asset_db, URL, received.extend) == 1 and received == [_event(1)]


def test_a_bounded_spool_keeps_the_newest_and_counts_the_dropped(asset_db):
    keep_spooled(asset_db, URL, [_event(number, size=900) for number in range(10)], max_bytes=4096)
    keep_spooled(asset_db, URL, [_event(10, size=900)], max_bytes=4096)
    received = []
    take_spooled(asset_db, URL, received.extend)
    events = [json.loads(line) for line in received]
    assert sum(len(line) + 1 for line in received) <= 4096
    assert events[0]['type'] == 'spool_dropped'
    kept = [event['event_id'] for event in events[1:]]
    assert kept == ['run:%d' % number for number in range(11 - len(kept), 11)]
    # Every event is either delivered or counted, across both bounded writes.
    assert events[0]['dropped'] + len(kept) == 11


def test_an_unusable_database_is_named(tmp_path):
    (tmp_path / 'not-a-directory').write_text('')
    location = str(tmp_path / 'not-a-directory' / 'assets.db')
    with pytest.raises(SpoolStoreError, match=str(tmp_path / 'not-a-directory')):
        keep_spooled(location, URL, [_event(1)])
    with pytest.raises(SpoolStoreError, match=str(tmp_path / 'not-a-directory')):
        take_spooled(location, URL, list)

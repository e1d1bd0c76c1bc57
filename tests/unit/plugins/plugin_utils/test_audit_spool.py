# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bounded webhook spool: oldest dropped with a counted event, or refused; disk use stays bounded."""

from __future__ import annotations

import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool import Spool, SpoolFull


def _event(n):
    return json.dumps({'event_id': 'run:%d' % n, 'type': 'audit_record', 'pad': 'x' * 80}).encode()


def _pending_ids(spool):
    return [json.loads(line)['event_id'] for _end, line in spool.pending(limit=10_000)]


def test_a_full_spool_drops_the_oldest_and_says_how_many(tmp_path):
    spool = Spool(str(tmp_path / 'spool'), max_bytes=4096)
    for n in range(100):
        spool.append(_event(n))
    ids = _pending_ids(spool)
    assert spool.dropped > 0 and ids[-1] == 'run:99'
    markers = [json.loads(line) for _end, line in spool.pending(limit=10_000) if b'spool_dropped' in line]
    assert sum(marker['dropped'] for marker in markers) == spool.dropped
    assert all(marker['event_id'].startswith('spool-dropped:') for marker in markers)
    kept = [i for i in ids if i.startswith('run:')]
    assert kept == ['run:%d' % n for n in range(100 - len(kept), 100)]       # the newest, in order
    files = sum(os.path.getsize(os.path.join(spool.directory, name)) for name in os.listdir(spool.directory))
    assert files < 2 * 4096 + 200
    spool.close()


def test_a_refusing_spool_keeps_what_it_has(tmp_path):
    spool = Spool(str(tmp_path / 'spool'), max_bytes=4096, on_full='refuse')
    accepted = 0
    with pytest.raises(SpoolFull, match=r'holds \d+ undelivered bytes and may hold 4096 \(spool_max_bytes\)'):
        for n in range(100):
            spool.append(_event(n))
            accepted += 1
    assert _pending_ids(spool) == ['run:%d' % n for n in range(accepted)] and spool.dropped == 0
    spool.close()


def test_an_ack_from_before_a_reclaim_does_not_skip_events(tmp_path):
    spool = Spool(str(tmp_path / 'spool'), max_bytes=4096)
    spool.append(_event(0))
    batch = spool.pending()
    for n in range(1, 200):    # the oldest are dropped and the file rewritten meanwhile
        spool.append(_event(n))
    spool.ack(batch[-1][0])
    assert _pending_ids(spool)[-1] == 'run:199' and 'run:199' in _pending_ids(spool)
    before = _pending_ids(spool)
    spool.close()
    assert _pending_ids(Spool(str(tmp_path / 'spool'), max_bytes=4096)) == before


@pytest.mark.parametrize(('options', 'named'), [({'max_bytes': 100}, 'at least 4096'), ({'on_full': 'drop'}, 'drop_oldest or refuse')])
def test_bad_spool_options_are_named(tmp_path, options, named):
    with pytest.raises(ValueError, match=named):
        Spool(str(tmp_path / 'spool'), **options)

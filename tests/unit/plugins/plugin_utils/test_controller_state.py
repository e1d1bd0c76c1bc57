# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller state in the asset database (SQLite and the test PostgreSQL): the incident delivery state that jobs in
fresh containers share, changed under a row lock."""

from __future__ import annotations

import os
import threading
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import incident_events as ie
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, asset_db_exists
from ansible_collections.patchwise.patching.plugins.plugin_utils.controller_state import StateDocument, StateError

URL = 'https://incidents.example.org/hook'


def _document(asset_db):
    return StateDocument(asset_db, 'incident_event', ie.empty_state, ie.check_state)


def _event(host='web1', run_id='run-1'):
    return ie.build_event('host_failed', run_id, host, step='Install updates', reason='dpkg failed')


class Receiver:
    """What a webhook got, or a failure for the next ``failures`` events."""

    def __init__(self, failures=0, delay=0.0):
        self.received = []
        self.failures = failures
        self.delay = delay
        self._lock = threading.Lock()

    def send(self, event):
        time.sleep(self.delay)
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise ie.DeliveryError('POST %s failed after 1 attempt(s): HTTPError: 503' % URL)
            self.received.append(event['incident_id'])


def test_a_later_job_finds_the_incident_sent_and_sends_it_no_more(asset_db):
    receiver = Receiver()
    event = _event()
    first = ie.Deliverer(_document(asset_db), URL, receiver.send).run(event)
    # A new job: a new process, container and connection, the same database.
    again = ie.Deliverer(_document(asset_db), URL, receiver.send).run(event)
    assert (first['status'], again['status']) == ('sent', 'already_sent')
    assert receiver.received == [event['incident_id']]
    with AssetStore(asset_db, readonly=True) as store:
        stored = store.state_document('incident_event')
    assert stored['incidents'][event['incident_id']]['status'] == 'sent'


def test_an_undelivered_incident_waits_in_the_database_for_the_next_job(asset_db):
    down, up = Receiver(failures=1), Receiver()
    lost = _event('web1')
    outcome = ie.Deliverer(_document(asset_db), URL, down.send).run(lost)
    assert (outcome['status'], outcome['pending']) == ('pending', [lost['incident_id']])
    later = ie.Deliverer(_document(asset_db), URL, up.send).run(_event('web2'))
    assert later['status'] == 'sent' and sorted(later['delivered']) == sorted([lost['incident_id'], _event('web2')['incident_id']])
    assert later['pending'] == []


def test_two_jobs_at_once_send_an_incident_once(asset_db):
    """The row lock: both jobs claim under it, so the second sees the first's claim (in flight) and sends nothing."""
    receiver = Receiver(delay=0.5)
    event = _event()
    _document(asset_db).update(lambda state: (None, False))   # the table exists before the race
    outcomes = []

    def job():
        outcomes.append(ie.Deliverer(_document(asset_db), URL, receiver.send).run(event)['status'])

    threads = [threading.Thread(target=job), threading.Thread(target=job)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ['in_flight', 'sent'] and receiver.received == [event['incident_id']]


def test_check_mode_reads_and_creates_nothing(asset_db):
    receiver = Receiver()
    outcome = ie.Deliverer(_document(asset_db), URL, receiver.send).run(_event(), check_mode=True)
    assert outcome['status'] == 'would_send' and receiver.received == []
    if '://' not in asset_db:
        assert not os.path.exists(asset_db), 'a check run creates no database'
    else:
        assert not asset_db_exists(asset_db), 'a check run creates no tables'


def test_a_document_that_is_not_an_incident_state_is_refused_by_name(asset_db):
    with AssetStore(asset_db) as store:
        store.update_state_document('incident_event', lambda value: (None, ['not', 'a', 'state']))
    with pytest.raises(ie.IncidentError, match=r'controller_state incident_event\) has no "incidents" mapping'):
        ie.Deliverer(_document(asset_db), URL, Receiver().send).run(_event())


def test_an_unreachable_database_is_named_without_its_password():
    document = _document('postgresql://patchwise:secret@127.0.0.1:9/assets')
    with pytest.raises(StateError) as raised:
        ie.Deliverer(document, URL, Receiver().send).run(_event())
    assert '127.0.0.1' in str(raised.value) and 'secret' not in str(raised.value)

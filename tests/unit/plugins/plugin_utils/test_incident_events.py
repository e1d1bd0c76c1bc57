# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Incident events: ids, event contents, the state file, and delivery to a real HTTP receiver on loopback."""

from __future__ import annotations

import functools
import json
import os
import stat
import threading

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import incident_events as ie


def _event(host='web1', kind='host_failed', run_id='run-1', **extra):
    extra.setdefault('reason', 'dpkg failed')
    return ie.build_event(kind, run_id, host, step='Install updates', **extra)


def _deliverer(path, url, **send_options):
    send = functools.partial(ie.send_event, url, timeout=2, retries=send_options.pop('retries', 0), retry_delay=0.05,
                             **send_options)
    return ie.Deliverer(str(path), url, send)


def test_incident_id_is_stable_per_run_and_host_and_one_per_stopped_rollout():
    first = ie.incident_id('run-1', 'host_failed', 'web1')
    assert first == ie.incident_id('run-1', 'host_failed', 'web1') and len(first) == 32
    assert first != ie.incident_id('run-1', 'host_failed', 'web2') != ie.incident_id('run-2', 'host_failed', 'web1')
    assert ie.incident_id('run-1', 'rollout_stopped', 'batch 1') == ie.incident_id('run-1', 'rollout_stopped', 'batch 2')
    assert ie.incident_id('run-1', 'rollout_stopped', 'web1') != first


def test_build_event_holds_the_failure_and_its_audit_records():
    event = _event(change_ref='CHG-9', audit_log='/var/log/patchwise/audit.jsonl', audit_seq=[120, 124],
                   audit_records=['run-1:120'], links=['https://awx.example.com/#/jobs/7'], details={'rc': 100},
                   occurred_at='2026-11-29T02:00:00Z')
    assert event == {
        'schema': 1, 'type': 'incident', 'kind': 'host_failed', 'incident_id': ie.incident_id('run-1', 'host_failed', 'web1'),
        'run_id': 'run-1', 'host': 'web1', 'step': 'Install updates', 'reason': 'dpkg failed', 'change_ref': 'CHG-9',
        'occurred_at': '2026-11-29T02:00:00Z',
        'audit': {'log': '/var/log/patchwise/audit.jsonl', 'seq_from': 120, 'seq_to': 124, 'record_ids': ['run-1:120']},
        'links': ['https://awx.example.com/#/jobs/7'], 'details': {'rc': 100}}
    assert _event(audit_seq=[7])['audit'] == {'seq_from': 7, 'seq_to': 7}
    assert _event()['audit'] == {}


def test_build_event_masks_secrets():
    event = ie.build_event('host_failed', 'r', 'web1', reason='GET https://admin:hunter2@repo/x failed',
                           links=['https://repo/x?token=abc123'], details={'password': 'hunter2', 'rc': 1})
    text = json.dumps(event)
    assert 'hunter2' not in text and 'abc123' not in text
    assert event['details'] == {'password': '********', 'rc': 1}


@pytest.mark.parametrize('arguments, message', [
    (('host_down', 'r', 'web1'), 'kind must be one of'),
    (('host_failed', '', 'web1'), 'no run id'),
    (('host_failed', 'r', ''), 'no host'),
])
def test_build_event_rejects_missing_facts(arguments, message):
    with pytest.raises(ie.IncidentError, match=message):
        ie.build_event(*arguments)


@pytest.mark.parametrize('seq', [[5, 3], [1, 2, 3]])
def test_build_event_rejects_a_bad_seq_range(seq):
    with pytest.raises(ie.IncidentError, match='audit_seq'):
        _event(audit_seq=seq)


def test_default_state_path_beside_the_audit_log_else_under_home(monkeypatch, tmp_path):
    assert ie.default_state_path('/var/log/audit.jsonl') == '/var/log/audit.jsonl.incidents.json'
    monkeypatch.setenv('HOME', str(tmp_path))
    assert ie.default_state_path() == str(tmp_path / '.ansible' / 'patchwise' / 'incidents.json')


def test_state_file_is_written_atomically_0600_and_bad_files_are_named(tmp_path):
    path = tmp_path / 'incidents.json'
    assert ie.load_state(str(path)) == {'schema': 1, 'incidents': {}}
    state = {'schema': 1, 'incidents': {'a': {'status': 'sent'}}}
    ie.save_state(str(path), state)
    assert ie.load_state(str(path)) == state
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ['incidents.json']
    path.write_text('{not json')
    with pytest.raises(ie.IncidentError, match='cannot read incident state file %s' % path):
        ie.load_state(str(path))
    path.write_text('[]')
    with pytest.raises(ie.IncidentError, match='no "incidents" mapping'):
        ie.load_state(str(path))


def test_prune_forgets_old_delivered_incidents_only():
    state = {'incidents': {'old': {'status': 'sent', 'sent_epoch': 0}, 'new': {'status': 'sent', 'sent_epoch': 9e9},
                           'stuck': {'status': 'pending'}}}
    assert ie.prune(state, 30, 1e9) == 1
    assert sorted(state['incidents']) == ['new', 'stuck'] and ie.pending_ids(state) == ['stuck']


def test_send_event_posts_json_with_the_incident_header_and_retries(webhook_receiver):
    event = _event()
    webhook_receiver.fail_next = 1
    ie.send_event(webhook_receiver.url, event, headers={'X-Team': 'ops'}, token='t0ken-value', timeout=2, retries=1,  # noqa: S106
                  retry_delay=0.05)
    assert webhook_receiver.events() == [event, event]
    headers = webhook_receiver.headers[-1]
    assert headers['X-Patchwise-Incident-Id'] == event['incident_id'] and headers['X-Team'] == 'ops'
    assert headers['Authorization'] == 'Bearer t0ken-value' and headers['Content-Type'] == 'application/json'
    webhook_receiver.stop()
    with pytest.raises(ie.DeliveryError, match=r'POST %s failed after 2 attempt\(s\)' % webhook_receiver.url):
        ie.send_event(webhook_receiver.url, event, timeout=1, retries=1, retry_delay=0.05)


def test_one_event_per_run_and_host(webhook_receiver, tmp_path):
    state_path = tmp_path / 'incidents.json'
    deliverer = _deliverer(state_path, webhook_receiver.url)
    first = deliverer.run(_event())
    assert first == {'status': 'sent', 'delivered': [_event()['incident_id']], 'pending': [], 'errors': {}}
    second = deliverer.run(_event(reason='another failure of the same host'))
    assert second['status'] == 'already_sent' and second['delivered'] == []
    third = deliverer.run(_event(host='web2'))
    assert third['status'] == 'sent'
    assert [event['host'] for event in webhook_receiver.events()] == ['web1', 'web2']
    state = json.loads(state_path.read_text())
    assert {entry['status'] for entry in state['incidents'].values()} == {'sent'}
    assert all('event' not in entry for entry in state['incidents'].values())


def test_a_stopped_rollout_is_one_event_per_run(webhook_receiver, tmp_path):
    deliverer = _deliverer(tmp_path / 'incidents.json', webhook_receiver.url)
    assert deliverer.run(_event(host='batch 1', kind='rollout_stopped'))['status'] == 'sent'
    assert deliverer.run(_event(host='batch 2', kind='rollout_stopped'))['status'] == 'already_sent'
    assert deliverer.run(_event(host='batch 1', kind='rollout_stopped', run_id='run-2'))['status'] == 'sent'
    assert [(e['kind'], e['run_id']) for e in webhook_receiver.events()] == [('rollout_stopped', 'run-1'), ('rollout_stopped', 'run-2')]


def test_undelivered_events_stay_pending_and_a_later_call_delivers_them(webhook_receiver, tmp_path):
    state_path = tmp_path / 'incidents.json'
    deliverer = _deliverer(state_path, webhook_receiver.url)
    webhook_receiver.stop()
    down = deliverer.run(_event())
    own = _event()['incident_id']
    assert down['status'] == 'pending' and down['pending'] == [own] and 'POST %s' % webhook_receiver.url in down['errors'][own]
    entry = json.loads(state_path.read_text())['incidents'][own]
    assert entry['status'] == 'pending' and entry['attempts'] == 1 and entry['event']['host'] == 'web1'
    assert entry['claimed_until'] == 0 and 'last_error' in entry
    # The same host again while the receiver is down: still one pending event, retried.
    assert deliverer.run(_event())['status'] == 'pending'
    assert json.loads(state_path.read_text())['incidents'][own]['attempts'] == 2
    webhook_receiver.start()
    later = deliverer.run(_event(host='web2'))
    web2 = _event(host='web2')['incident_id']
    assert later['status'] == 'sent' and sorted(later['delivered']) == sorted([own, web2]) and later['pending'] == []
    assert sorted(event['host'] for event in webhook_receiver.events()) == ['web1', 'web2']
    assert deliverer.run(_event())['status'] == 'already_sent'


def test_pending_events_of_another_url_are_left_alone(webhook_receiver, tmp_path):
    state_path = tmp_path / 'incidents.json'
    elsewhere = 'http://127.0.0.1:%d/other' % webhook_receiver.port
    webhook_receiver.stop()
    _deliverer(state_path, elsewhere).run(_event())
    webhook_receiver.start()
    outcome = _deliverer(state_path, webhook_receiver.url).run(_event(host='web2'))
    assert outcome['delivered'] == [_event(host='web2')['incident_id']]
    assert outcome['pending'] == [_event()['incident_id']]


def test_check_mode_sends_and_writes_nothing(webhook_receiver, tmp_path):
    state_path = tmp_path / 'state' / 'incidents.json'
    outcome = _deliverer(state_path, webhook_receiver.url).run(_event(), check_mode=True)
    assert outcome == {'status': 'would_send', 'delivered': [], 'pending': [_event()['incident_id']], 'errors': {}}
    assert webhook_receiver.events() == [] and not state_path.parent.exists()


def test_an_event_being_sent_by_another_task_is_not_sent_again(webhook_receiver, tmp_path):
    state_path = tmp_path / 'incidents.json'
    event = _event()
    ie.save_state(str(state_path), {'schema': 1, 'incidents': {event['incident_id']: {
        'status': 'pending', 'event': event, 'url': webhook_receiver.url, 'attempts': 0, 'claimed_until': 9e12}}})
    assert _deliverer(state_path, webhook_receiver.url).run(event)['status'] == 'in_flight'
    assert webhook_receiver.events() == []


def test_concurrent_hosts_share_the_state_file(webhook_receiver, tmp_path):
    state_path = tmp_path / 'incidents.json'
    outcomes = {}

    def report(host):
        outcomes[host] = _deliverer(state_path, webhook_receiver.url).run(_event(host=host))

    threads = [threading.Thread(target=report, args=('web%d' % number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert {outcome['status'] for outcome in outcomes.values()} == {'sent'}
    assert len(json.loads(state_path.read_text())['incidents']) == 8
    assert sorted(event['host'] for event in webhook_receiver.events()) == ['web%d' % number for number in range(8)]
    assert os.path.exists(str(state_path) + '.lock')

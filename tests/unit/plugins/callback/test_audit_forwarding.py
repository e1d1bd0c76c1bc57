# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""End to end: real ansible-playbook runs with the audit callback forwarding to a real rsyslogd and a webhook
receiver that is stopped and restarted mid-run; the chain head sent off-host then catches a cut log."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import Chain, verify_lines
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_syslog_sink import SD_ID
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.audit_receivers import Rsyslog, deduplicated

COLLECTIONS_ROOT = pathlib.Path(__file__).resolve().parents[7]
TOKEN = 'webhook-t0ken-value'  # noqa: S105 (test value; must never show up in the log, spool or output)

PLAYBOOK = """
- name: Forwarded play
  hosts: all
  gather_facts: false
  tasks:
    - name: Before the outage
      ansible.builtin.debug:
        msg: before
    - name: Wait until the receiver is down
      ansible.builtin.wait_for:
        path: "{{ marker_dir }}/down"
        timeout: 120
    - name: During the outage
      ansible.builtin.debug:
        msg: during
    - name: Wait until the receiver is back
      ansible.builtin.wait_for:
        path: "{{ marker_dir }}/up"
        timeout: 120
    - name: After the outage
      ansible.builtin.debug:
        msg: after
    - name: Fail one host
      ansible.builtin.fail:
        msg: boom
      when: inventory_hostname == 'h2'
"""

SHORT_PLAYBOOK = """
- name: Short play
  hosts: all
  gather_facts: false
  tasks:
    - name: One task
      ansible.builtin.debug:
        msg: hello
"""


@pytest.fixture
def rsyslog(tmp_path):
    workdir = tmp_path / 'rsyslog'
    workdir.mkdir()
    server = Rsyslog(str(workdir)).start()
    yield server
    server.stop()


def _env(tmp_path, **extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit',
               PATCHWISE_AUDIT_LOG=str(tmp_path / 'audit' / 'log.jsonl'), ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
               ANSIBLE_NOCOLOR='1', no_proxy='127.0.0.1')
    env.pop('PATCHWISE_RUN_ID', None)
    env.update(extra)
    return env


def _playbook(tmp_path, text, env, name='pb.yml'):
    playbook = tmp_path / name
    playbook.write_text(text)
    return subprocess.Popen([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'h1,h2,', '-c', 'local',
                             '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', 'marker_dir=%s' % tmp_path,
                             str(playbook)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _records(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _wait(predicate, what, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError('playbook ended before %s:\n%s' % (what, proc.stdout.read()))
        time.sleep(0.1)
    proc.kill()
    raise AssertionError('timed out waiting for %s:\n%s' % (what, proc.communicate()[0]))


def _host_results(events, task):
    return [e for e in events if e.get('type') == 'audit_record' and e['record'].get('task') == task
            and e['record']['event'] == 'host_result']


def test_syslog_and_webhook_through_an_outage_then_the_head_catches_a_cut_tail(tmp_path, rsyslog, webhook_receiver):
    log = tmp_path / 'audit' / 'log.jsonl'
    env = _env(tmp_path, PATCHWISE_AUDIT_SYSLOG_TARGET='tcp://127.0.0.1:%d' % rsyslog.tcp_port,
               PATCHWISE_AUDIT_SYSLOG_FACILITY='authpriv', PATCHWISE_AUDIT_WEBHOOK_URL=webhook_receiver.url,
               PATCHWISE_AUDIT_WEBHOOK_TOKEN=TOKEN, PATCHWISE_AUDIT_WEBHOOK_TIMEOUT='2',
               PATCHWISE_AUDIT_WEBHOOK_FLUSH_TIMEOUT='30')
    proc = _playbook(tmp_path, PLAYBOOK, env)
    try:
        _wait(lambda: len(_host_results(webhook_receiver.events(), 'Before the outage')) == 2, 'the first results', proc)
        webhook_receiver.stop()
        (tmp_path / 'down').touch()
        # the play goes on: the outage's results are written (and spooled) while nothing can be delivered
        _wait(lambda: any(r.get('task') == 'Wait until the receiver is back' for r in _records(log)),
              'the results during the outage', proc)
        assert not _host_results(webhook_receiver.events(), 'During the outage')
        webhook_receiver.fail_next = 1  # stores the first retried event but answers 503: it must come again
        webhook_receiver.start()
        (tmp_path / 'up').touch()
        output = proc.communicate(timeout=180)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, output  # h2 fails on purpose
    assert TOKEN not in output and 'could not be sent' not in output and 'not yet delivered' not in output, output

    records = _records(log)
    assert verify_lines(log.read_text().splitlines())['valid']
    run_id = records[0]['run_id']
    assert [r['seq'] for r in records] == list(range(1, len(records) + 1))

    # webhook: every record once after de-duplication, in log order, then the chain head
    received = webhook_receiver.events()
    unique = deduplicated(received)
    assert len(received) > len(unique)  # the 503 caused a redelivery
    assert [e['event_id'] for e in unique] == ['%s:%d' % (run_id, r['seq']) for r in records] + ['%s:head' % run_id]
    assert [e['record'] for e in unique[:-1]] == records
    head = unique[-1]
    assert head['type'] == 'chain_head' and head['run_id'] == run_id
    assert (head['seq'], head['hash'], head['records']) == (records[-1]['seq'], records[-1]['hash'], len(records))
    assert all(h['Authorization'] == 'Bearer %s' % TOKEN for h in webhook_receiver.headers)
    spool = tmp_path / 'audit' / 'log.jsonl.spool'
    assert (spool / 'events.jsonl').stat().st_size == 0 and TOKEN not in log.read_text()

    # syslog: one RFC 5424 message per record in order, structured data matching the record, then the head
    messages = rsyslog.wait_for(lambda messages: len(messages) >= len(records) + 1)
    assert len(messages) == len(records) + 1
    for message, record in zip(messages, records):
        sd = message['sd'][SD_ID]
        assert message['msgid'] == record['event'] and message['facility'] == 'authpriv'
        assert sd['run_id'] == run_id and sd['event_id'] == '%s:%d' % (run_id, record['seq'])
        assert sd['seq'] == str(record['seq'])
        assert sd.get('status') == record.get('status') and sd.get('host') == record.get('host')
        assert json.loads(message['msg']) == record
        assert message['severity'] == ('warning' if record.get('status') == 'failed' else 'info')
    assert messages[-1]['msgid'] == 'chain_head' and messages[-1]['severity'] == 'notice'
    assert messages[-1]['sd'][SD_ID]['hash'] == records[-1]['hash']
    assert messages[-1]['sd'][SD_ID]['seq'] == str(len(records))

    # the head sent off-host detects a cut tail that the chain alone cannot see
    lines = log.read_text().splitlines()
    assert verify_lines(lines, expected_head=head)['valid']
    cut = verify_lines(lines[:-2], expected_head=head)
    assert verify_lines(lines[:-2])['valid'] and not cut['valid']
    assert 'ends at record %d' % (len(lines) - 2) in cut['reason'] and '2 record(s) were cut' in cut['reason']
    # a rewritten log (chain recomputed without the edited record's trace) no longer matches the head either
    chain = Chain()
    rewritten = []
    for line in lines:
        record = json.loads(line)
        record.pop('hash'), record.pop('prev_hash'), record.pop('seq')
        if record.get('status') == 'failed':
            record['status'] = 'ok'
        rewritten.append(chain.seal(record).decode())
    assert verify_lines(rewritten)['valid']
    result = verify_lines(rewritten, expected_head=head)
    assert not result['valid'] and 'was rewritten' in result['reason'] and result['first_bad_line'] == len(lines)


def test_events_of_a_run_with_the_endpoint_down_are_delivered_first_by_the_next_run(tmp_path, webhook_receiver):
    webhook_receiver.stop()
    env = _env(tmp_path, PATCHWISE_AUDIT_WEBHOOK_URL=webhook_receiver.url, PATCHWISE_AUDIT_WEBHOOK_FLUSH_TIMEOUT='1',
               PATCHWISE_AUDIT_WEBHOOK_TIMEOUT='1', PATCHWISE_AUDIT_SPOOL_DIR=str(tmp_path / 'spool'))
    started = time.monotonic()
    first = _playbook(tmp_path, SHORT_PLAYBOOK, env)
    output = first.communicate(timeout=120)[0]
    assert first.returncode == 0, output
    assert 'not yet delivered to the webhook' in ' '.join(output.split()), output
    first_records = _records(tmp_path / 'audit' / 'log.jsonl')
    assert time.monotonic() - started < 60
    assert not webhook_receiver.events()

    webhook_receiver.start()
    # The endpoint is up: the flush ends once everything is delivered, and a short timeout would only fail a loaded machine.
    second = _playbook(tmp_path, SHORT_PLAYBOOK, dict(env, PATCHWISE_AUDIT_WEBHOOK_FLUSH_TIMEOUT='60', PATCHWISE_AUDIT_WEBHOOK_TIMEOUT='30'))
    output = second.communicate(timeout=120)[0]
    assert second.returncode == 0 and 'not yet delivered' not in output, output
    records = _records(tmp_path / 'audit' / 'log.jsonl')
    runs = [first_records[0]['run_id'], records[-1]['run_id']]
    assert runs[0] != runs[1]
    expected = []
    for run_id in runs:
        expected += ['%s:%d' % (run_id, r['seq']) for r in records if r['run_id'] == run_id] + ['%s:head' % run_id]
    assert [e['event_id'] for e in deduplicated(webhook_receiver.events())] == expected
    # the second run's head covers both runs' records; the first run's head still matches its own last record
    heads = [e for e in webhook_receiver.events() if e['type'] == 'chain_head']
    assert heads[0]['seq'] == len(first_records) and heads[1]['seq'] == len(records)
    assert heads[1]['records'] == len(records) - len(first_records)
    lines = (tmp_path / 'audit' / 'log.jsonl').read_text().splitlines()
    assert verify_lines(lines, expected_head=heads[0])['valid'] and verify_lines(lines, expected_head=heads[1])['valid']


def test_a_bad_forwarding_option_warns_and_the_file_sink_still_records(tmp_path):
    proc = _playbook(tmp_path, SHORT_PLAYBOOK, _env(tmp_path, PATCHWISE_AUDIT_SYSLOG_TARGET='syslog.example.com'))
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 0, output
    assert 'syslog forwarding disabled' in output and 'syslog_target' in output
    assert [r['event'] for r in _records(tmp_path / 'audit' / 'log.jsonl')][-1] == 'playbook_end'


def test_without_forwarding_nothing_of_it_is_loaded(tmp_path):
    code = ('import sys; sys.path.insert(0, %r); import ansible_collections.patchwise.patching.plugins.callback.audit; '
            'print(sorted(m for m in sys.modules if "audit_" in m))' % str(COLLECTIONS_ROOT))
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout
    assert 'audit_chain' in loaded and 'audit_file_sink' in loaded
    assert 'audit_syslog_sink' not in loaded and 'audit_webhook_sink' not in loaded and 'audit_spool' not in loaded

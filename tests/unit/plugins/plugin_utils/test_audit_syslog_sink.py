# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The syslog sink against a real rsyslogd on loopback (TCP octet counting, UDP), plus message formatting."""

from __future__ import annotations

import json
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_syslog_sink import MAX_MESSAGE, SD_ID, SyslogSink, format_message, parse_target
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.audit_receivers import Rsyslog, RsyslogTLS, free_port, make_certificates


@pytest.fixture
def rsyslog(tmp_path):
    server = Rsyslog(str(tmp_path)).start()
    yield server
    server.stop()


def _event(seq, **extra):
    event = {'ts': '2026-11-29T01:02:03.456789Z', 'event': 'host_result', 'run_id': 'run-1',
             'event_id': 'run-1:%d' % seq, 'seq': seq, 'status': 'ok', 'host': 'web%d' % seq}
    event.update(extra)
    return event


def _body(event):
    return json.dumps(event, sort_keys=True, separators=(',', ':')).encode()


def test_message_is_rfc5424_with_escaped_structured_data():
    event = _event(3, host='we"ird]\\host', status='failed')
    message = format_message(event, b'{"x":1}', facility=16, app_name='patch wise', hostname='ctl', procid=42).decode()
    # local0 (16) * 8 + warning (4) for a failed result
    assert message.startswith('<132>1 2026-11-29T01:02:03.456789Z ctl patchwise 42 host_result [%s ' % SD_ID)
    assert 'host="we\\"ird\\]\\\\host"' in message and 'seq="3"' in message and 'event_id="run-1:3"' in message
    assert message.endswith('] {"x":1}')


def test_oversized_body_keeps_structured_data():
    message = format_message(_event(1), b'{"summary":"%s"}' % (b'x' * MAX_MESSAGE), facility=16, app_name='patchwise',
                             hostname='ctl', procid=1)
    assert len(message) < MAX_MESSAGE and b'event_id="run-1:1"' in message and b'"truncated": true' in message


@pytest.mark.parametrize('target, expected', [
    ('local', ('unix', '/dev/log')), ('unix:///run/x.sock', ('unix', '/run/x.sock')),
    ('udp://127.0.0.1:5514', ('udp', ('127.0.0.1', 5514))), ('tcp://[::1]:6514', ('tcp', ('::1', 6514))),
    ('tcp://logs.example.com', ('tcp', ('logs.example.com', 514)))])
def test_targets(target, expected):
    assert parse_target(target) == expected


@pytest.mark.parametrize('target', ['syslog.example.com', 'http://x:1', 'tcp://', 'tcp://h:notaport'])
def test_bad_targets_are_named(target):
    with pytest.raises(ValueError, match='syslog_target'):
        parse_target(target)


@pytest.mark.parametrize('transport', ['tcp', 'udp', 'unix'])
def test_rsyslog_receives_every_event_in_order_with_structured_data(rsyslog, transport):
    target = {'tcp': 'tcp://127.0.0.1:%d' % rsyslog.tcp_port, 'udp': 'udp://127.0.0.1:%d' % rsyslog.udp_port,
              'unix': 'unix://%s' % rsyslog.unix_socket}[transport]
    sink = SyslogSink(target, facility='authpriv', app_name='pw-test', timeout=2)
    events = [_event(seq) for seq in range(1, 31)]
    for event in events:
        assert sink.send(event, _body(event))
    sink.close()
    received = rsyslog.wait_for(lambda messages: len(messages) >= len(events))
    assert [m['sd'][SD_ID]['event_id'] for m in received] == [e['event_id'] for e in events]
    for message, event in zip(received, events):
        assert message['sd'][SD_ID] == {'run_id': 'run-1', 'event_id': event['event_id'], 'seq': str(event['seq']),
                                        'status': 'ok', 'host': event['host']}
        assert message['msgid'] == 'host_result' and message['app_name'] == 'pw-test'
        assert message['facility'] == 'authpriv' and message['severity'] == 'info'
        assert json.loads(message['msg']) == event


def test_tcp_reconnects_after_receiver_restart(rsyslog):
    sink = SyslogSink('tcp://127.0.0.1:%d' % rsyslog.tcp_port, timeout=2)
    assert sink.send(_event(1), _body(_event(1)))
    rsyslog.wait_for(lambda messages: len(messages) == 1)
    rsyslog.stop()
    rsyslog.start()
    # The first write after the restart may still land in the dead connection's buffer; the sink notices the
    # reset on a following write, reconnects at once and sends that message again.
    for seq in range(2, 6):
        sink.send(_event(seq), _body(_event(seq)))
        time.sleep(0.2)
    sink.close()
    received = rsyslog.wait_for(lambda messages: '5' in [m['sd'][SD_ID]['seq'] for m in messages])
    seqs = [int(m['sd'][SD_ID]['seq']) for m in received]
    assert seqs[-1] == 5 and seqs == sorted(seqs)
    assert sink.sent + sink.dropped == 5


def test_unreachable_receiver_backs_off_without_blocking():
    sink = SyslogSink('tcp://127.0.0.1:%d' % free_port(), timeout=1)
    started = time.monotonic()
    results = [sink.send(_event(seq), _body(_event(seq))) for seq in range(1, 201)]
    assert time.monotonic() - started < 2
    assert not any(results) and sink.dropped == 200 and 'Connection refused' in sink.last_error


@pytest.fixture
def rsyslog_tls(tmp_path):
    server = RsyslogTLS(str(tmp_path)).start()
    yield server
    server.stop()


def test_tls_receiver_gets_every_event_and_a_wrong_ca_gets_none(rsyslog_tls, tmp_path):
    certs = rsyslog_tls.certificates
    target = 'tls://127.0.0.1:%d' % rsyslog_tls.tcp_port
    sink = SyslogSink(target, tls={'ca_file': certs['ca.pem'], 'client_cert': certs['client.pem'], 'client_key': certs['client.key']})
    for seq in range(1, 6):
        assert sink.send(_event(seq), _body(_event(seq)))
    sink.close()
    messages = rsyslog_tls.wait_for(lambda m: len(m) >= 5)
    assert [m['sd'][SD_ID]['seq'] for m in messages] == ['1', '2', '3', '4', '5']
    assert json.loads(messages[0]['msg'])['event_id'] == 'run-1:1'
    # Another CA: the receiver's certificate does not verify, nothing is sent and the reason is kept.
    other = tmp_path / 'other'
    other.mkdir()
    stranger = make_certificates(str(other))
    refused = SyslogSink(target, tls={'ca_file': stranger['ca.pem'], 'client_cert': certs['client.pem'], 'client_key': certs['client.key']})
    assert not refused.send(_event(6), _body(_event(6)))
    assert refused.dropped == 1 and 'CERTIFICATE_VERIFY_FAILED' in refused.last_error
    # No client certificate: the receiver refuses the connection (x509/certvalid); nothing more arrives.
    anonymous = SyslogSink(target, tls={'ca_file': certs['ca.pem']})
    anonymous.send(_event(7), _body(_event(7)))
    anonymous.close()
    time.sleep(1)
    assert len(rsyslog_tls.messages()) == 5


@pytest.mark.parametrize(('tls', 'named'), [
    ({'ca_file': '/nonexistent/ca.pem'}, 'syslog_ca_file /nonexistent/ca.pem: no such file'),
    ({'client_key': __file__}, 'syslog_client_key is set without syslog_client_cert'),
    ({'ca_file': __file__}, 'syslog TLS settings:'),
])
def test_bad_tls_settings_are_named(tls, named):
    with pytest.raises(ValueError, match=named):
        SyslogSink('tls://127.0.0.1:6514', tls=tls)


def test_tls_target_defaults_to_port_6514():
    assert parse_target('tls://logs.example.com') == ('tls', ('logs.example.com', 6514))

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Alertmanager v2 client: parsing and selection rules, then every call against a real Alertmanager."""

from __future__ import annotations

import datetime
import http.server
import re
import socket
import threading
import typing

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import alertmanager as am

UTC = datetime.timezone.utc


def _at(minutes):
    return am.now() + datetime.timedelta(minutes=minutes)


# --- times, durations, matchers ---------------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('2026-11-29T02:00:00Z', datetime.datetime(2026, 11, 29, 2, 0, tzinfo=UTC)),
    ('2026-11-29T03:30:00+01:30', datetime.datetime(2026, 11, 29, 2, 0, tzinfo=UTC)),
    ('2026-11-29T02:00:00.123456789Z', datetime.datetime(2026, 11, 29, 2, 0, 0, 123456, tzinfo=UTC)),
    ('2026-11-29 02:00', datetime.datetime(2026, 11, 29, 2, 0, tzinfo=UTC)),
    ('2026-11-28T21:00:00-0500', datetime.datetime(2026, 11, 29, 2, 0, tzinfo=UTC)),
])
def test_parse_time_reads_rfc3339_and_offsets_as_utc(text, expected):
    assert am.parse_time(text) == expected


def test_parse_time_takes_datetimes_and_epochs_and_rejects_garbage():
    assert am.parse_time(0) == datetime.datetime(1970, 1, 1, tzinfo=UTC)
    assert am.parse_time(datetime.datetime(2026, 1, 1)) == datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for bad in ('tomorrow', '2026-13-01T00:00:00Z', ''):
        with pytest.raises(am.AlertmanagerError, match='not a time'):
            am.parse_time(bad)


def test_format_time_is_utc_with_milliseconds():
    assert am.format_time('2026-11-29T03:00:00.123999+01:00') == '2026-11-29T02:00:00.123Z'


@pytest.mark.parametrize('value, seconds', [(90, 90), ('3600', 3600), ('90m', 5400), ('1h30m', 5400), ('2h', 7200),
                                            ('1d', 86400), ('1w', 604800), ('1.5h', 5400), ('45s', 45)])
def test_parse_duration(value, seconds):
    assert am.parse_duration(value).total_seconds() == seconds


@pytest.mark.parametrize('value', ['soon', '2x', '-5m', 0, 'h'])
def test_parse_duration_rejects(value):
    with pytest.raises(am.AlertmanagerError):
        am.parse_duration(value)


@pytest.mark.parametrize('text, expected', [
    ('instance=~"web1(:.*)?"', am.matcher('instance', 'web1(:.*)?', True, True)),
    ('job="node"', am.matcher('job', 'node')),
    ('env!=test', am.matcher('env', 'test', False, False)),
    ('team !~ "db.*"', am.matcher('team', 'db.*', True, False)),
    (r'msg="say \"hi\""', am.matcher('msg', 'say "hi"')),
    ({'name': 'job', 'value': 'node', 'is_regex': True}, am.matcher('job', 'node', True, True)),
    ({'name': 'job', 'value': 'node', 'isEqual': False}, am.matcher('job', 'node', False, False)),
])
def test_parse_matcher(text, expected):
    assert am.parse_matcher(text) == expected


@pytest.mark.parametrize('bad', ['just text', '=value', {'name': 'job'}, {'value': 'x'}])
def test_parse_matcher_rejects(bad):
    with pytest.raises(am.AlertmanagerError):
        am.parse_matcher(bad)


def test_host_matcher_covers_host_and_host_port_only():
    item = am.host_matcher('web1.example.com')
    assert item['name'] == 'instance' and item['isRegex'] and item['isEqual']
    pattern = re.compile(item['value'])
    assert pattern.fullmatch('web1.example.com') and pattern.fullmatch('web1.example.com:9100')
    assert not pattern.fullmatch('web1xexample.com') and not pattern.fullmatch('web1.example.com.evil')
    custom = am.host_matcher('db1', label='hostname', pattern='{host}')
    assert custom == am.matcher('hostname', 'db1', True, True)
    with pytest.raises(am.AlertmanagerError, match='host is needed'):
        am.host_matcher('')


def test_same_matchers_ignores_order_but_not_operators():
    first = [am.matcher('job', 'node'), am.matcher('instance', 'a', True)]
    assert am.same_matchers(first, list(reversed(first)))
    assert not am.same_matchers(first, [am.matcher('job', 'node'), am.matcher('instance', 'a', False)])
    assert not am.same_matchers(first, first[:1])


def test_matcher_text_round_trips_through_parse_matcher():
    for item in (am.matcher('instance', 'web1(:.*)?', True), am.matcher('msg', 'a "b" \\c', False, False),
                 am.matcher('team', 'db', True, False)):
        assert am.parse_matcher(am.matcher_text(item)) == item


def test_silence_comment_carries_run_id_and_change():
    assert am.silence_comment('patch', '42', 'CHG-1') == 'patch [run_id=42 change=CHG-1]'
    assert am.silence_comment('patch', '42') == 'patch [run_id=42]'
    assert am.silence_comment('patch') == 'patch'


def _silence(ident, state, comment, ends, matchers=None):
    return {'id': ident, 'status': {'state': state}, 'comment': comment, 'endsAt': ends,
            'matchers': matchers or [am.matcher('instance', 'web1', True)]}


def test_find_silences_selects_live_same_matchers_and_comment_or_marker():
    silences = [
        _silence('a', 'active', 'patch [run_id=1]', '2026-11-29T02:00:00Z'),
        _silence('b', 'pending', 'patch [run_id=1 change=X]', '2026-11-29T03:00:00Z'),
        _silence('c', 'expired', 'patch [run_id=1]', '2026-11-29T04:00:00Z'),
        _silence('d', 'active', 'patch [run_id=1]', '2026-11-29T05:00:00Z', [am.matcher('instance', 'web2', True)]),
        _silence('e', 'active', 'someone else', '2026-11-29T06:00:00Z'),
    ]
    matchers = [am.matcher('instance', 'web1', True)]
    assert [s['id'] for s in am.find_silences(silences, matchers, comment='patch [run_id=1]')] == ['a']
    assert [s['id'] for s in am.find_silences(silences, matchers, marker='run_id=1')] == ['b', 'a']
    assert [s['id'] for s in am.find_silences(silences, matchers, comment='nothing like it')] == []


def _alert(fingerprint, starts, ends=None):
    return {'fingerprint': fingerprint, 'startsAt': starts, 'endsAt': ends, 'labels': {'alertname': fingerprint},
            'annotations': {}, 'status': {'state': 'active'}}


def test_fired_between_selects_alerts_started_in_range_and_optionally_ongoing_ones():
    alerts = [
        _alert('before-ended', '2026-11-29T00:00:00Z', '2026-11-29T00:30:00Z'),
        _alert('before-ongoing', '2026-11-29T00:00:00Z', '2026-11-29T02:30:00Z'),
        _alert('inside-late', '2026-11-29T02:40:00Z', '2026-11-29T02:45:00Z'),
        _alert('inside', '2026-11-29T02:10:00Z', '2026-11-29T02:15:00Z'),
        _alert('after', '2026-11-29T03:10:00Z', '2026-11-29T03:15:00Z'),
    ]
    since, until = '2026-11-29T02:00:00Z', '2026-11-29T03:00:00Z'
    assert [a['fingerprint'] for a in am.fired_between(alerts, since, until)] == ['inside', 'inside-late']
    assert [a['fingerprint'] for a in am.fired_between(alerts, since, until, include_ongoing=True)] == [
        'before-ongoing', 'inside', 'inside-late']


def test_compact_alert_keeps_what_an_outcome_needs():
    alert = {'labels': {'alertname': 'HighLoad', 'instance': 'web1:9100'}, 'fingerprint': 'f1',
             'annotations': {'summary': 'load high', 'runbook': 'x'}, 'startsAt': 's', 'endsAt': 'e',
             'status': {'state': 'suppressed', 'silencedBy': ['id1'], 'inhibitedBy': []}, 'receivers': []}
    assert am.compact_alert(alert) == {'labels': {'alertname': 'HighLoad', 'instance': 'web1:9100'},
                                       'summary': 'load high', 'starts_at': 's', 'ends_at': 'e',
                                       'state': 'suppressed', 'silenced_by': ['id1'], 'fingerprint': 'f1'}
    assert am.compact_alert(dict(alert, annotations={'description': 'd'}))['summary'] == 'd'


def test_matchers_from_params_default_and_given():
    params = {'host': 'web1', 'host_label': 'instance', 'host_pattern': '{host}(:.*)?', 'matchers': None}
    assert am.matchers_from_params(params) == [am.matcher('instance', 'web1(:.*)?', True)]
    params['matchers'] = ['job="node"', {'name': 'env', 'value': 'prod'}]
    assert am.matchers_from_params(params) == [am.matcher('job', 'node'), am.matcher('env', 'prod')]


# --- the client against a real Alertmanager ---------------------------------------------------------------------

def test_silence_create_update_keeps_id_and_expire(alertmanager_server):
    client = am.Client(alertmanager_server.url)
    matchers = [am.host_matcher('client-host')]
    silence_id = client.create_silence(matchers, am.now(), _at(60), created_by='tests', comment='client test')
    listed = {s['id']: s for s in client.silences()}
    assert listed[silence_id]['status']['state'] == 'active'
    assert am.same_matchers(listed[silence_id]['matchers'], matchers)
    updated = client.create_silence(matchers, listed[silence_id]['startsAt'], _at(120), created_by='tests', comment='client test',
                                    silence_id=silence_id)
    assert updated == silence_id
    listed = {s['id']: s for s in client.silences()}
    assert abs((am.parse_time(listed[silence_id]['endsAt']) - _at(120)).total_seconds()) < 5
    client.expire_silence(silence_id)
    assert {s['id']: s for s in client.silences()}[silence_id]['status']['state'] == 'expired'


def test_errors_name_method_url_and_status(alertmanager_server):
    client = am.Client(alertmanager_server.url)
    with pytest.raises(am.AlertmanagerError) as caught:
        client.create_silence([am.host_matcher('bad')], _at(60), _at(0), created_by='tests', comment='ends before start')
    assert 'POST %s/api/v2/silences: HTTP 400' % alertmanager_server.url in str(caught.value)
    with pytest.raises(am.AlertmanagerError, match=r'GET %s/nowhere/api/v2/silences: HTTP 404' % re.escape(alertmanager_server.url)):
        am.Client(alertmanager_server.url + '/nowhere').silences()
    with pytest.raises(am.AlertmanagerError, match=r'DELETE .*/api/v2/silence/not-a-uuid: HTTP 422'):
        client.expire_silence('not-a-uuid')
    closed = 'http://127.0.0.1:%d' % _closed_port()
    with pytest.raises(am.AlertmanagerError, match='GET %s/api/v2/alerts.*refused' % re.escape(closed)):
        am.Client(closed).alerts()
    with pytest.raises(am.AlertmanagerError, match='not an http'):
        am.Client('alertmanager:9093')


def _closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_timeout_names_the_url():
    with socket.socket() as silent:
        silent.bind(('127.0.0.1', 0))
        silent.listen(1)
        url = 'http://127.0.0.1:%d' % silent.getsockname()[1]
        with pytest.raises(am.AlertmanagerError, match=r'GET %s/api/v2/silences: .*(timed out|no answer)' % re.escape(url)):
            am.Client(url, timeout=1).silences()


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: typing.ClassVar[list] = []

    def do_GET(self):
        type(self).seen.append(self.headers.get('Authorization'))
        body = b'[]'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_basic_auth_and_bearer_token_are_sent():
    httpd = http.server.HTTPServer(('127.0.0.1', 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = 'http://127.0.0.1:%d' % httpd.server_address[1]
        am.Client(url, username='patch', password='s3cret').silences()  # noqa: S106
        am.Client(url, token='tok123').silences()  # noqa: S106
        assert _Recorder.seen == ['Basic cGF0Y2g6czNjcmV0', 'Bearer tok123']
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_ensure_silence_creates_reuses_moves_and_check_mode_sends_nothing(alertmanager_server):
    client = am.Client(alertmanager_server.url)
    matchers = [am.host_matcher('ensure-host')]
    comment = am.silence_comment('patch', 'run-1', 'CHG-1')
    action, ids, silence = am.ensure_silence(client, matchers, am.now(), _at(60), created_by='tests', comment=comment, check_mode=True)
    assert (action, ids, silence['id']) == ('created', [], None)
    assert not am.find_silences(client.silences(), matchers, comment=comment)
    action, ids, silence = am.ensure_silence(client, matchers, am.now(), _at(60), created_by='tests', comment=comment)
    assert action == 'created' and ids == [silence['id']]
    end = silence['endsAt']
    action, again, _silence_now = am.ensure_silence(client, matchers, am.now(), end, created_by='tests', comment=comment)
    assert (action, again) == ('unchanged', ids)
    action, moved, _preview = am.ensure_silence(client, matchers, am.now(), _at(90), created_by='tests', comment=comment, check_mode=True)
    assert action == 'updated' and moved == ids
    assert am.find_silences(client.silences(), matchers, comment=comment)[0]['endsAt'] == end
    action, moved, silence = am.ensure_silence(client, matchers, am.now(), _at(90), created_by='tests', comment=comment)
    assert action == 'updated' and moved == ids
    assert am.find_silences(client.silences(), matchers, comment=comment)[0]['endsAt'] == silence['endsAt'] != end
    # Found by its run id although the change reference was corrected: the comment is updated, the id kept.
    corrected = am.silence_comment('patch', 'run-1', 'CHG-2')
    action, same, silence = am.ensure_silence(client, matchers, am.now(), silence['endsAt'], created_by='tests', comment=corrected,
                                              marker='run_id=run-1')
    assert action == 'updated' and same == ids and silence['comment'] == corrected
    assert am.expire_silences(client, matchers, marker='run_id=run-1', check_mode=True) == ids
    assert am.find_silences(client.silences(), matchers, marker='run_id=run-1')
    assert am.expire_silences(client, matchers, marker='run_id=run-1') == ids
    assert am.expire_silences(client, matchers, marker='run_id=run-1') == []


def test_ensure_silence_refuses_an_end_before_the_start(alertmanager_server):
    with pytest.raises(am.AlertmanagerError, match='before it starts'):
        am.ensure_silence(am.Client(alertmanager_server.url), [am.host_matcher('reverse-host')], _at(10), _at(5), created_by='tests', comment='x')


def test_alerts_filter_by_matchers_and_flags(alertmanager_server):
    client = am.Client(alertmanager_server.url)
    started = am.now() - datetime.timedelta(seconds=5)
    client.post_alerts([
        {'labels': {'alertname': 'DiskFull', 'instance': 'alerts-host:9100'}, 'annotations': {'summary': 'disk'},
         'startsAt': am.format_time(started)},
        {'labels': {'alertname': 'DiskFull', 'instance': 'alerts-host-2:9100'}, 'startsAt': am.format_time(started)},
    ])
    silence_id = client.create_silence([am.matcher('alertname', 'DiskFull'), am.host_matcher('alerts-host')],
                                       am.now(), _at(30), created_by='tests', comment='alerts test')
    mine = [am.host_matcher('alerts-host')]
    found = _wait(lambda: client.alerts(mine), lambda alerts: alerts and alerts[0]['status']['silencedBy'])
    assert [a['labels']['instance'] for a in found] == ['alerts-host:9100']
    assert found[0]['status'] == {'state': 'suppressed', 'silencedBy': [silence_id], 'inhibitedBy': []}
    assert client.alerts(mine, silenced=False) == []
    assert [a['labels']['instance'] for a in client.alerts([am.host_matcher('alerts-host-2')], silenced=False)] == [
        'alerts-host-2:9100']
    fired = am.fired_between(found, started - datetime.timedelta(seconds=1), am.now())
    assert [am.compact_alert(a)['summary'] for a in fired] == ['disk']
    client.expire_silence(silence_id)


def _wait(fetch, ready, timeout=10):
    deadline = am.now() + datetime.timedelta(seconds=timeout)
    value = fetch()
    while not ready(value) and am.now() < deadline:
        threading.Event().wait(0.1)
        value = fetch()
    return value

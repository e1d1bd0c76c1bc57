# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Change sources and the approval rules: change files, and a real Table API on loopback emulating ServiceNow."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import urllib.parse

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.change_source import (
    ENV_PASSWORD,
    ENV_TOKEN,
    ENV_USER,
    REFUSAL_CODES,
    ChangeRefused,
    ChangeSourceError,
    change_reference,
    check_change,
    host_approvers,
    load_change_file,
    parse_time,
)
from ansible_collections.patchwise.patching.tests.unit.loopback import free_port

AT = parse_time('2026-03-01T12:00:00Z')
API_USER = 'svc-patchwise'
API_PASSWORD = 'pw-change-api-5f1e9a'  # noqa: S105 - the test secret that must appear nowhere
API_TOKEN = 'tok-change-api-8c2d47'  # noqa: S105 - the test secret that must appear nowhere
CHANGE_SYS_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'

CHANGES = """\
changes:
  - id: CHG-1000
    approver: bob@example.org
    hosts: [web*]
    start: 2026-03-01T00:00:00Z
    end: 2026-03-02T00:00:00Z
    description: monthly security updates
  - id: CHG-1001
    hosts: [web01]
    start: 2026-03-01T00:00:00Z
    end: 2026-03-02T00:00:00Z
  - id: CHG-1002
    approver: bob@example.org
    hosts: [db01]
    groups: [db]
    start: 2026-03-01T00:00:00Z
    end: 2026-03-02T00:00:00Z
  - id: CHG-1003
    approver: bob@example.org
    hosts: [web01]
    start: 2026-03-05T00:00:00+01:00
    end: 2026-03-06T00:00:00+01:00
  - id: CHG-1004
    approver: bob@example.org
    hosts: [web01]
    start: 2026-02-27T00:00:00Z
    end: 2026-02-28T00:00:00Z
  - id: CHG-1005
    approver: eve@example.org
    hosts: [web01]
    start: 2026-03-01T00:00:00Z
    end: 2026-03-02T00:00:00Z
  - id: CHG-1006
    approver: carol@example.org
    groups: [web]
    start: 2026-03-01T11:00:00Z
    end: 2026-03-01T13:00:00Z
    emergency: true
"""
APPROVERS = ['bob@example.org', 'carol@example.org']


@pytest.fixture
def changes_file(tmp_path):
    path = tmp_path / 'changes.yml'
    path.write_text(CHANGES)
    return str(path)


def _refusal(change_id, source, **options):
    arguments = {'host': 'web01', 'groups': ['web'], 'approvers': APPROVERS, 'at': AT}
    arguments.update(options)
    with pytest.raises(ChangeRefused) as caught:
        check_change(change_id, source, **arguments)
    return caught.value


# -- change files: the rules --------------------------------------------------------------------


@pytest.mark.parametrize('change_id, options, code, words', [
    ('CHG-9999', {}, 'unknown_id', 'there is no change CHG-9999 in '),
    ('CHG-1001', {}, 'not_approved', 'change CHG-1001 is not approved (it records no approver)'),
    ('CHG-1003', {}, 'not_started', 'it starts at 2026-03-04T23:00:00Z (checked at 2026-03-01T12:00:00Z)'),
    ('CHG-1004', {}, 'expired', 'change CHG-1004 has expired for host web01: it ended at 2026-02-28T00:00:00Z'),
    ('CHG-1002', {}, 'wrong_host', 'change CHG-1002 does not cover host web01 (hosts: db01; groups: db)'),
    ('CHG-1000', {'approvers': []}, 'no_approvers', 'no approvers are registered for host web01'),
    ('CHG-1005', {}, 'approver_not_allowed',
     'change CHG-1005 was approved by eve@example.org, not by an approver of host web01 (approvers: bob@example.org, carol@example.org)'),
    ('CHG-1000', {'emergency': True}, 'not_emergency', 'change CHG-1000 is not flagged emergency'),
])
def test_file_change_refusals(changes_file, change_id, options, code, words):
    refusal = _refusal(change_id, changes_file, **options)
    assert refusal.code == code and code in REFUSAL_CODES
    assert words in refusal.reason
    assert change_id in refusal.reason and 'web01' in refusal.reason
    assert (refusal.change is None) is (code == 'unknown_id')


def test_every_refusal_code_is_exercised_by_the_file_table():
    table = test_file_change_refusals.pytestmark[0].args[1]
    assert sorted({case[2] for case in table}) == sorted(REFUSAL_CODES)


@pytest.mark.parametrize('change_id, options, approver', [
    ('CHG-1000', {'groups': []}, 'bob@example.org'),                                             # by host pattern
    ('CHG-1000', {'at': parse_time('2026-03-01T00:00:00Z')}, 'bob@example.org'),                  # the start is inside
    ('CHG-1006', {'host': 'app7', 'groups': ['eu', 'web'], 'emergency': True}, 'carol@example.org'),  # by group, emergency
    ('CHG-1006', {'host': 'app7'}, 'carol@example.org'),                                          # an emergency change in the window
])
def test_file_change_approves(changes_file, change_id, options, approver):
    arguments = dict({'host': 'web01', 'groups': ['web'], 'approvers': APPROVERS, 'at': AT}, **options)
    answer = check_change(change_id, changes_file, **arguments)
    assert answer['approved'] is True and answer['warnings'] == []
    assert answer['change']['id'] == change_id and answer['change']['approver'] == approver
    assert answer['change']['source'] == changes_file


def test_the_end_is_outside_the_change(tmp_path):
    path = tmp_path / 'changes.json'
    path.write_text(json.dumps([{'id': 'CHG-1', 'approver': 'bob@example.org', 'hosts': ['web01'],
                                 'start': '2026-03-01T00:00:00Z', 'end': '2026-03-01T12:00:00Z'}]))
    answer = check_change('CHG-1', str(path), host='web01', approvers=APPROVERS, at=parse_time('2026-03-01T11:59:59Z'))
    assert answer['approved']
    assert _refusal('CHG-1', str(path), at=parse_time('2026-03-01T12:00:00Z')).code == 'expired'


def test_a_json_list_reads_like_a_yaml_mapping(tmp_path, changes_file):
    listed = [{'id': 'CHG-1000', 'approver': 'bob@example.org', 'hosts': ['web*'], 'start': '2026-03-01T00:00:00Z',
               'end': '2026-03-02T00:00:00Z', 'description': 'monthly security updates'}]
    (tmp_path / 'changes.json').write_text(json.dumps(listed))
    from_json = load_change_file(str(tmp_path / 'changes.json'))['CHG-1000']
    from_yaml = load_change_file(changes_file)['CHG-1000']
    assert dict(from_json, source='') == dict(from_yaml, source='')
    assert from_json['source'] == str(tmp_path / 'changes.json')


def test_operator_approver_is_only_a_claim(changes_file):
    answer = check_change({'id': 'CHG-1000', 'approver': 'carol@example.org'}, changes_file, host='web01', approvers=APPROVERS, at=AT)
    assert answer['change']['approver'] == 'bob@example.org'
    assert answer['warnings'] == ['change_ref names carol@example.org as approver, but change CHG-1000 records bob@example.org; '
                                  'the recorded approver counts']
    refusal = _refusal({'id': 'CHG-1005', 'approver': 'bob@example.org'}, changes_file)
    assert refusal.code == 'approver_not_allowed', 'claiming an allowed approver does not make the change approved by one'


@pytest.mark.parametrize('value, expected', [
    ('CHG-1', ('CHG-1', None)),
    (' CHG-1 ', ('CHG-1', None)),
    (1234, ('1234', None)),
    ({'id': 'CHG-1', 'approver': 'bob@example.org'}, ('CHG-1', 'bob@example.org')),
    ({'id': 'CHG-1', 'approver': ''}, ('CHG-1', None)),
])
def test_change_reference(value, expected):
    assert change_reference(value) == expected


@pytest.mark.parametrize('value, words', [
    ('', 'give the change id'),
    (None, 'give the change id'),
    ({'approver': 'bob@example.org'}, 'give the change id'),
    ({'id': 'CHG-1', 'ticket': 'x'}, 'unknown key(s) ticket'),
    (True, 'give the change id'),
])
def test_unusable_change_reference(value, words):
    with pytest.raises(ValueError, match=r'^change_ref') as caught:
        change_reference(value)
    assert words in str(caught.value)


# -- change files: bad input --------------------------------------------------------------------

_GOOD = '  - {id: CHG-1, approver: bob, hosts: [web01], start: "2026-03-01T00:00:00Z", end: "2026-03-02T00:00:00Z"}\n'


@pytest.mark.parametrize('name, text, message', [
    ('changes.yml', 'changes:\n' + _GOOD + '  - {id: CHG-2, approver: bob, hosts: [web01], start: "2026-03-01T00:00:00Z", end: 2026-13-01}\n',
     "changes.yml: changes[1].end: '2026-13-01' is not an ISO 8601 time with a time zone"),
    ('changes.yml', 'changes:\n  - {id: CHG-1, approver: bob, hosts: [web01], start: 2026-03-01T10:00:00, end: "2026-03-02T00:00:00Z"}\n',
     "changes.yml: changes[0].start: '2026-03-01T10:00:00' is not an ISO 8601 time with a time zone: it has none"),
    ('changes.yml', 'changes:\n  - {id: CHG-1, approver: bob, hosts: [web01], start: 2026-03-01, end: "2026-03-02T00:00:00Z"}\n',
     "changes.yml: changes[0].start: '2026-03-01' is not an ISO 8601 time with a time zone"),
    ('changes.yml', 'changes:\n  - {id: CHG-1, aprover: bob, hosts: [web01], start: "2026-03-01T00:00:00Z", end: "2026-03-02T00:00:00Z"}\n',
     'changes.yml: changes[0]: unknown key(s) aprover; known keys: id, approver, hosts, groups, start, end, emergency, description'),
    ('changes.yml', 'changes:\n' + _GOOD + _GOOD, 'changes.yml: changes[1].id: CHG-1 is listed twice (first as changes[0])'),
    ('changes.yml', 'changes:\n  CHG-1: {approver: bob}\n', 'changes.yml: expected a list of changes, or a mapping with a "changes" list'),
    ('changes.yml', 'CHG-1\n', 'changes.yml: expected a list of changes'),
    ('changes.yml', '', 'changes.yml: expected a list of changes'),
    ('changes.yml', 'changes: [\n', 'changes.yml: not valid YAML'),
    ('changes.json', '{"changes": [}', 'changes.json: not valid JSON'),
    ('changes.yml', 'change:\n' + _GOOD, 'changes.yml: unknown top-level key(s) change; known: changes'),
    ('changes.yml', 'changes:\n  - {id: CHG-1, approver: bob, hosts: [web01], start: "2026-03-02T00:00:00Z", end: "2026-03-01T00:00:00Z"}\n',
     'changes.yml: changes[0].end: 2026-03-01T00:00:00Z is not after start 2026-03-02T00:00:00Z'),
    ('changes.yml', 'changes:\n  - {id: CHG-1, approver: bob, hosts: web01, start: "2026-03-01T00:00:00Z", end: "2026-03-02T00:00:00Z"}\n',
     "changes.yml: changes[0].hosts: must be a list of names, got 'web01'"),
    ('changes.yml', 'changes:\n  - {id: CHG-1, approver: bob, start: "2026-03-01T00:00:00Z", end: "2026-03-02T00:00:00Z"}\n',
     'changes.yml: changes[0]: names no hosts and no groups, so it covers nothing'),
    ('changes.yml', 'changes:\n  - {id: CHG-1, approver: bob, hosts: [a], emergency: "yes", start: "2026-03-01T00:00:00Z", end: "2026-03-02T00:00:00Z"}\n',
     "changes.yml: changes[0].emergency: must be true or false, got 'yes'"),
    ('changes.yml', 'changes:\n  - {approver: bob, hosts: [a], start: "2026-03-01T00:00:00Z", end: "2026-03-02T00:00:00Z"}\n',
     'changes.yml: changes[0].id: every change needs an id (text), got None'),
    ('changes.yml', 'changes:\n  - {id: CHG-1, approver: bob, hosts: [a], start: "2026-03-01T00:00:00Z"}\n',
     'changes.yml: changes[0].end: missing; every change needs a start and an end'),
    ('changes.yml', 'changes:\n  - [CHG-1]\n', 'changes.yml: changes[0]: expected a mapping of change keys, got list'),
])
def test_bad_change_files_name_the_file_and_field(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ChangeSourceError) as caught:
        check_change('CHG-1', str(path), host='web01', approvers=APPROVERS, at=AT)
    assert caught.value.code == 'source_error'
    assert str(caught.value).startswith(str(tmp_path) + '/'), 'the message names the whole path as given'
    assert message in str(caught.value)


def test_missing_change_file(tmp_path):
    with pytest.raises(ChangeSourceError, match=r'nowhere\.yml: cannot read the change file: No such file or directory'):
        check_change('CHG-1', str(tmp_path / 'nowhere.yml'), host='web01', approvers=APPROVERS, at=AT)


def test_an_error_anywhere_in_the_file_is_reported_whichever_change_is_asked_for(tmp_path):
    path = tmp_path / 'changes.yml'
    path.write_text(CHANGES + '  - {id: CHG-2000, approver: bob, hosts: [x], start: "2026-03-01T00:00:00", end: "2026-03-02T00:00:00Z"}\n')
    with pytest.raises(ChangeSourceError, match=r'changes\[7\]\.start'):
        check_change('CHG-1000', str(path), host='web01', approvers=APPROVERS, at=AT)


@pytest.mark.parametrize('text', ['2026-03-01T10:00:00Z', '2026-03-01T11:00:00+01:00', '2026-03-01 10:00:00+0100', '2026-03-01T10:00Z',
                                  '2026-03-01T10:00:00.250000Z'])
def test_times_with_a_zone(text):
    assert parse_time(text).utcoffset() is not None


# -- the host's approvers -----------------------------------------------------------------------


def test_approvers_from_a_register_file(tmp_path):
    register = tmp_path / 'register.yml'
    register.write_text('schema: 1\nhosts:\n  web01: {approvers: [bob@example.org]}\n  db01: {}\n')
    assert host_approvers('web01', register=str(register)) == (['bob@example.org'], 'asset register %s' % register)
    assert host_approvers('db01', register=str(register)) == ([], 'asset register %s' % register)
    assert host_approvers('mail01', register=str(register)) == (None, 'asset register %s, which does not list the host' % register)
    register.write_text('hosts:\n  web01: {approvers: [5]}\n')
    with pytest.raises(ChangeSourceError, match=r"register\.yml: host web01: approvers must be a list of names"):
        host_approvers('web01', register=str(register))
    with pytest.raises(ChangeSourceError, match=r'nowhere\.yml: cannot read the asset register'):
        host_approvers('web01', register=str(tmp_path / 'nowhere.yml'))


def test_approvers_from_the_asset_database(tmp_path):
    database = str(tmp_path / 'assets.db')
    with AssetStore(database) as store:
        store.replace_register({'web01': {'approvers': ['carol@example.org']}}, 'test')
    assert host_approvers('web01', asset_db=database) == (['carol@example.org'], 'asset database %s' % database)
    assert host_approvers('web01', register=None, asset_db=None) == (None, 'no asset register or asset database was given')
    with pytest.raises(ChangeSourceError, match=r'the asset database does not exist'):
        host_approvers('web01', asset_db=str(tmp_path / 'none.db'))


def test_no_approvers_names_where_they_were_looked_up(changes_file):
    refusal = _refusal('CHG-1000', changes_file, approvers=None, approvers_where='asset register /r.yml, which does not list the host')
    assert refusal.code == 'no_approvers'
    assert refusal.reason == ('no approvers are registered for host web01 (asset register /r.yml, which does not list the host), '
                              'so nobody may approve change CHG-1000 for it')


# -- the Table API --------------------------------------------------------------------------------


def _record(number, **fields):
    record = {'sys_id': CHANGE_SYS_ID, 'number': number, 'approval': 'approved', 'type': 'normal', 'cmdb_ci.name': 'web01',
              'start_date': '2026-03-01 00:00:00', 'end_date': '2026-03-02 00:00:00', 'short_description': 'patch web01'}
    record.update(fields)
    return record


class TableAPI:
    """http.server in a thread answering like ServiceNow's Table API for change_request and sysapproval_approver.

    Basic authentication with API_USER/API_PASSWORD or a bearer API_TOKEN; ``faults`` maps a change number to the
    raw (status, body) answered for it. Every request is kept as (table, query parameters, authentication kind)."""

    def __init__(self):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.changes = {}
        self.approvals = []
        self.faults = {}
        self.requests = []
        self._server = None
        self._thread = None

    def add_change(self, record, approvers=()):
        self.changes[record['number']] = record
        for approver in approvers:
            self.approvals.append({'sysapproval': record['sys_id'], 'state': 'approved', 'approver.email': approver})
        self.approvals.append({'sysapproval': record['sys_id'], 'state': 'rejected', 'approver.email': 'mallory@example.org'})

    def _authenticated(self, header):
        basic = 'Basic ' + base64.b64encode(('%s:%s' % (API_USER, API_PASSWORD)).encode()).decode()
        return {basic: 'basic', 'Bearer %s' % API_TOKEN: 'bearer'}.get(header or '')

    def _answer(self, table, params):
        fields = [name for name in params.get('sysparm_fields', '').split(',') if name]
        if table == 'change_request':
            number = params.get('number', '')
            if number in self.faults:
                return self.faults[number]
            rows = [self.changes[number]] if number in self.changes else []
        elif table == 'sysapproval_approver':
            conditions = dict(term.split('=', 1) for term in params.get('sysparm_query', '').split('^') if term)
            rows = [row for row in self.approvals if all(row.get(key) == value for key, value in conditions.items())]
        else:
            return 400, json.dumps({'error': {'message': 'Invalid table %s' % table}, 'status': 'failure'}).encode()
        if fields:
            rows = [{name: row[name] for name in fields if name in row} for row in rows]
        return 200, json.dumps({'result': rows}).encode()

    def start(self):
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                table = url.path.rsplit('/', 1)[-1] if url.path.startswith('/api/now/table/') else ''
                params = dict(urllib.parse.parse_qsl(url.query))
                kind = api._authenticated(self.headers.get('Authorization'))
                api.requests.append((table, params, kind))
                if kind is None:
                    status, body = 401, json.dumps({'error': {'message': 'User Not Authenticated',
                                                              'detail': 'Required to provide Auth information'}, 'status': 'failure'}).encode()
                else:
                    status, body = api._answer(table, params)
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None


def standard_changes(api):
    """The changes the HTTP tests ask for, in ServiceNow's shapes."""
    api.add_change(_record('CHG0030001'), approvers=['bob@example.org'])
    api.add_change(_record('CHG0030002', approval='requested', sys_id='b' * 32))
    api.add_change(_record('CHG0030003', type='emergency', sys_id='c' * 32), approvers=['carol@example.org'])
    api.add_change(_record('CHG0030004', sys_id='d' * 32), approvers=['eve@example.org'])
    api.add_change(_record('CHG0030005', sys_id='e' * 32, start_date='2026-03-01T00:00:00'))
    api.add_change(_record('CHG0030006', sys_id='f' * 32, u_hosts='db01, web01', u_approved_by='bob@example.org', **{'cmdb_ci.name': ''}))
    api.faults['CHG0000500'] = (500, b'{"error": {"message": "boom"}}')
    api.faults['CHG0000666'] = (200, b'<html>maintenance</html>')
    api.faults['CHG0000777'] = (200, b'{"records": []}')
    api.faults['CHG0000888'] = (200, json.dumps({'result': [_record('CHG0000888'), _record('CHG0000888')]}).encode())


@pytest.fixture
def table_api(request):
    """A Table API on a free loopback port for one test, stopped by the finaliser."""
    api = TableAPI().start()
    request.addfinalizer(api.stop)
    standard_changes(api)
    return api


def _basic(api, **extra):
    return dict({'url': api.url, 'user': API_USER, 'password': API_PASSWORD}, **extra)


def _texts(*values):
    return json.dumps(values, default=str)


def test_api_change_approved_with_basic_auth(table_api):
    answer = check_change('CHG0030001', _basic(table_api), host='web01', groups=['web'], approvers=APPROVERS, at=AT, env={})
    assert answer['change'] == {'id': 'CHG0030001', 'approver': 'bob@example.org', 'hosts': ['web01'], 'groups': [],
                                'start': '2026-03-01T00:00:00Z', 'end': '2026-03-02T00:00:00Z', 'emergency': False,
                                'source': table_api.url}
    (table, params, kind), (approval_table, approval_params, approval_kind) = table_api.requests
    assert (table, kind, approval_table, approval_kind) == ('change_request', 'basic', 'sysapproval_approver', 'basic')
    assert params['number'] == 'CHG0030001' and params['sysparm_display_value'] == 'false'
    assert params['sysparm_fields'].split(',') == ['sys_id', 'number', 'approval', 'start_date', 'end_date', 'type', 'cmdb_ci.name']
    assert approval_params['sysparm_query'] == 'sysapproval=%s^state=approved' % CHANGE_SYS_ID
    assert approval_params['sysparm_fields'] == 'approver.email'
    assert API_PASSWORD not in _texts(answer)


def test_api_bearer_token_from_the_environment(table_api):
    answer = check_change('CHG0030003', table_api.url, host='web01', approvers=APPROVERS, emergency=True, at=AT,
                          env={ENV_TOKEN: API_TOKEN})
    assert answer['change']['emergency'] is True and answer['change']['approver'] == 'carol@example.org'
    assert {kind for _table, _params, kind in table_api.requests} == {'bearer'}
    answer = check_change('CHG0030001', table_api.url, host='web01', approvers=APPROVERS, at=AT,
                          env={ENV_USER: API_USER, ENV_PASSWORD: API_PASSWORD})
    assert table_api.requests[-1][2] == 'basic' and answer['approved']


def test_api_field_mapping_overrides(table_api):
    source = _basic(table_api, fields={'hosts': 'u_hosts', 'approver': 'u_approved_by'})
    answer = check_change('CHG0030006', source, host='web01', approvers=APPROVERS, at=AT, env={})
    assert answer['change']['hosts'] == ['db01', 'web01'] and answer['change']['approver'] == 'bob@example.org'
    assert [table for table, _params, _kind in table_api.requests] == ['change_request'], 'the approver came with the change'


def _api_error(api, change_id, source=None, env=None):
    with pytest.raises(ChangeSourceError) as caught:
        check_change(change_id, source or _basic(api), host='web01', approvers=APPROVERS, at=AT, env=env or {})
    assert caught.value.code == 'source_error'
    return str(caught.value)


@pytest.mark.parametrize('change_id, source_options, message', [
    ('CHG0000500', {}, 'GET {url}/api/now/table/change_request?number=CHG0000500: HTTP 500'),
    ('CHG0000666', {}, 'GET {url}/api/now/table/change_request?number=CHG0000666: not JSON'),
    ('CHG0000777', {}, 'GET {url}/api/now/table/change_request?number=CHG0000777: no "result" list'),
    ('CHG0000888', {}, 'GET {url}/api/now/table/change_request?number=CHG0000888: more than one record has number CHG0000888'),
    ('CHG0030001', {'password': 'wrong-' + API_PASSWORD},
     'GET {url}/api/now/table/change_request?number=CHG0030001: HTTP 401 (the credentials were refused)'),
    ('CHG0030001', {'user': None, 'password': None, 'token': 'x' + API_TOKEN},
     'GET {url}/api/now/table/change_request?number=CHG0030001: HTTP 401 (the credentials were refused)'),
    ('CHG0030001', {'table': 'no_such_table'}, 'GET {url}/api/now/table/no_such_table?number=CHG0030001: HTTP 400'),
    ('CHG0030005', {}, "GET {url}/api/now/table/change_request?number=CHG0030005: start_date: '2026-03-01T00:00:00' is neither "
                       'a ServiceNow UTC time (YYYY-MM-DD HH:MM:SS) nor an ISO 8601 time with a time zone'),
    ('CHG0030001', {'fields': {'start': 'u_planned_start'}},
     'GET {url}/api/now/table/change_request?number=CHG0030001: CHG0030001 has no u_planned_start (the field is empty or missing)'),
])
def test_api_errors_name_the_url_and_the_problem(table_api, change_id, source_options, message):
    text = _api_error(table_api, change_id, _basic(table_api, **source_options))
    assert text == message.format(url=table_api.url)
    assert API_PASSWORD not in text and API_TOKEN not in text


def test_api_empty_result_is_an_unknown_id(table_api):
    refusal = _refusal('CHG0099999', _basic(table_api), env={})
    assert refusal.code == 'unknown_id'
    assert refusal.reason == 'there is no change CHG0099999 in %s to approve host web01' % table_api.url


@pytest.mark.parametrize('change_id, options, code, words', [
    ('CHG0030002', {}, 'not_approved', 'change CHG0030002 is not approved (approval: requested), so it cannot approve host web01'),
    ('CHG0030004', {}, 'approver_not_allowed', 'change CHG0030004 was approved by eve@example.org, not by an approver of host web01'),
    ('CHG0030001', {'emergency': True}, 'not_emergency', 'change CHG0030001 is not flagged emergency'),
    ('CHG0030001', {'host': 'db01', 'groups': ['db']}, 'wrong_host', 'change CHG0030001 does not cover host db01 (hosts: web01; groups: none)'),
    ('CHG0030001', {'at': parse_time('2026-03-02T00:00:00Z')}, 'expired', 'it ended at 2026-03-02T00:00:00Z'),
])
def test_api_refusals(table_api, change_id, options, code, words):
    refusal = _refusal(change_id, _basic(table_api), env={}, **options)
    assert refusal.code == code and words in refusal.reason
    assert refusal.change['source'] == table_api.url


def test_api_unreachable(table_api):
    closed = 'http://127.0.0.1:%d' % free_port()
    text = _api_error(table_api, 'CHG0030001', {'url': closed, 'user': API_USER, 'password': API_PASSWORD, 'timeout': 5})
    assert text.startswith('GET %s/api/now/table/change_request?number=CHG0030001: cannot connect: ' % closed)


@pytest.mark.parametrize('source, env, message', [
    ({'url': 'http://%s:%s@127.0.0.1:1' % (API_USER, API_PASSWORD)}, {}, 'change source: url must not carry credentials'),
    ({'url': 'http://127.0.0.1:1/?token=%s' % API_TOKEN}, {}, 'change source: url must be the base URL of the instance'),
    ({'url': 'ftp://127.0.0.1'}, {}, 'change source: url must be an http:// or https:// URL'),
    ({'url': 'http://[::1'}, {}, 'change source: url is not a valid URL'),
    ({'url': 'http://127.0.0.1:1', 'password': API_PASSWORD, 'passwd': API_PASSWORD}, {}, 'change source: unknown key(s) passwd'),
    ({'url': 'http://127.0.0.1:1', 'user': API_USER, 'password': API_PASSWORD, 'token': API_TOKEN}, {},
     'change source: give either user and password or a token, not both'),
    ('http://127.0.0.1:1', {ENV_USER: API_USER}, 'change source: user and password go together'),
    ({'url': 'http://127.0.0.1:1', 'timeout': 0}, {}, 'change source: timeout must be a number of seconds above 0'),
    ({'url': 'http://127.0.0.1:1', 'fields': {'start': 'start date'}}, {}, "change source: fields.start: 'start date' is not a field name"),
    ({'url': 'http://127.0.0.1:1', 'fields': {'approver': 'bad table:approver'}}, {}, 'change source: fields.approver'),
    ({'url': 'http://127.0.0.1:1', 'fields': {'ci': 'cmdb_ci'}}, {}, 'change source: fields: unknown key(s) ci'),
    ({'url': 'http://127.0.0.1:1', 'table': 'change_request;drop'}, {}, 'change source: table must be a table name'),
    ({}, {}, 'change source: give a change file path, an http(s) URL, or a mapping with url'),
    (['changes.yml'], {}, 'change source: give a change file path'),
])
def test_bad_api_settings(source, env, message):
    with pytest.raises(ChangeSourceError) as caught:
        check_change('CHG1', source, host='web01', approvers=APPROVERS, at=AT, env=env)
    assert message in str(caught.value)
    assert API_PASSWORD not in str(caught.value) and API_TOKEN not in str(caught.value)


def test_no_credential_in_any_api_answer(table_api):
    """Every outcome against the API - approval, each refusal, each error - with the secrets set everywhere."""
    texts = []
    for change_id in ('CHG0030001', 'CHG0030002', 'CHG0030004', 'CHG0099999', 'CHG0000500', 'CHG0000666', 'CHG0000777'):
        for source, env in ((_basic(table_api), {ENV_TOKEN: API_TOKEN}), (table_api.url, {ENV_TOKEN: API_TOKEN}),
                            (_basic(table_api, password='bad' + API_PASSWORD), {})):
            try:
                texts.append(check_change(change_id, source, host='web01', approvers=APPROVERS, at=AT, env=env))
            except ChangeRefused as refusal:
                texts.extend([refusal.reason, refusal.change])
            except ChangeSourceError as exc:
                texts.append(str(exc))
    joined = _texts(*texts)
    assert API_PASSWORD not in joined and API_TOKEN not in joined
    assert 'HTTP 401' in joined and 'approval: requested' in joined and 'bob@example.org' in joined

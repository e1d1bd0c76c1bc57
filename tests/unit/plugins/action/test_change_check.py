# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The change_check action plugin, run through ansible-playbook on localhost against change files and a real Table API."""

from __future__ import annotations

import json

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import run_task
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.test_change_source import (
    API_PASSWORD,
    API_TOKEN,
    API_USER,
    TableAPI,
    standard_changes,
)

CHANGES = """\
- id: CHG-1
  approver: bob@example.org
  hosts: [localhost]
  start: 2026-03-01T00:00:00Z
  end: 2026-03-02T00:00:00Z
- id: CHG-2
  approver: bob@example.org
  groups: [ungrouped]
  start: 2026-03-01T00:00:00Z
  end: 2026-03-02T00:00:00Z
  emergency: true
- id: CHG-3
  approver: bob@example.org
  hosts: [db01]
  groups: [db]
  start: 2026-03-01T00:00:00Z
  end: 2026-03-02T00:00:00Z
"""
REGISTER = 'schema: 1\nhosts:\n  localhost: {approvers: [bob@example.org]}\n  web01: {}\n'
AT = '2026-03-01T12:00:00Z'


@pytest.fixture
def files(tmp_path):
    (tmp_path / 'changes.yml').write_text(CHANGES)
    (tmp_path / 'register.yml').write_text(REGISTER)
    return {'changes': str(tmp_path / 'changes.yml'), 'register': str(tmp_path / 'register.yml')}


@pytest.fixture
def table_api(request):
    """A Table API on a free loopback port for one test, stopped by the finaliser."""
    api = TableAPI().start()
    request.addfinalizer(api.stop)
    standard_changes(api)
    return api


def _task(args, name='outcome', ignore_errors=False):
    return '    - patchwise.patching.change_check: %s\n      register: %s\n%s' % (
        json.dumps(args), name, '      ignore_errors: true\n' if ignore_errors else '')


@pytest.mark.parametrize('check', [False, True])
def test_approved_change_with_the_task_defaults(tmp_path, files, check):
    # host and groups default to the task's inventory_hostname and group_names; the source comes from module_defaults
    # through the collection's action group.
    header = '  module_defaults:\n    group/patchwise.patching.patchwise:\n      source: "%s"\n' % files['changes']
    process, outcome = run_task(tmp_path, _task({'change_ref': 'CHG-1', 'register': files['register'], 'at': AT}), check=check,
                                play_header=header)
    assert process.returncode == 0, process.stdout + process.stderr
    assert outcome['approved'] is True and outcome['changed'] is False and 'refused' not in outcome
    assert outcome['change'] == {'id': 'CHG-1', 'approver': 'bob@example.org', 'hosts': ['localhost'], 'groups': [],
                                 'start': '2026-03-01T00:00:00Z', 'end': '2026-03-02T00:00:00Z', 'emergency': False,
                                 'source': files['changes']}
    assert outcome['approvers_source'] == 'asset register %s' % files['register']
    assert outcome['msg'] == 'change CHG-1 approves host localhost until 2026-03-02T00:00:00Z (approved by bob@example.org)'


def test_refusals_fail_the_task_with_code_and_reason(tmp_path, files):
    base = {'source': files['changes'], 'register': files['register'], 'at': AT}
    cases = {
        'wrong_host': dict(base, change_ref='CHG-3'),
        'not_emergency': dict(base, change_ref='CHG-1', emergency=True),
        'no_approvers': dict(base, change_ref='CHG-2', host='web01'),
        'expired': dict(base, change_ref='CHG-1', at='2026-03-02T00:00:00Z'),
        'unknown_id': dict(base, change_ref='CHG-404'),
        'by_group': dict(base, change_ref={'id': 'CHG-2', 'approver': 'bob@example.org'}, emergency=True),
    }
    tasks = ''.join(_task(args, name, ignore_errors=True) for name, args in cases.items())
    tasks += '    - ansible.builtin.set_fact:\n        outcome: {%s}\n' % ', '.join('"%s": "{{ %s }}"' % (name, name) for name in cases)
    process, outcome = run_task(tmp_path, tasks)
    assert process.returncode == 0, process.stdout + process.stderr
    for code in ('wrong_host', 'not_emergency', 'no_approvers', 'expired', 'unknown_id'):
        result = outcome[code]
        assert result['failed'] is True and result['approved'] is False and result['changed'] is False
        assert result['refused']['code'] == code and result['refused']['reason'] == result['msg']
    assert outcome['wrong_host']['msg'] == 'change CHG-3 does not cover host localhost (hosts: db01; groups: db)'
    assert outcome['wrong_host']['change']['id'] == 'CHG-3'
    assert outcome['no_approvers']['msg'] == ('no approvers are registered for host web01 (asset register %s), '
                                              'so nobody may approve change CHG-2 for it' % files['register'])
    assert outcome['unknown_id']['msg'] == 'there is no change CHG-404 in %s to approve host localhost' % files['changes']
    assert 'change' not in outcome['unknown_id']
    assert outcome['by_group']['approved'] is True and outcome['by_group']['change']['emergency'] is True


def test_bad_change_file_fails_with_source_error(tmp_path, files):
    (tmp_path / 'changes.yml').write_text(CHANGES.replace('end: 2026-03-02T00:00:00Z\n- id: CHG-2', 'end: 2026-13-01\n- id: CHG-2'))
    process, outcome = run_task(tmp_path, _task({'change_ref': 'CHG-2', 'source': files['changes'], 'approvers': ['bob@example.org']},
                                                ignore_errors=True))
    assert process.returncode == 0, process.stdout + process.stderr
    assert outcome['refused']['code'] == 'source_error'
    assert outcome['msg'] == "%s: changes[0].end: '2026-13-01' is not an ISO 8601 time with a time zone" % files['changes']


def test_approvers_from_the_asset_database_variable(tmp_path, files):
    database = str(tmp_path / 'assets.db')
    with AssetStore(database) as store:
        store.replace_register({'localhost': {'approvers': ['bob@example.org']}}, 'test')
    header = '  vars:\n    patchwise_asset_db: "%s"\n' % database
    process, outcome = run_task(tmp_path, _task({'change_ref': 'CHG-1', 'source': files['changes'], 'at': AT}), play_header=header)
    assert process.returncode == 0, process.stdout + process.stderr
    assert outcome['approved'] is True and outcome['approvers_source'] == 'asset database %s' % database


def test_bad_moment_is_an_argument_error(tmp_path, files):
    process, outcome = run_task(tmp_path, _task({'change_ref': 'CHG-1', 'source': files['changes'], 'approvers': ['x'],
                                                 'at': '2026-03-01T12:00:00'}))
    assert process.returncode == 2 and outcome is None
    assert "change_check: at: '2026-03-01T12:00:00' is not an ISO 8601 time with a time zone: it has none" in process.stdout


def test_table_api_with_credentials_in_the_task_never_shows_them(tmp_path, table_api):
    source = {'url': table_api.url, 'user': API_USER, 'password': API_PASSWORD}
    common = {'host': 'web01', 'groups': ['web'], 'approvers': ['bob@example.org'], 'at': AT}
    cases = {
        'approved': dict(common, change_ref='CHG0030001', source=source),
        'bad_password': dict(common, change_ref='CHG0030001', source=dict(source, password='x' + API_PASSWORD)),
        'server_error': dict(common, change_ref='CHG0000500', source=dict(source, token=None)),
        'bearer': dict(common, change_ref='CHG0030002', source={'url': table_api.url, 'token': API_TOKEN}),
        'empty': dict(common, change_ref='CHG0099999', source=source),
    }
    tasks = ''.join(_task(args, name, ignore_errors=True) for name, args in cases.items())
    tasks += '    - ansible.builtin.set_fact:\n        outcome: {%s}\n' % ', '.join('"%s": "{{ %s }}"' % (name, name) for name in cases)
    process, outcome = run_task(tmp_path, tasks)
    assert process.returncode == 0, process.stdout + process.stderr
    assert outcome['approved']['approved'] is True
    assert outcome['approved']['change']['source'] == table_api.url and outcome['approved']['change']['approver'] == 'bob@example.org'
    assert outcome['bad_password']['refused']['code'] == 'source_error'
    assert outcome['bad_password']['msg'] == ('GET %s/api/now/table/change_request?number=CHG0030001: HTTP 401 (the credentials were refused)'
                                              % table_api.url)
    assert outcome['server_error']['msg'] == 'GET %s/api/now/table/change_request?number=CHG0000500: HTTP 500' % table_api.url
    assert outcome['bearer']['refused']['code'] == 'not_approved'
    assert outcome['empty']['refused']['code'] == 'unknown_id'
    everything = process.stdout + process.stderr + json.dumps(outcome)
    assert API_PASSWORD not in everything and API_TOKEN not in everything

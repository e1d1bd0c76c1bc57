"""The patch_gate action plugin, run through ansible-playbook on localhost with a real change file."""

from __future__ import annotations

import datetime
import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import run_task


def _time(hours):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)).strftime('%Y-%m-%dT%H:%M:%SZ')


def _changes(tmp_path):
    changes = [{'id': 'CHG-1', 'approver': 'bob', 'hosts': ['web*'], 'start': _time(-1), 'end': _time(2), 'emergency': False},
               {'id': 'CHG-2', 'approver': 'bob', 'groups': ['db'], 'start': _time(-1), 'end': _time(2), 'emergency': True},
               {'id': 'CHG-3', 'approver': 'eve', 'hosts': ['web01'], 'start': _time(-1), 'end': _time(2)}]
    path = tmp_path / 'changes.json'
    path.write_text(json.dumps({'changes': changes}))
    return path


def _gate(tmp_path, options):
    task = ('    - patchwise.patching.patch_gate:\n'
            '        host: web01\n'
            '        groups: [web]\n'
            '%s'
            '      register: outcome\n'
            '      ignore_errors: true\n' % options)
    process, result = run_task(tmp_path, task)
    assert result is not None, process.stdout + process.stderr
    return result


CLOSED = '        window: never\n        windows: {never: {days: [mon], time: "00:00-00:01", timezone: UTC}}\n'


def test_an_open_window_without_approval_passes_and_a_closed_one_refuses(tmp_path):
    result = _gate(tmp_path, '        window: ""\n')
    assert result['allowed'] is True and result['change'] is None and result['changed'] is False
    result = _gate(tmp_path, CLOSED + '        tier: high\n')
    assert result['allowed'] is False and result['code'] == 'window_closed' and not result.get('failed')
    assert "the maintenance window 'never' is closed" in result['reason']


def test_approval_goes_through_the_change_source_and_the_register_approvers(tmp_path):
    source = '        change_source: "%s"\n        approval_required: true\n        approvers: [bob, carol]\n' % _changes(tmp_path)
    result = _gate(tmp_path, source + '        change_ref: CHG-1\n')
    assert result['allowed'] is True and result['change']['id'] == 'CHG-1' and result['change']['approver'] == 'bob'
    assert result['emergency'] is False
    result = _gate(tmp_path, source + '        change_ref: CHG-3\n')
    assert result['allowed'] is False and result['code'] == 'approver_not_allowed' and 'eve' in result['reason']
    result = _gate(tmp_path, source + '        change_ref: CHG-2\n')
    assert result['allowed'] is False and result['code'] == 'wrong_host'
    result = _gate(tmp_path, source + '        change_ref: CHG-404\n')
    assert result['allowed'] is False and result['code'] == 'unknown_id'
    result = _gate(tmp_path, '        approval_required: true\n        change_ref: CHG-1\n')
    assert result['allowed'] is False and result['code'] == 'no_change_source'


def test_the_emergency_path_needs_an_emergency_change(tmp_path):
    source = '        change_source: "%s"\n        approvers: [bob]\n        tier: critical\n' % _changes(tmp_path)
    result = _gate(tmp_path, CLOSED + source + '        change_ref: CHG-1\n')
    assert result['allowed'] is False and result['code'] == 'not_emergency'
    result = _gate(tmp_path, CLOSED + source + '        change_ref: CHG-2\n        groups: [db]\n')
    assert result['allowed'] is True and result['emergency'] is True and result['change']['emergency'] is True


def test_approvers_come_from_the_stored_register_and_a_bad_source_fails_naming_it(tmp_path):
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.replace_register({'web01': {'approvers': ['bob']}}, 'test')
    source = '        change_source: "%s"\n        approval_required: true\n' % _changes(tmp_path)
    result = _gate(tmp_path, source + '        change_ref: CHG-1\n        asset_db: "%s"\n' % (tmp_path / 'assets.db'))
    assert result['allowed'] is True
    (tmp_path / 'bad.yml').write_text('changes:\n  - {id: CHG-1, approver: bob, hosts: [web01], start: "2026-12-01T00:00:00Z", end: "soon"}\n')
    result = _gate(tmp_path, '        change_source: "%s"\n        approval_required: true\n        approvers: [bob]\n'
                   '        change_ref: CHG-1\n' % (tmp_path / 'bad.yml'))
    assert result['failed'] and 'host web01: the change source cannot be used' in result['msg'] and 'changes[0].end' in result['msg']

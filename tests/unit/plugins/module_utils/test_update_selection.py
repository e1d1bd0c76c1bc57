from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.update_selection import (
    SelectionError,
    last_lines,
    package_changes,
    parse_requested,
    select_updates,
)

PENDING = [
    {'name': 'pw-demo-security', 'current': '1.0-1', 'available': '1.0-2', 'security': True, 'origin': 'Debian-Security:bookworm-security'},
    {'name': 'pw-demo-normal', 'current': '1.0-1', 'available': '1.1-1', 'security': False, 'origin': 'Debian:bookworm-updates'},
    {'name': 'pw-demo-held', 'current': '1.0-1', 'available': '1.0-2', 'security': True, 'origin': 'Debian-Security:bookworm-security'},
    {'name': 'linux-image-amd64', 'current': '6.1.112-1', 'available': '6.1.115-1', 'security': True, 'origin': 'Debian-Security:bookworm-security'},
]


def names(entries):
    return [entry['name'] for entry in entries]


def test_security_mode_takes_security_updates_and_leaves_the_normal_update_pending():
    result = select_updates(PENDING, 'security', holds=['pw-demo-held'])
    assert names(result['selected']) == ['linux-image-amd64', 'pw-demo-security']
    assert names(result['held']) == ['pw-demo-held']
    assert names(result['remaining']) == ['pw-demo-normal']
    assert result['selected'][1]['target'] == '1.0-2'


def test_all_mode_takes_every_update_but_holds_and_exclusions():
    result = select_updates(PENDING, 'all', holds=['pw-demo-held'], exclude=['linux-image-*'])
    assert names(result['selected']) == ['pw-demo-normal', 'pw-demo-security']
    assert result['excluded'] == [dict(PENDING[3], target='6.1.115-1', pattern='linux-image-*')]
    assert not result['remaining']


def test_planned_mode_takes_exactly_the_plan_and_reports_what_it_cannot_reach():
    plan = [{'name': 'pw-demo-security', 'target': '1.0-2'}, {'name': 'pw-demo-normal', 'target': '1.2-1'},
            {'name': 'openssl', 'target': '3.0.15-1~deb12u1'}]
    result = select_updates(PENDING, 'planned', requested=parse_requested(plan, 'plan'))
    assert names(result['selected']) == ['pw-demo-security']
    assert names(result['remaining']) == ['linux-image-amd64', 'pw-demo-held']
    assert result['unavailable'] == [
        {'name': 'openssl', 'target': '3.0.15-1~deb12u1', 'reason': 'no pending update for this package'},
        {'name': 'pw-demo-normal', 'target': '1.2-1', 'available': '1.1-1', 'reason': 'the sources offer 1.1-1, older than 1.2-1'},
    ]


def test_a_plan_target_below_the_pending_version_installs_the_newest():
    result = select_updates(PENDING, 'packages', requested=parse_requested(['pw-demo-normal=1.0-5'], 'packages'))
    assert result['selected'][0]['target'] == '1.1-1'
    assert not result['unavailable']


def test_security_mode_adds_the_plan_packages_the_host_does_not_flag():
    result = select_updates(PENDING, 'security', requested={'pw-demo-normal': None})
    assert names(result['selected']) == ['linux-image-amd64', 'pw-demo-held', 'pw-demo-normal', 'pw-demo-security']


def test_named_modes_need_packages_and_modes_are_checked():
    with pytest.raises(SelectionError, match='needs the packages'):
        select_updates(PENDING, 'planned')
    with pytest.raises(SelectionError, match='mode must be one of'):
        select_updates(PENDING, 'everything')
    with pytest.raises(SelectionError, match='no package name'):
        parse_requested([{'target': '1.0'}], 'packages')


def test_parse_requested_forms():
    assert parse_requested(['a', 'b=1.0-2', {'name': 'c', 'target': '2'}, {'name': 'd', 'version': '3'}], 'p') == {
        'a': None, 'b': '1.0-2', 'c': '2', 'd': '3'}


def test_rpm_versions_are_compared_in_rpm_order():
    pending = [{'name': 'openssl-libs', 'current': '1:3.0.7-24.el9', 'available': '1:3.0.7-25.el9', 'security': True}]
    assert select_updates(pending, 'planned', requested={'openssl-libs': '1:3.0.7-25.el9'}, scheme='rpm')['selected']
    assert select_updates(pending, 'planned', requested={'openssl-libs': '1:3.0.7-26.el9'}, scheme='rpm')['unavailable']


def test_package_changes_lists_upgrades_new_and_removed_packages():
    before = {'a': '1', 'b': '1', 'c': '1'}
    after = {'a': '2', 'c': '1', 'd': '1'}
    assert package_changes(before, after) == [
        {'name': 'a', 'from': '1', 'to': '2'}, {'name': 'b', 'from': '1', 'to': None}, {'name': 'd', 'from': None, 'to': '1'}]


def test_last_lines():
    assert last_lines('\n'.join(str(i) for i in range(30)) + '\n', 3) == '27\n28\n29'

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.update_selection import (
    SelectionError,
    held_dependencies,
    last_lines,
    nearest_version,
    package_changes,
    parse_holds,
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
    assert result['excluded'] == [dict(PENDING[3], target='6.1.115-1', match='newest', requested=None, pattern='linux-image-*')]
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
        select_updates(PENDING, 'packages')
    assert not select_updates(PENDING, 'planned')['selected']
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


@pytest.mark.parametrize('offered, lowest, installed, expected', [
    (['1.0-2', '1.0-3'], '1.0-2', '1.0-1', '1.0-2'),      # the exact target
    (['1.0-3', '1.0-4'], '1.0-2', '1.0-1', '1.0-3'),      # gone from the sources: the nearest above
    (['1.0-1', '1.0-2'], '1.0-1', '1.0-1', '1.0-2'),      # never the installed version itself
    (['1.0-1'], '1.0-2', '1.0-1', None),                  # nothing reaches the target
    (['2:1.0-1', '1:9.9-9'], '1:5.0-1', None, '1:9.9-9'),  # epochs order before versions
])
def test_nearest_version(offered, lowest, installed, expected):
    assert nearest_version(offered, lowest, installed, 'deb') == expected


def test_the_plan_target_is_installed_exactly_when_offered_else_the_nearest_and_the_outcome_says_which():
    available = {'pw-demo-normal': ['1.0-5', '1.1-1'], 'pw-demo-security': ['1.0-2']}
    result = select_updates(PENDING, 'planned', requested={'pw-demo-normal': '1.0-5', 'pw-demo-security': '1.0-2'}, available=available)
    assert [(s['name'], s['target'], s['match']) for s in result['selected']] == [
        ('pw-demo-normal', '1.0-5', 'exact'), ('pw-demo-security', '1.0-2', 'exact')]
    result = select_updates(PENDING, 'planned', requested={'pw-demo-normal': '1.0-6'}, available=available)
    assert [(s['target'], s['match'], s['requested']) for s in result['selected']] == [('1.1-1', 'nearest', '1.0-6')]
    result = select_updates(PENDING, 'security')
    assert {s['match'] for s in result['selected']} == {'newest'}


def test_policy_holds_match_patterns_and_give_their_reason_in_every_mode():
    holds = parse_holds([{'name': 'linux-image-*', 'reason': 'kernel freeze', 'until': '2026-12-31', 'finding': 'CVE-1'}], '2026-12-05')
    for mode in ('security', 'all'):
        result = select_updates(PENDING, mode, policy_holds=holds)
        assert [(h['name'], h['reason']) for h in result['held']] == [
            ('linux-image-amd64', 'policy hold: kernel freeze (until 2026-12-31)')]
        assert result['held'][0]['hold']['finding'] == 'CVE-1'
    manager = select_updates(PENDING, 'security', holds=['pw-demo-held'], manager_hold_reason='held by apt-mark hold')
    assert [(h['name'], h['reason']) for h in manager['held']] == [('pw-demo-held', 'held by apt-mark hold')]


def test_parse_holds_drops_expired_holds_and_names_bad_entries():
    entries = [{'name': 'a', 'reason': 'r', 'until': '2026-12-05'}, {'name': 'b', 'reason': 'r', 'until': '2026-12-04'},
               {'name': 'c', 'reason': 'r', 'source': 'register'}]
    assert [(h['name'], h['source']) for h in parse_holds(entries, '2026-12-05')] == [('a', 'policy'), ('c', 'register')]
    for bad, message in ((['x'], r'holds\[0\]: a hold must be a mapping'), ([{'name': '', 'reason': 'r'}], r'holds\[0\]\.name'),
                         ([{'name': 'x', 'reason': 'r', 'until': '5.12.2026'}], r'holds\[0\]\.until')):
        with pytest.raises(SelectionError, match=message):
            parse_holds(bad, '2026-12-05')


def test_held_dependencies_names_the_held_packages_a_selection_drags_along():
    holds = parse_holds([{'name': 'libpq*', 'reason': 'freeze'}], '2026-12-05')
    changes = [{'name': 'postgresql-15', 'from': '15.1', 'to': '15.2'}, {'name': 'libpq5', 'from': '15.1', 'to': '15.2'},
               {'name': 'libpq-new', 'from': None, 'to': '1'}]
    assert [d['name'] for d in held_dependencies(changes, [{'name': 'postgresql-15'}], holds)] == ['libpq5']
    assert held_dependencies(changes, [{'name': 'postgresql-15'}, {'name': 'libpq5'}], holds) == []


def test_a_plan_target_already_reached_asks_for_nothing_and_a_missing_package_is_told_apart():
    installed = {'pw-demo-normal': '1.0-5', 'pw-demo-security': '1.0-1'}
    pending = [dict(PENDING[1], current='1.0-5'), PENDING[0]]
    requested = {'pw-demo-normal': '1.0-5', 'pw-demo-security': '1.0-2', 'openssl': '3.0.15-1'}
    result = select_updates(pending, 'planned', requested=requested, installed=installed)
    assert [s['name'] for s in result['selected']] == ['pw-demo-security']
    assert result['reached'] == [{'name': 'pw-demo-normal', 'target': '1.0-5', 'installed': '1.0-5'}]
    assert result['unavailable'] == [{'name': 'openssl', 'target': '3.0.15-1', 'installed': False, 'reason': 'the package is not installed'}]
    assert [r['name'] for r in result['remaining']] == ['pw-demo-normal'], 'the newer 1.1-1 stays pending'
    # Security mode still takes a security update of a package whose plan target is reached.
    flagged = [dict(PENDING[1], current='1.0-5', security=True)]
    assert [s['target'] for s in select_updates(flagged, 'security', requested=requested, installed=installed)['selected']] == ['1.1-1']


def test_exact_takes_a_frozen_version_or_nothing():
    available = {'pw-demo-normal': ['1.0-5', '1.1-1']}
    frozen = select_updates(PENDING, 'planned', requested={'pw-demo-normal': '1.0-5'}, available=available, exact=True)
    assert [(e['name'], e['target'], e['match']) for e in frozen['selected']] == [('pw-demo-normal', '1.0-5', 'exact')]
    # The mirror dropped 1.0-6's predecessor: without exact the nearest newer version would do; with exact, nothing.
    gone = select_updates(PENDING, 'planned', requested={'pw-demo-normal': '1.0-4'}, available=available, exact=True)
    assert gone['selected'] == []
    assert gone['unavailable'] == [{'name': 'pw-demo-normal', 'target': '1.0-4', 'available': '1.1-1',
                                    'reason': 'the sources no longer offer 1.0-4 (they offer 1.0-5, 1.1-1); only that exact version may be installed'}]
    nearest = select_updates(PENDING, 'planned', requested={'pw-demo-normal': '1.0-4'}, available=available)
    assert nearest['selected'][0]['match'] == 'nearest' and nearest['unavailable'] == []

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The patch baseline: approve-after-N-days, approved and rejected lists, and what the plan, the holds and the
patch state counts make of them."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_baseline import BaselineError, entry_matches, parse_constraint, verdict
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_context import host_holds
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_plan import patch_plan
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_states import system_state_counts
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError, load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskError

TODAY = datetime.date(2026, 12, 5)


def _update(name='openssl', target='3.0.16-1~deb12u1', *, ecosystem='Debian:12', tier='high', kev=None, first_seen='2026-12-01T10:00:00Z',
            fid='CVE-2099-0001', aliases=('DSA-9001-1',)):
    return {'name': name, 'target': target, 'ecosystem': ecosystem,
            'findings': [{'id': fid, 'aliases': list(aliases), 'tier': tier, 'kev': kev, 'first_seen': first_seen}]}


@pytest.mark.parametrize(('text', 'parsed'), [
    ('>=1.2', [('>=', '1.2')]), ('>=1.2, <2', [('>=', '1.2'), ('<', '2')]), ('=1:2.0-1', [('==', '1:2.0-1')]), ('!= 3.0', [('!=', '3.0')]),
])
def test_constraints_parse(text, parsed):
    assert parse_constraint(text) == parsed


@pytest.mark.parametrize('text', ['1.2', '=> 1.2', '>=', '<1, ', '~1.2'])
def test_bad_constraints_are_refused(text):
    with pytest.raises(ValueError, match='is not a version constraint'):
        parse_constraint(text)


@pytest.mark.parametrize(('entry', 'matches'), [
    ({'package': 'openssl'}, True), ({'package': 'open*'}, True), ({'package': 'libssl*'}, False),
    ({'package': 'openssl', 'version': '>=3.0.16-1~deb12u1'}, True), ({'package': 'openssl', 'version': '<3.0.16-1~deb12u1'}, False),
    # deb order, not string order: 3.0.16-1~deb12u1 < 3.0.16-1
    ({'version': '<3.0.16-1'}, True), ({'version': '>=3.0.9, <3.1'}, True),
    ({'advisory': 'CVE-2099-0001'}, True), ({'advisory': 'DSA-9001-1'}, True), ({'advisory': 'CVE-2099-0002'}, False),
    ({'package': 'openssl', 'advisory': 'CVE-2099-0002'}, False),
])
def test_entries_match_on_every_key_they_name(entry, matches):
    assert entry_matches(entry, _update()) is matches


def test_a_constraint_that_is_no_version_of_the_scheme_is_named():
    with pytest.raises(BaselineError, match=r"version constraint '>=x:1.0' for openssl"):
        entry_matches({'version': '>=x:1.0'}, _update())


def test_rejected_wins_then_approved_then_the_cooling_off_period():
    baseline = {'approve_after_days': {'high': 7, 'critical': 0}, 'bypass': [], 'approved': [{'package': 'open*'}],
                'rejected': [{'package': 'openssl', 'version': '==3.0.16-1~deb12u1', 'reason': 'regression upstream'}]}
    assert verdict(baseline, _update(), TODAY) == ('rejected', {'rule': 'package openssl, version ==3.0.16-1~deb12u1',
                                                                'reason': 'regression upstream'})
    assert verdict(baseline, _update(name='curl'), TODAY)[0] == 'not_approved'
    state, detail = verdict(baseline, _update(target='3.0.17-1~deb12u1'), TODAY)
    assert (state, detail) == ('waiting', {'since': '2026-12-01', 'days': 7, 'eligible_on': '2026-12-08', 'tier': 'high'})
    assert verdict(baseline, _update(target='3.0.17-1~deb12u1'), datetime.date(2026, 12, 8))[0] == 'eligible'


def test_the_cooling_off_period_counts_from_discovery_when_it_saw_the_update():
    baseline = {'approve_after_days': {'high': 3}}
    sightings = {('Debian:12', 'openssl', '3.0.16-1~deb12u1'): '2026-11-20T08:00:00Z'}
    assert verdict(baseline, _update(first_seen='2026-12-04T00:00:00Z'), TODAY, sightings)[0] == 'eligible'
    assert verdict(baseline, _update(first_seen='2026-12-04T00:00:00Z'), TODAY)[1]['eligible_on'] == '2026-12-07'


@pytest.mark.parametrize(('bypass', 'tier', 'kev', 'state'), [
    ([], 'critical', None, 'waiting'), (['critical'], 'critical', None, 'eligible'), (['critical'], 'high', {'added': '2026-12-01'}, 'waiting'),
    (['kev'], 'high', {'added': '2026-12-01'}, 'eligible'), (['kev'], 'critical', None, 'waiting'),
])
def test_critical_and_kev_may_bypass_by_switch(bypass, tier, kev, state):
    baseline = {'approve_after_days': {'critical': 5, 'high': 5}, 'bypass': bypass}
    assert verdict(baseline, _update(tier=tier, kev=kev, first_seen='2026-12-04T00:00:00Z'), TODAY)[0] == state


def _finding(fid, package, fixed, *, kind='os', tier='high', first_seen='2026-12-04T00:00:00Z', ecosystem='Debian:12'):
    return {'id': fid, 'aliases': [], 'package': package, 'kind': kind, 'installed': '1.0-1', 'fixed': fixed, 'status': 'open', 'hold': None,
            'binary_packages': [package], 'distribution_security_update': None, 'ecosystem': ecosystem, 'tier': tier, 'kev': None,
            'first_seen': first_seen}


def test_the_plan_installs_only_eligible_updates_and_lists_the_others():
    policy = load_policy({'baseline': {'approve_after_days': {'high': 3}, 'rejected': [{'package': 'pw-demo-normal', 'reason': 'vendor bug'}]}})
    findings = [_finding('CVE-1', 'openssl', '3.0.16-1', first_seen='2026-11-01T00:00:00Z'), _finding('CVE-2', 'pw-demo-normal', '1.0-2'),
                _finding('CVE-3', 'pw-demo-stepped', '1.0-3'), _finding('PYSEC-1', 'django', '4.2.16', kind='app', ecosystem='PyPI')]
    plan = patch_plan({'host': 'web01', 'tier': 'high', 'findings': findings}, policy, moment=utc('2026-12-05T12:00:00Z'))
    system = plan['system']
    assert [p['name'] for p in system['packages']] == ['openssl'] and system['mode'] == 'security'
    assert system['baseline']['rejected'] == [{'rule': 'package pw-demo-normal', 'reason': 'vendor bug', 'name': 'pw-demo-normal',
                                               'target': '1.0-2', 'findings': ['CVE-2'], 'kind': 'system'}]
    assert [(w['name'], w['eligible_on']) for w in system['baseline']['waiting']] == [('pw-demo-stepped', '2026-12-07')]
    assert plan['applications'] == [] and plan['application_baseline']['waiting'][0]['name'] == 'django'
    assert '1 system update(s) refused by the baseline' in system['reasons']
    # Nothing configured: every update is eligible, as before baselines existed.
    plain = patch_plan({'host': 'web01', 'tier': 'high', 'findings': findings}, load_policy(), moment=utc('2026-12-05T12:00:00Z'))
    assert len(plain['system']['packages']) == 3 and plain['system']['baseline'] == {'rejected': [], 'waiting': [], 'not_approved': []}
    with pytest.raises(RiskError, match=r'patchwise_policy\.baseline: version constraint'):
        patch_plan({'host': 'web01', 'tier': 'high', 'findings': findings},
                   load_policy({'baseline': {'approved': [{'package': 'openssl', 'version': '>=x:1.0'}]}}),
                   moment=utc('2026-12-05T12:00:00Z'))


def test_refused_and_waiting_updates_are_held_and_counted():
    plan = {'system': {'baseline': {'rejected': [{'name': 'pw-demo-normal', 'target': '1.0-2', 'reason': 'vendor bug'}],
                                    'waiting': [{'name': 'pw-demo-stepped', 'target': '1.0-3', 'eligible_on': '2026-12-07'}],
                                    'not_approved': [{'name': 'curl', 'target': '8.0', 'rule': 'baseline.approved names none of it'}]}}}
    holds, _exclude = host_holds('web01', plan, load_policy(), {}, None, today=TODAY)
    assert [(h['name'], h['source']) for h in holds] == [('pw-demo-normal', 'baseline_rejected'), ('curl', 'baseline_not_approved'),
                                                         ('pw-demo-stepped', 'baseline_waiting')]
    assert holds[0]['reason'] == 'pw-demo-normal 1.0-2: rejected by the baseline (vendor bug)'
    outcome = {'status': 'ok', 'selected': [{'name': 'openssl'}], 'packages': [{'name': 'openssl', 'to': '3.0.16-1'}],
               'held': [{'name': 'pw-demo-normal'}, {'name': 'pw-demo-stepped'}, {'name': 'curl'}], 'plan_baseline': plan['system']['baseline']}
    counts = system_state_counts(outcome)
    assert (counts['installed'], counts['rejected'], counts['held']) == (1, 2, 1)


@pytest.mark.parametrize(('baseline', 'named'), [
    ({'approve_after_days': {'urgent': 3}}, 'baseline.approve_after_days.urgent: unknown key'),
    ({'approve_after_days': {'high': -1}}, 'baseline.approve_after_days.high: must be a whole number of days'),
    ({'bypass': ['kev', 'everything']}, 'baseline.bypass: must be a list of kev and critical'),
    ({'rejected': [{'package': 'x'}]}, 'baseline.rejected[0].reason: is required'),
    ({'rejected': [{'reason': 'no'}]}, 'baseline.rejected[0]: needs a package glob or an advisory id'),
    ({'approved': [{'package': 'x', 'version': '2.0'}]}, "baseline.approved[0].version: '2.0' is not a version constraint"),
    ({'approved': [{'package': 'x', 'versions': '>2'}]}, 'baseline.approved[0].versions: unknown key'),
    ({'approved': 'openssl'}, 'baseline.approved: must be a list'),
    ({'rejected': [{'package': 7, 'reason': 'r'}]}, 'baseline.rejected[0].package: must be a string'),
    ({'cooling': 3}, 'baseline.cooling: unknown key'),
])
def test_bad_baselines_are_refused_naming_the_key(baseline, named):
    with pytest.raises(PolicyError, match='patchwise_policy.' + named.replace('[', r'\[').replace(']', r'\]').replace('(', r'\(')):
        load_policy({'baseline': baseline})

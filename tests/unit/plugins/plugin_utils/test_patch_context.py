# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hand-over from assess to patch: a stored plan checked before use, and the holds in force."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_context import PlanRefused, checked_plan, host_holds, patch_context
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

NOW = utc('2026-12-05T12:00:00Z')


def _plan(host='web01', **system):
    base = {'mode': 'security', 'packages': [{'name': 'libssl3', 'target': '3.0.15-1~deb12u1', 'findings': ['CVE-1']}],
            'held': [{'finding': 'CVE-4', 'package': 'curl', 'packages': ['curl', 'libcurl4'], 'until': '2026-12-31', 'reason': 'freeze'}],
            'reboot': 'if_required', 'approval_required': False}
    base.update(system)
    return {'schema': 1, 'host': host, 'run_id': 'r1', 'tier': 'high', 'system': base, 'applications': []}


def _stored(plan=None, created_at='2026-12-05T10:00:00Z'):
    return {'plan': _plan() if plan is None else plan, 'created_at': created_at, 'run_id': 'r1'}


DISCOVERED = {'collected_at': '2026-12-05T09:00:00Z', 'last_seen': '2026-12-05T09:00:00Z', 'last_changed': '2026-12-04T09:00:00Z'}


def test_a_fresh_plan_for_the_host_is_used():
    plan, age = checked_plan('web01', _stored(), DISCOVERED, 7, NOW)
    assert plan['system']['packages'][0]['name'] == 'libssl3' and age == datetime.timedelta(hours=2)


@pytest.mark.parametrize('stored, discovered, message', [
    (_stored(dict(_plan(), schema=2)), DISCOVERED, 'stored plan schema 2 is not supported (this collection reads schema 1)'),
    (_stored(_plan(host='db01')), DISCOVERED, "the plan stored under this host is for host 'db01'"),
    (_stored('{not json'), DISCOVERED, 'the stored plan is not a plan (str)'),
    (_stored(dict(_plan(), system=None)), DISCOVERED, 'the stored plan has no system part with a packages list'),
    (_stored(_plan(packages=[{'name': 'x'}])), DISCOVERED, 'plan system.packages[0] needs a name and a target version'),
    (_stored(created_at='2026-11-27T11:00:00Z'), DISCOVERED, 'was made at 2026-11-27T11:00:00Z, 8.0 days ago; the policy allows 7 days'),
    (_stored(created_at='2026-12-06T12:00:00Z'), DISCOVERED, 'in the future of this controller'),
    (_stored(created_at='yesterday'), DISCOVERED, "no valid creation time ('yesterday')"),
    (_stored(), dict(DISCOVERED, last_changed='2026-12-05T11:00:00Z'),
     "older than the host's last discovered change (2026-12-05T11:00:00Z)"),
])
def test_a_plan_that_may_not_describe_the_host_is_refused_with_the_reason(stored, discovered, message):
    with pytest.raises(PlanRefused) as refused:
        checked_plan('web01', stored, discovered, 7, NOW)
    assert message in str(refused.value)
    assert str(refused.value).startswith('host web01: ') and 'run the assess playbook' in str(refused.value)


def test_holds_come_from_the_plan_the_policy_and_the_register():
    policy = load_policy({'holds': [
        {'package': 'openssl', 'host': 'web01', 'until': '2026-12-31', 'reason': 'TLS library freeze'},   # source name -> binaries
        {'package': 'bash', 'host': 'db01', 'reason': 'another host'},
        {'package': 'zsh*', 'until': '2026-12-01', 'reason': 'expired'},
        {'finding': 'CVE-9', 'reason': 'a finding: the plan carries it'},
    ]})
    holds, exclude = host_holds('web01', _plan(held=[
        {'finding': 'CVE-4', 'package': 'curl', 'packages': ['curl', 'libcurl4'], 'until': '2026-12-31', 'reason': 'freeze'},
        {'finding': 'CVE-5', 'package': 'vim', 'packages': ['vim'], 'until': '2026-12-01', 'reason': 'expired'}]),
        policy, {'exclude': ['linux-image-*']}, record(), today=NOW.date())
    assert [(h['name'], h['source'], h['until']) for h in holds] == [
        ('curl', 'plan', '2026-12-31'), ('libcurl4', 'plan', '2026-12-31'),
        ('libssl3', 'policy', '2026-12-31'), ('openssl', 'policy', '2026-12-31')]
    assert holds[0]['reason'] == 'CVE-4: freeze' and holds[0]['finding'] == 'CVE-4'
    assert exclude == ['linux-image-*']


def test_the_context_reads_the_stored_plan_and_works_without_one(tmp_path):
    policy = load_policy({'plan_max_age_days': 3})
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.store_records({'web01': record(), 'db01': record('db01')}, now='2026-12-05T08:00:00Z')
        store.store_plans({'web01': _plan()}, run_id='assess-1', now='2026-12-05T10:00:00Z')
    with AssetStore(str(tmp_path / 'assets.db'), readonly=True) as store:
        context = patch_context(store, 'web01', policy, {'window': 'sun'}, NOW)
        assert context['found'] and context['run_id'] == 'assess-1' and context['age_hours'] == 2.0
        assert context['tier'] == 'high' and context['register'] == {'window': 'sun'}
        assert context['policy']['plan_max_age_days'] == 3 and 'dbus' in context['policy']['never_restart']
        none = patch_context(store, 'db01', policy, {}, NOW)
        assert not none['found'] and none['plan'] == {} and none['holds'] == []
        with pytest.raises(PlanRefused, match='3 days'):
            patch_context(store, 'web01', policy, {}, utc('2026-12-09T12:00:00Z'))
    no_db = patch_context(None, 'web01', load_policy({'holds': [{'package': 'curl', 'reason': 'r'}]}), {}, NOW)
    assert not no_db['found'] and [h['name'] for h in no_db['holds']] == ['curl']

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Frozen patch sets: freezing from a stage's plans, immutability, what a host may install, and promotion gates."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_context import patch_context
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_set_promotion import gates, next_stage
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_sets import (
    PatchSetRefused,
    checked,
    content_digest,
    host_applications,
    host_packages,
    set_content,
)
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import BASE, record

NOW = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.timezone.utc)


def _plan(*packages, apps=()):
    return {'system': {'packages': [{'name': name, 'target': target, 'findings': ['CVE-1']} for name, target in packages]},
            'applications': [{'name': name, 'target': target, 'ecosystem': 'PyPI'} for name, target in apps]}


def test_a_set_takes_the_newest_target_per_package_and_ecosystem():
    plans = {'web01': _plan(('openssl', '3.0.15-1~deb12u1'), apps=[('django', '4.2.9')]),
             'web02': _plan(('openssl', '3.0.16-1~deb12u1'), ('bash', '5.2.15-2+b8'), apps=[('django', '4.2.16')]),
             'el01': _plan(('openssl', '1:3.0.7-27.el9'))}
    content = set_content(plans, {'web01': 'Debian:12', 'web02': 'Debian:12', 'el01': 'AlmaLinux:9'})
    assert content == {'system': {'AlmaLinux:9': {'openssl': '1:3.0.7-27.el9'},
                                  'Debian:12': {'bash': '5.2.15-2+b8', 'openssl': '3.0.16-1~deb12u1'}},
                       'applications': {'PyPI': {'django': '4.2.16'}}, 'hosts': ['el01', 'web01', 'web02']}


def test_what_a_host_installs_from_a_set():
    content = {'system': {'Debian:12': {'openssl': '3.0.16-1~deb12u1', 'curl': '7.88.1-10+deb12u9'}}, 'applications': {}, 'hosts': []}
    patch_set = {'id': 's1', 'content': content}
    assert host_packages(patch_set, record()) == [{'name': 'openssl', 'target': '3.0.16-1~deb12u1'}]   # curl is not installed
    alpine = record(os=dict(BASE['os'], ecosystem='Alpine:v3.20'))
    with pytest.raises(PatchSetRefused, match=r'patch set s1 holds no updates for Alpine:v3\.20 \(it was frozen for Debian:12\)'):
        host_packages(patch_set, alpine)


APPS = [{'name': 'Django', 'version': '4.2.9', 'ecosystem': 'PyPI', 'path': '/srv/app/venv', 'source': 'python'},
        {'name': 'lodash', 'version': '4.17.20', 'ecosystem': 'npm', 'path': '/srv/web/node_modules', 'source': 'node'},
        {'name': 'pwapp', 'version': '1.0.0', 'ecosystem': 'generic', 'path': '/opt/pwapp/VERSION', 'source': 'declared'}]


def test_which_applications_a_host_installs_from_a_set():
    content = {'system': {}, 'hosts': [],
               'applications': {'PyPI': {'django': '4.2.16', 'requests': '2.32.0'}, 'npm': {'lodash': '4.17.21'},
                                'generic': {'pwapp': '2.0.0'}, 'Go': {'pwapp': '9.9.9'}}}
    patch_set = {'id': 's1', 'content': content}
    # Django is django in PyPI's normalised form; requests is not on the host; pwapp is frozen for the host's ecosystem only.
    assert host_applications(patch_set, record(applications=APPS)) == [
        {'name': 'django', 'current': '4.2.9', 'target': '4.2.16', 'ecosystem': 'PyPI', 'scheme': 'pep440'},
        {'name': 'lodash', 'current': '4.17.20', 'target': '4.17.21', 'ecosystem': 'npm', 'scheme': 'semver'},
        {'name': 'pwapp', 'current': '1.0.0', 'target': '2.0.0', 'ecosystem': 'generic', 'scheme': 'generic'}]
    # A name in another ecosystem is another application; a set with no applications for the host is not an error.
    assert host_applications(patch_set, record(applications=[dict(APPS[1], ecosystem='PyPI')])) == []
    assert host_applications({'id': 's2', 'content': {'system': {'Debian:12': {}}, 'applications': {}, 'hosts': []}},
                             record(applications=APPS)) == []


def test_an_edited_set_is_refused():
    content = {'system': {'Debian:12': {'openssl': '3.0.16-1~deb12u1'}}, 'applications': {}, 'hosts': ['web01']}
    stored = {'id': 's1', 'content': content, 'digest': content_digest('s1', content)}
    assert checked(stored) is stored
    stored['content'] = {'system': {'Debian:12': {'openssl': '3.0.17-1~deb12u1'}}, 'applications': {}, 'hosts': ['web01']}
    with pytest.raises(PatchSetRefused, match='patch set s1 was changed after it was frozen'):
        checked(stored)


def _stored_set(location, set_id='2026-12-05-staging'):
    content = {'system': {'Debian:12': {'openssl': '3.0.16-1~deb12u1'}}, 'applications': {}, 'hosts': ['web01']}
    with AssetStore(location) as store:
        store.store_records({'web01': record(), 'prod01': record('prod01'), 'prod02': record('prod02')})
        store.replace_register({'web01': {'environment': 'staging'}, 'prod01': {'environment': 'production'},
                                'prod02': {'environment': 'production'}}, 'test')
        assert store.freeze_patch_set(set_id, stage='staging', content=content, digest=content_digest(set_id, content), run_id='a1')
        assert store.freeze_patch_set(set_id, stage='staging', content=content, digest=content_digest(set_id, content)) is False
        other = dict(content, hosts=['web01', 'web02'])
        with pytest.raises(AssetStoreError, match='already exists with other content: a frozen set never changes'):
            store.freeze_patch_set(set_id, stage='staging', content=other, digest=content_digest(set_id, other))
    return set_id


def test_a_set_is_installed_in_its_stage_and_the_stages_it_was_promoted_to(asset_db):
    set_id = _stored_set(asset_db)
    policy = load_policy()
    with AssetStore(asset_db) as store:
        register = store.register()
        staging = patch_context(store, 'web01', policy, register['web01'], NOW, patch_set=set_id)
        assert staging['patch_set'] == {'id': set_id, 'digest': content_digest(set_id, store.patch_set(set_id)['content']),
                                        'stage': 'staging', 'kind': 'system', 'packages': [{'name': 'openssl', 'target': '3.0.16-1~deb12u1'}],
                                        'applications': []}
        with pytest.raises(PatchSetRefused, match='host prod01 is in stage production, and patch set %s is only for staging: promote it first'
                           % set_id):
            patch_context(store, 'prod01', policy, register['prod01'], NOW, patch_set=set_id)
        with pytest.raises(PatchSetRefused, match='patch set nope does not exist'):
            patch_context(store, 'web01', policy, register['web01'], NOW, patch_set='nope')
        store.record_promotion(set_id, from_stage='staging', to_stage='production', gates=[], run_id='p1', operator='alice')
        assert patch_context(store, 'prod01', policy, register['prod01'], NOW, patch_set=set_id)['patch_set']['stage'] == 'production'
        assert store.patch_set(set_id)['promotions'][0]['operator'] == 'alice'


def test_an_application_run_takes_the_applications_of_the_set(asset_db):
    set_id = 'apps-1'
    content = {'system': {'Debian:12': {'openssl': '3.0.16-1~deb12u1'}}, 'applications': {'PyPI': {'django': '4.2.16'}}, 'hosts': ['web01']}
    alpine = record('alp01', os=dict(BASE['os'], ecosystem='Alpine:v3.20'), applications=APPS)
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record(applications=APPS), 'alp01': alpine})
        store.replace_register({'web01': {'environment': 'staging'}, 'alp01': {'environment': 'staging'}}, 'test')
        store.freeze_patch_set(set_id, stage='staging', content=content, digest=content_digest(set_id, content))
        policy = load_policy()
        apps = patch_context(store, 'web01', policy, {'environment': 'staging'}, NOW, patch_set=set_id, patch_set_kind='applications')
        assert apps['patch_set']['kind'] == 'applications' and apps['patch_set']['packages'] == []
        assert apps['patch_set']['applications'] == [{'name': 'django', 'current': '4.2.9', 'target': '4.2.16', 'ecosystem': 'PyPI',
                                                      'scheme': 'pep440'}]
        # The OS ecosystem refusal is the system run's: the same set's applications may go to a host of another OS.
        assert patch_context(store, 'alp01', policy, {'environment': 'staging'}, NOW, patch_set=set_id,
                             patch_set_kind='applications')['patch_set']['applications'][0]['target'] == '4.2.16'
        with pytest.raises(PatchSetRefused, match=r'holds no updates for Alpine:v3\.20'):
            patch_context(store, 'alp01', policy, {'environment': 'staging'}, NOW, patch_set=set_id)
        with pytest.raises(ValueError, match='patch set kind must be one of system, applications'):
            patch_context(store, 'web01', policy, {'environment': 'staging'}, NOW, patch_set=set_id, patch_set_kind='apps')


def _outcome(host, status, at, set_id='s1', kind='system'):
    return {'host': host, 'kind': kind, 'status': status, 'at': at, 'detail': {'patch_set': {'id': set_id}}}


CONFIG = load_policy()['promotion']


def test_the_gates_of_a_promotion():
    patch_set = {'id': 's1', 'stage': 'staging', 'promotions': []}
    outcomes = [_outcome('s-1', 'changed', '2026-12-04T08:00:00Z'), _outcome('s-2', 'ok', '2026-12-04T09:00:00Z'),
                _outcome('s-3', 'changed', '2026-12-04T09:00:00Z', set_id='other')]
    passed = gates(patch_set, stage_hosts=['s-1', 's-2'], outcomes=outcomes, config=CONFIG, now=NOW)
    assert [(g['gate'], g['passed']) for g in passed] == [('coverage', True), ('no_failures', True), ('soak', True), ('no_alerts', True)]
    partial = gates(patch_set, stage_hosts=['s-1', 's-2', 's-3'], outcomes=outcomes, config=CONFIG, now=NOW)
    assert partial[0] == {'gate': 'coverage', 'passed': False, 'detail': 'installed on 2 of 3 hosts (67 %; min_percent 100); not yet on s-3'}
    assert gates(patch_set, stage_hosts=['s-1', 's-2', 's-3'], outcomes=outcomes, config=dict(CONFIG, min_percent=60), now=NOW)[0]['passed']
    failed = gates(patch_set, stage_hosts=['s-1', 's-2'], outcomes=[*outcomes, _outcome('s-2', 'rolled_back', '2026-12-04T07:00:00Z')],
                   config=CONFIG, now=NOW)
    assert failed[1] == {'gate': 'no_failures', 'passed': False, 'detail': 'failed or rolled back on s-2'}
    early = gates(patch_set, stage_hosts=['s-1', 's-2'], outcomes=outcomes, config=CONFIG, now=NOW - datetime.timedelta(hours=20))
    assert early[2]['gate'] == 'soak' and not early[2]['passed'] and '7.0 hours since its last run there' in early[2]['detail']
    alert = {'labels': {'alertname': 'HighErrorRate', 'instance': 's-1'}, 'startsAt': '2026-12-04T10:00:00Z'}
    before = {'labels': {'alertname': 'Old', 'instance': 's-1'}, 'startsAt': '2026-12-03T10:00:00Z'}
    noisy = gates(patch_set, stage_hosts=['s-1', 's-2'], outcomes=outcomes, config=CONFIG, now=NOW, alerts=[alert, before])
    assert noisy[3] == {'gate': 'no_alerts', 'passed': False, 'detail': 'alerts since the last run: HighErrorRate'}
    never = gates(patch_set, stage_hosts=['s-1'], outcomes=[], config=CONFIG, now=NOW)
    assert not never[0]['passed'] and never[2]['detail'] == 'the set never ran in this stage'


def test_the_gates_count_application_runs_as_system_runs():
    patch_set = {'id': 's1', 'stage': 'staging', 'promotions': []}
    systems = [_outcome('s-1', 'changed', '2026-12-04T08:00:00Z'), _outcome('s-2', 'changed', '2026-12-04T08:00:00Z')]
    # s-2's application run failed after its system run succeeded: s-2 is not covered, and the set did fail there.
    failed_app = gates(patch_set, stage_hosts=['s-1', 's-2'], config=CONFIG, now=NOW,
                       outcomes=[*systems, _outcome('s-2', 'failed', '2026-12-04T08:30:00Z', kind='app')])
    assert failed_app[0]['detail'] == 'installed on 1 of 2 hosts (50 %; min_percent 100); not yet on s-2'
    assert failed_app[1] == {'gate': 'no_failures', 'passed': False, 'detail': 'failed or rolled back on s-2'}
    # A later successful application run covers the host; the earlier failure still fails no_failures.
    retried = gates(patch_set, stage_hosts=['s-1', 's-2'], config=CONFIG, now=NOW,
                    outcomes=[*systems, _outcome('s-2', 'failed', '2026-12-04T08:30:00Z', kind='app'),
                              _outcome('s-2', 'changed', '2026-12-04T09:00:00Z', kind='app')])
    assert retried[0]['passed'] and not retried[1]['passed']
    # An application run alone covers a host whose set holds only applications.
    assert gates(patch_set, stage_hosts=['s-1'], config=CONFIG, now=NOW,
                 outcomes=[_outcome('s-1', 'ok', '2026-12-04T08:00:00Z', kind='app')])[0]['passed']


@pytest.mark.parametrize(('stages', 'to_stage', 'named'), [
    ([], 'production', 'the policy lists no stages'),
    (['staging', 'preprod', 'production'], 'production', 'the next stage is preprod, not production: a promotion never skips a stage'),
    (['staging', 'production'], 'qa', 'stage qa is not one of the policy\'s stages'),
    (['dev', 'qa'], 'qa', 'patch set s1 is in stage staging, which the policy\'s stages'),
    (['staging'], 'staging', 'already in the last stage'),
])
def test_a_promotion_goes_to_the_next_stage_only(stages, to_stage, named):
    with pytest.raises(PatchSetRefused, match=named):
        next_stage({'id': 's1', 'stage': 'staging', 'promotions': []}, stages, to_stage)
    assert next_stage({'id': 's1', 'stage': 'staging', 'promotions': []}, ['staging', 'production'], 'production') == 'staging'

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Moving a fleet's asset database from SQLite to PostgreSQL (and back) with its whole history."""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_copy import TABLES, copy_database
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import BASE, record
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD


def _fleet(location):
    with AssetStore(location) as store:
        store.replace_register({'web01': {'criticality': 'high', 'approvers': ['lead@example.org']}}, 'register.yml')
        store.store_records({'web01': record(), 'db01': record('db01')}, run_id='d1', now='2026-11-01T10:05:00Z')
        upgraded = [dict(BASE['packages'][0], version='3.0.15-1~deb12u1'), *BASE['packages'][1:]]
        store.store_records({'web01': record(collected_at='2026-11-02T10:00:00Z', packages=upgraded)}, run_id='d2', now='2026-11-02T10:05:00Z')
        finding = {'id': 'CVE-2099-0001', 'package': 'openssl', 'kind': 'os', 'tier': 'high', 'due': '2026-11-20', 'score': 7.5}
        store.store_risk_results({'web01': {'tier': 'high', 'due': '2026-11-20', 'score': 7.5, 'findings': [dict(finding)]}},
                                 run_id='a1', now='2026-11-02T11:00:00Z')
        store.store_risk_results({'web01': {'tier': 'none', 'findings': []}}, run_id='a2', now='2026-11-03T11:00:00Z')
        store.store_plans({'web01': {'schema': 1, 'system': {'mode': 'security'}}}, run_id='a2', briefs={'web01': {'mode': 'security'}})
        store.add_patch_outcome('web01', 'system', 'ok', {'packages': ['openssl']}, run_id='p1', now='2026-11-03T12:00:00Z')


def _everything(location):
    with AssetStore(location, readonly=True) as store:
        return (store.hosts(now='2026-11-04T00:00:00Z'), store.history(), store.register(), store.findings(), store.risk_result('web01'),
                store.stored_plan('web01'), store.patch_outcomes(), {h: store.record(h) for h in ('web01', 'db01')},
                store.matching_input('web01'), store.assessment_state())


@pytest.fixture
def postgresql_db(postgresql_server, monkeypatch, request):
    monkeypatch.setenv('PGPASSWORD', PASSWORD)
    return postgresql_server.database('copy_%s' % request.node.name[-20:].replace('[', '_').replace(']', '').replace('-', '_').lower())


def test_sqlite_to_postgresql_and_back_keeps_everything(tmp_path, postgresql_db):
    source = str(tmp_path / 'assets.db')
    _fleet(source)
    counts = copy_database(source, postgresql_db)
    assert counts['hosts'] == 2 and counts['history'] >= 4 and counts['findings'] == 1 and counts['patch_outcomes'] == 1
    assert set(counts) == set(TABLES)
    assert _everything(postgresql_db) == _everything(source)
    # Ids go on counting after the copied ones.
    with AssetStore(postgresql_db) as store:
        assert store.add_patch_outcome('db01', 'app', 'ok', {}, run_id='p2') == 2
    back = str(tmp_path / 'back.db')
    copy_database(postgresql_db, back)
    assert _everything(back)[1:5] == _everything(postgresql_db)[1:5]


def test_a_target_that_holds_data_is_refused_and_left_alone(tmp_path, asset_db):
    source = str(tmp_path / 'source.db')
    _fleet(source)
    if asset_db == source:
        pytest.skip('the sqlite parameter is the source itself')
    with AssetStore(asset_db) as store:
        store.store_records({'other01': record('other01')})
    before = _everything(asset_db)
    with pytest.raises(AssetStoreError, match=r'already holds data \(hosts, match_views, history, runs, update_sightings\)'):
        copy_database(source, asset_db)
    assert _everything(asset_db) == before


def test_check_mode_counts_and_writes_nothing(tmp_path):
    source = str(tmp_path / 'assets.db')
    _fleet(source)
    counts = copy_database(source, str(tmp_path / 'target.db'), check_mode=True)
    assert counts['hosts'] == 2 and not (tmp_path / 'target.db').exists()


def test_copying_a_database_onto_itself_is_refused(tmp_path):
    source = str(tmp_path / 'assets.db')
    _fleet(source)
    with pytest.raises(AssetStoreError, match='source and target are the same database'):
        copy_database(source, source)

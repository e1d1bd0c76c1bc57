# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import stat

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import asset_store as asset_store_module
from ansible_collections.patchwise.patching.plugins.plugin_utils import finding_rows
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError, is_stale, validate_record
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import SCHEMA
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import BASE, record


def test_first_store_creates_private_database_and_history(tmp_path):
    path = str(tmp_path / 'sub' / 'assets.db')
    with AssetStore(path) as store:
        outcome = store.store_records({'web01': record(), 'web02': record('web02')}, run_id='run-1', now='2026-11-01T10:05:00Z')
        assert outcome == {'web01': {'changed': True, 'new': True, 'changes': ['first_seen']},
                           'web02': {'changed': True, 'new': True, 'changes': ['first_seen']}}
        assert [entry['kind'] for entry in store.history(host='web01')] == ['first_seen']
        assert store.record('web02')['host']['hostname'] == 'web02'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_same_record_again_is_not_a_change_but_moves_last_seen(asset_db):
    path = asset_db
    with AssetStore(path) as store:
        store.store_records({'web01': record()}, now='2026-11-01T10:05:00Z')
        outcome = store.store_records({'web01': record(collected_at='2026-11-05T09:00:00Z')}, now='2026-11-05T09:01:00Z')
        assert outcome['web01'] == {'changed': False, 'new': False, 'changes': []}
        host, = store.hosts(now='2026-11-05T09:01:00Z')
        assert (host['first_seen'], host['last_seen']) == ('2026-11-01T10:00:00Z', '2026-11-05T09:00:00Z')
        assert len(store.history(host='web01')) == 1


def test_upgrade_is_recorded_in_history(asset_db):
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record()}, run_id='r1', now='2026-11-01T10:05:00Z')
        upgraded = [dict(BASE['packages'][0], version='3.0.15-1~deb12u1'), *BASE['packages'][1:]]
        outcome = store.store_records({'web01': record(collected_at='2026-11-02T10:00:00Z', packages=upgraded, updates=[])},
                                      run_id='r2', now='2026-11-02T10:05:00Z')
        assert outcome['web01'] == {'changed': True, 'new': False, 'changes': ['packages', 'updates']}
        entry, = store.history(host='web01', kind='packages')
        assert entry['run_id'] == 'r2'
        assert entry['detail']['upgraded'] == [{'name': 'openssl', 'arch': 'amd64', 'from': '3.0.14-1~deb12u1', 'to': '3.0.15-1~deb12u1'}]
        assert store.record('web01')['packages'][0]['version'] == '3.0.15-1~deb12u1'
        assert store.hosts()[0]['summary']['counts']['security_updates'] == 0


def test_check_mode_reports_and_writes_nothing(asset_db):
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record()})
        outcome = store.store_records({'web01': record(updates=[]), 'web02': record('web02')}, check_mode=True)
        assert outcome['web01']['changes'] == ['updates'] and outcome['web02']['new']
        assert [host['name'] for host in store.hosts()] == ['web01']
        assert store.record('web01')['updates']


def test_a_bad_record_is_refused_alone_naming_the_field(asset_db):
    with AssetStore(asset_db) as store:
        outcome = store.store_records({'web01': record(), 'web02': record('web02', schema=7),
                                       'web03': record('web03', collected_at='yesterday')})
        assert outcome['web01']['changed'] and 'refused' not in outcome['web01']
        assert outcome['web02'] == {'changed': False, 'new': False, 'changes': [],
                                    'refused': 'schema: asset record schema 7 is not supported (expected 1)'}
        assert outcome['web03']['refused'].startswith("collected_at: 'yesterday' is not a UTC time")
        assert [host['name'] for host in store.hosts()] == ['web01']
        with pytest.raises(AssetStoreError, match='host web04: packages must be a list, got str'):
            validate_record('web04', record('web04', packages='oops'))


def test_failure_mid_transaction_rolls_back(asset_db, monkeypatch):
    from ansible_collections.patchwise.patching.plugins.plugin_utils import asset_store as module

    def broken_summary(rec):
        if rec['host']['hostname'] == 'web02':
            raise RuntimeError('boom')
        return {'ok': True}

    with AssetStore(asset_db) as store:
        monkeypatch.setattr(module, 'record_summary', broken_summary)
        with pytest.raises(RuntimeError):
            store.store_records({'web01': record(), 'web02': record('web02')})
        assert store.hosts() == []


def test_not_a_database_and_foreign_database(tmp_path):
    garbage = tmp_path / 'garbage.db'
    garbage.write_bytes(b'this is not sqlite at all' * 100)
    with pytest.raises(AssetStoreError, match=r'garbage\.db: not a usable asset database'):
        AssetStore(str(garbage))
    foreign = tmp_path / 'foreign.db'
    with sqlite3.connect(str(foreign)) as connection:
        connection.execute('CREATE TABLE something (x)')
    with pytest.raises(AssetStoreError, match=r'foreign\.db is an SQLite database of another program, not an asset database'):
        AssetStore(str(foreign))
    with pytest.raises(AssetStoreError, match=r'missing\.db: the asset database does not exist'):
        AssetStore(str(tmp_path / 'missing.db'), readonly=True)


def test_newer_schema_is_refused(tmp_path):
    path = str(tmp_path / 'assets.db')
    AssetStore(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA + 1),))
    with pytest.raises(AssetStoreError, match='newer than this collection supports'):
        AssetStore(path)


def test_readonly_cannot_write(asset_db):
    path = asset_db
    AssetStore(path).close()
    with AssetStore(path, readonly=True) as store, pytest.raises(AssetStoreError, match='read-only'):
        store.store_records({'web01': record()})


def test_stale_hosts():
    assert is_stale('2026-11-01T00:00:00Z', 14, '2026-11-16T00:00:00Z')
    assert not is_stale('2026-11-01T00:00:00Z', 14, '2026-11-14T00:00:00Z')
    assert not is_stale('2020-01-01T00:00:00Z', 0, '2026-11-14T00:00:00Z')


def test_register_replacement_reports_changed_hosts(asset_db):
    with AssetStore(asset_db) as store:
        assert store.replace_register({'web01': {'criticality': 'high'}}, 'reg.yml') == ['web01']
        assert store.replace_register({'web01': {'criticality': 'high'}}, 'reg.yml') == []
        assert store.replace_register({'web02': {'exposure': 'internet'}}, 'reg.yml') == ['web01', 'web02']
        assert store.register() == {'web02': {'exposure': 'internet'}}


def test_a_plan_handed_with_its_result_is_stored_in_the_same_transaction(asset_db):
    plan = {'schema': 1, 'host': 'web01', 'system': {'mode': 'security', 'packages': [{'name': 'openssl', 'target': '3.0.15-1'}]}}
    brief = {'mode': 'security', 'packages': ['openssl']}
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record(), 'db01': record('db01')})
        items = [('web01', {'tier': 'high', 'findings': []}, None, (plan, brief)), ('db01', {'tier': 'none', 'findings': []})]
        store.store_risk_results(iter(items), run_id='r1', now='2026-11-02T00:00:00Z', check_mode=True)
        assert store.plan('web01') is None, 'check mode stores no plan'
        store.store_risk_results(iter(items), run_id='r1', now='2026-11-02T00:00:00Z')
        # The row's run id comes with the plan: the stored document leaves it to the row (kept plans move it on).
        assert store.plan('web01') == dict(plan, run_id='r1') and store.plan('db01') is None
        assert store.kept_assessments(['web01']) == {'web01': (store.risk_result('web01', with_findings=False), brief)}


def test_a_confirmed_assessment_moves_its_run_id_and_leaves_its_plan_document_as_it_is(asset_db):
    """A pass that keeps a host's assessment moves the run id and time of its result and plan; the plan (tens of kB on
    a real host) is not written again: its run id is the row's."""
    plan = {'schema': 1, 'host': 'web01', 'run_id': 'r1', 'system': {'mode': 'security', 'packages': [{'name': 'openssl', 'target': '3.0.15-1'}]}}
    brief = {'mode': 'security', 'packages': ['openssl']}
    result = {'tier': 'high', 'run_id': 'r1', 'assessed_on': '2026-11-02', 'findings': []}
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record()})
        store.store_risk_results(iter([('web01', result, None, (plan, brief))]), run_id='r1', now='2026-11-02T00:00:00Z')
        document = store._db.execute('SELECT plan FROM plans WHERE host = ?', ('web01',)).fetchone()[0]
        assert 'run_id' not in json.loads(document), 'one copy of the run id: the row\'s'
        store.confirm_assessments(['web01'], run_id='r2', assessed_on='2026-11-03', now='2026-11-03T00:00:00Z', check_mode=True)
        assert store.stored_plan('web01')['run_id'] == 'r1' and store.plan('web01') == plan
        store.confirm_assessments(['web01'], run_id='r2', assessed_on='2026-11-03', now='2026-11-03T00:00:00Z')
        assert store.stored_plan('web01') == {'plan': dict(plan, run_id='r2'), 'created_at': '2026-11-03T00:00:00Z', 'run_id': 'r2'}
        assert store.plan('web01') == dict(plan, run_id='r2')
        assert store._db.execute('SELECT plan FROM plans WHERE host = ?', ('web01',)).fetchone()[0] == document
        confirmed = store.risk_result('web01', with_findings=False)
        assert (confirmed['run_id'], confirmed['assessed_on'], confirmed['tier']) == ('r2', '2026-11-03', 'high')


@pytest.mark.parametrize('limit', [1, 2, 50000])
def test_findings_shared_between_hosts_are_stored_for_each_host(tmp_path, monkeypatch, limit):
    """The engine hands hosts that have a finding alike one dict: each host gets its row, with its own first seen, also
    when the parts the store works out once per dict are forgotten between hosts (a small limit)."""
    monkeypatch.setattr(finding_rows, '_STORED_PARTS_LIMIT', limit)
    shared = {'id': 'CVE-2099-0001', 'package': 'openssl', 'kind': 'os', 'tier': 'high', 'due': '2026-11-20', 'detail_key': 'k1'}
    other = {'id': 'CVE-2099-0002', 'package': 'bash', 'kind': 'os', 'tier': 'low', 'due': '2027-01-01', 'detail_key': 'k2'}
    held = dict(other, hold={'until': None, 'reason': 'vendor fix pending'}, detail_key='k2')
    hosts = ['web%02d' % index for index in range(4)]
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.store_records({host: record(host) for host in hosts})
        store.store_risk_results(iter([('web00', {'tier': 'high', 'findings': [shared]})]), now='2026-11-01T00:00:00Z')
        items = [(host, {'tier': 'high', 'findings': [shared, held if host == 'web02' else other]}) for host in hosts]
        store.store_risk_results(iter(items), now='2026-11-02T00:00:00Z')
        rows = {(host, fid): (first_seen, tier, detail_key, extra) for host, fid, first_seen, tier, detail_key, extra in store._db.execute(
            'SELECT host, finding_id, first_seen, tier, detail_key, extra FROM findings')}
    assert rows[('web00', 'CVE-2099-0001')] == ('2026-11-01T00:00:00Z', 'high', 'k1', None)
    for host in hosts[1:]:
        assert rows[(host, 'CVE-2099-0001')] == ('2026-11-02T00:00:00Z', 'high', 'k1', None)
    assert json.loads(rows[('web02', 'CVE-2099-0002')][3])['hold'] == {'until': None, 'reason': 'vendor fix pending'}
    assert [rows[(host, 'CVE-2099-0002')][3] for host in hosts if host != 'web02'] == [None] * 3


def test_findings_lifecycle(asset_db):
    finding = {'id': 'CVE-2099-0001', 'package': 'openssl', 'kind': 'os', 'tier': 'high', 'due': '2026-11-20'}
    other = {'id': 'CVE-2099-0002', 'package': 'bash', 'kind': 'os', 'tier': 'low', 'due': '2027-01-01'}
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record()})
        result = {'tier': 'high', 'findings': [dict(finding), dict(other)]}
        assert store.store_risk_results({'web01': result}, now='2026-11-02T00:00:00Z') == {'web01': {'opened': 2, 'closed': 0}}
        again = {'tier': 'high', 'findings': [dict(finding)]}
        assert store.store_risk_results({'web01': again}, now='2026-11-03T00:00:00Z') == {'web01': {'opened': 0, 'closed': 1}}
        assert again['findings'][0]['first_seen'] == '2026-11-02T00:00:00Z'
        by_id = {item['id']: item for item in store.findings(host='web01')}
        assert by_id['CVE-2099-0002']['status'] == 'fixed' and by_id['CVE-2099-0002']['closed'] == '2026-11-03T00:00:00Z'
        assert by_id['CVE-2099-0001']['status'] == 'open'
        assert store.hosts()[0]['tier'] == 'high'
        assert store.risk_result('web01')['tier'] == 'high'


def test_plans_and_patch_outcomes(asset_db):
    with AssetStore(asset_db) as store:
        store.store_plans({'web01': {'schema': 1, 'system': {'mode': 'security'}}}, run_id='r1')
        assert store.plan('web01')['system']['mode'] == 'security'
        assert store.plan('web02') is None
        store.add_patch_outcome('web01', 'app', 'ok', {'name': 'shop', 'from': '1.0', 'to': '1.1'}, run_id='r2')
        outcome, = store.patch_outcomes(host='web01')
        assert (outcome['kind'], outcome['status'], outcome['detail']['to'], outcome['run_id']) == ('app', 'ok', '1.1', 'r2')
        assert store.history(host='web01', kind='patch_app')[0]['detail']['status'] == 'ok'
        with pytest.raises(AssetStoreError, match='kind must be system or app'):
            store.add_patch_outcome('web01', 'other', 'ok', {})


def _writer(path, prefix, count):
    for index in range(count):
        name = '%s%03d' % (prefix, index)
        with AssetStore(path, busy_timeout=60) as store:
            store.store_records({name: record(name)}, run_id=prefix)


def test_concurrent_writers_lose_nothing(asset_db):
    path = asset_db
    AssetStore(path).close()
    context = multiprocessing.get_context('fork')
    writers = [context.Process(target=_writer, args=(path, prefix, 40)) for prefix in ('a', 'b', 'c')]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    with AssetStore(path, readonly=True) as store:
        assert len(store.hosts()) == 120
        assert len(store.history(kind='first_seen')) == 120


def test_schema_1_database_is_migrated_keeping_findings(tmp_path):
    from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import MIGRATIONS

    path = str(tmp_path / 'old.db')
    with sqlite3.connect(path) as connection:
        connection.executescript(MIGRATIONS[0])
        connection.execute("INSERT INTO meta (key, value) VALUES ('schema', '1')")
        connection.execute("INSERT INTO findings (host, finding_id, package, kind, status, tier, due, first_seen, closed, detail) "
                           "VALUES ('web01', 'CVE-2099-0001', 'openssl', 'os', 'open', 'high', '2099-01-10', '2099-01-01T00:00:00Z', NULL, "
                           "'{\"fixed\": \"3.0.15-1\"}')")
    with AssetStore(path) as store:
        finding, = store.findings(host='web01')
        assert (finding['fixed'], finding['first_seen'], finding['status']) == ('3.0.15-1', '2099-01-01T00:00:00Z', 'open')
        assert store.finding_lifecycle('web01') == {('CVE-2099-0001', 'openssl'): ('open', '2099-01-01T00:00:00Z')}
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA),)


def test_update_sightings_keep_the_first(asset_db):
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record()}, now='2026-11-01T10:05:00Z')
        store.store_records({'web02': record('web02')}, now='2026-11-03T10:05:00Z')
        newer = [{'name': 'openssl', 'current': '3.0.14-1~deb12u1', 'available': '3.0.16-1~deb12u1', 'security': True, 'origin': 'x'}]
        store.store_records({'web01': record(collected_at='2026-11-04T10:00:00Z', updates=newer)}, now='2026-11-04T10:05:00Z')
        assert store.update_sightings() == {('Debian:12', 'openssl', '3.0.15-1~deb12u1'): '2026-11-01T10:05:00Z',
                                            ('Debian:12', 'openssl', '3.0.16-1~deb12u1'): '2026-11-04T10:05:00Z'}
        store.store_records({'web03': record('web03')}, check_mode=True, now='2026-11-05T00:00:00Z')
        assert len(store.update_sightings()) == 2


def test_the_batched_readers_give_what_the_per_host_readers_give(asset_db, monkeypatch):
    """matching_inputs and finding_rows_of read many hosts a few queries at a time; split into chunks of two here."""
    monkeypatch.setattr(asset_store_module, '_CHUNK', 2)
    hosts = ['web%02d' % index for index in range(5)]
    with AssetStore(asset_db) as store:
        store.store_records({host: record(host) for host in hosts})
        findings = [{'id': 'CVE-2026-%d' % index, 'package': 'openssl', 'status': 'open', 'tier': 'high', 'due': '2026-12-24',
                     'kind': 'os', 'detail_key': 'k%d' % index} for index in range(3)]
        store.store_risk_results({host: {'tier': 'high', 'findings': findings[:index % 3 + 1]} for index, host in enumerate(hosts[:4])})
        asked = [*hosts, 'unknown']
        assert store.matching_inputs(asked) == {host: store.matching_input(host) for host in asked}
        assert store.matching_inputs(asked)['unknown'] is None
        assert store.finding_rows_of(asked) == {host: store.finding_rows(host) for host in asked}
        assert [len(store.finding_rows_of(asked)[host]) for host in asked] == [1, 2, 3, 1, 0, 0]

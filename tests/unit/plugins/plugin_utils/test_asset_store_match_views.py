# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Schema 3: each record's match view stored beside it, kept in step with the record, and the same risk results with or without it."""

from __future__ import annotations

import datetime
import os
import sqlite3

from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import SCHEMA
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_findings import match_view
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_pass import assess_fleet
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.old_schema import create_at_schema

FEEDS = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
PACKAGES = [{'name': 'pw-demo-security', 'version': '1.0-1', 'arch': 'all', 'source_name': 'pw-demo-security', 'source_version': '1.0-1'},
            {'name': 'pw-libdemo', 'version': '1.0-2', 'arch': 'all', 'source_name': 'pw-libdemo', 'source_version': '1.0-2'}]
UPDATES = [{'name': 'pw-demo-security', 'current': '1.0-1', 'available': '1.0-2', 'security': True, 'origin': 'Debian-Security:bookworm-security'}]
NOW = datetime.datetime(2099, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)


def _views(path):
    with sqlite3.connect(path) as connection:
        return dict(connection.execute('SELECT host, view FROM match_views'))


def test_schema_2_database_is_migrated_and_views_are_filled_when_records_are_stored_again(tmp_path):
    path = str(tmp_path / 'old.db')
    old = record()
    with sqlite3.connect(path) as connection:
        create_at_schema(connection, 2)
    with AssetStore(path) as store:
        store.store_records({'web01': old})
    with sqlite3.connect(path) as connection:
        # A host stored by schema 2 has no view: drop the one just written, as a schema 2 database would be.
        connection.execute("DELETE FROM match_views")
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA),)
    with AssetStore(path) as store:
        assert store.matching_input('web01') == store.record('web01')      # no view yet: the record itself
        store.store_records({'web01': record(collected_at='2026-11-02T10:00:00Z')})   # unchanged: the view is built from the stored record
        assert store.matching_input('web01') == match_view(old)
        assert store.matching_input('nohost') is None


def test_schema_2_to_3_migration_keeps_hosts_and_findings(tmp_path):
    path = str(tmp_path / 'v2.db')
    with sqlite3.connect(path) as connection:
        create_at_schema(connection, 2)
        connection.execute("INSERT INTO hosts (name, first_seen, last_seen, last_changed, collected_at, digest, summary, record) "
                           "VALUES ('web01', 'a', 'a', 'a', 'a', 'd', '{}', '{\"schema\": 1}')")
        connection.execute("INSERT INTO findings (host, finding_id, package, kind, status, first_seen) "
                           "VALUES ('web01', 'CVE-2099-0001', 'openssl', 'os', 'open', '2099-01-01T00:00:00Z')")
    with AssetStore(path) as store:
        assert store.record('web01') == {'schema': 1} and store.matching_input('web01') == {'schema': 1}
        assert store.finding_lifecycle('web01') == {('CVE-2099-0001', 'openssl'): ('open', '2099-01-01T00:00:00Z')}
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA),)
        triggers = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert triggers == {'match_view_dropped_on_update', 'match_view_dropped_on_delete'}


def test_view_follows_its_record(tmp_path):
    path = str(tmp_path / 'assets.db')
    with AssetStore(path) as store:
        store.store_records({'web01': record(), 'web02': record('web02')})
        assert store.matching_input('web01') == match_view(record())
        changed = record(packages=PACKAGES)
        store.store_records({'web01': changed})
        assert store.matching_input('web01') == match_view(changed)
        # A record whose versions are not strings is refused alone: it never gets a row or a view.
        outcome = store.store_records({'web03': record('web03', packages=[dict(PACKAGES[0], version=1, source_version=1)])})
        assert outcome['web03']['refused'] == 'packages[0].version must be a non-empty string, got 1'
        assert 'web03' not in _views(path) and store.matching_input('web03') is None
    with sqlite3.connect(path) as connection:
        # Anything that rewrites or removes a record drops its view.
        connection.execute("UPDATE hosts SET record = json_set(record, '$.schema', 0) WHERE name = 'web02'")
    assert 'web02' not in _views(path) and 'web01' in _views(path)
    with AssetStore(path) as store:
        assert store.matching_input('web02')['schema'] == 0


def _stored_results(path):
    """What a pass stored, with the store's clock (first seen, closed) cut to the day so two runs compare."""
    def day(findings):
        return [dict(f, first_seen=f['first_seen'][:10], closed=(f['closed'] or '')[:10]) for f in findings]

    with AssetStore(path) as store:
        results = {host: store.risk_result(host) for host in ('web01', 'db01', 'app01')}
        for result in results.values():
            result['findings'] = day(result['findings'])
        return results, day(store.findings()), {host: store.plan(host) for host in ('web01', 'db01', 'app01')}


def test_pass_over_views_stores_what_a_pass_over_records_stores(tmp_path):
    advisory_path = str(tmp_path / 'adv.db')
    build(advisory_path, [{'type': 'debian', 'src': os.path.join(FEEDS, 'debian-tracker.json')},
                          {'type': 'epss', 'src': os.path.join(FEEDS, 'epss.csv')}])
    records = {'web01': record(packages=PACKAGES, updates=UPDATES), 'db01': record('db01', packages=PACKAGES[1:], updates=[]),
               'app01': record('app01', packages=[dict(PACKAGES[0], held=True)], updates=UPDATES)}
    register = {'web01': {'exposure': 'internet', 'criticality': 'high'}, 'db01': {'exposure': 'isolated'}}
    paths = {}
    for label in ('views', 'records'):
        paths[label] = str(tmp_path / ('%s.db' % label))
        with AssetStore(paths[label]) as store:
            store.store_records(records)
        if label == 'records':
            with sqlite3.connect(paths[label]) as connection:
                connection.execute('DELETE FROM match_views')
        for _pass in range(2):
            advisories = AdvisoryDB(advisory_path)
            with AssetStore(paths[label]) as store:
                summary = assess_fleet(store, advisories, load_policy(), register, sorted(records), run_id='r1', now=NOW)
            advisories.close()
        assert summary['open_findings'] > 0
    with AssetStore(paths['views']) as store:
        assert set(_views(paths['views'])) == set(records)
    views, records_only = _stored_results(paths['views']), _stored_results(paths['records'])
    assert views == records_only


def test_hosts_with_the_same_view_get_one_object_from_the_texts_the_caller_keeps(tmp_path):
    """The risk pass keeps the views it read ({text: view}): hosts alike get the same object, told apart by identity."""
    path = str(tmp_path / 'assets.db')
    other = [dict(PACKAGES[0]), dict(PACKAGES[1], version='1.0-3', source_version='1.0-3')]
    with AssetStore(path) as store:
        store.store_records({'web01': record(hostname='web01', packages=PACKAGES), 'web02': record(hostname='web02', packages=PACKAGES),
                             'db01': record(hostname='db01', packages=other)})
        parsed = {}
        first = store.matching_inputs(['web01', 'db01'], parsed=parsed)
        assert len(parsed) == 2 and first['web01'] is not first['db01']
        second = store.matching_inputs(['web02', 'db01'], parsed=parsed)
        assert second['web02'] is first['web01'] and second['db01'] is first['db01']
        assert second['web02'] == match_view(record(hostname='web02', packages=PACKAGES))
        # Without the caller's texts, each call parses its own.
        assert store.matching_inputs(['web02'])['web02'] is not first['web01']

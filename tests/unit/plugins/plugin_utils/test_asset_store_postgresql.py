# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What only a PostgreSQL asset database has: URLs and credentials, its own refusals, the fleet-pass lock and
concurrent jobs.  The behaviour both backends share is tested once, parametrised (the ``asset_db`` fixture)."""

from __future__ import annotations

import multiprocessing
import sys

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import display_location, translate
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD


@pytest.fixture
def pg_db(postgresql_server, monkeypatch, request):
    monkeypatch.setenv('PGPASSWORD', PASSWORD)
    return postgresql_server.database('pg_%s' % request.node.name.replace('[', '_').replace(']', '').lower()[:50])


def test_a_url_with_a_password_is_refused_without_showing_it():
    with pytest.raises(AssetStoreError) as caught:
        AssetStore('postgresql://patchwise:s3cret-in-url@127.0.0.1:1/assets')
    assert 'the URL carries a password; give it in PGPASSWORD' in str(caught.value) and 's3cret-in-url' not in str(caught.value)
    assert display_location('postgresql://u:p@db.example.org:5433/assets?sslmode=require') == 'postgresql://u@db.example.org:5433/assets'


def test_an_unreachable_server_is_named(monkeypatch):
    monkeypatch.setenv('PGCONNECT_TIMEOUT', '2')
    with pytest.raises(AssetStoreError, match=r'postgresql://patchwise@127\.0\.0\.1:1/assets: cannot connect'):
        AssetStore('postgresql://patchwise@127.0.0.1:1/assets', busy_timeout=2)


def test_a_missing_driver_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, 'psycopg', None)
    with pytest.raises(AssetStoreError, match=r'needs the Python package psycopg \(version 3\)'):
        AssetStore('postgresql://patchwise@127.0.0.1:1/assets')


def test_a_wrong_password_is_named_without_it(postgresql_server, monkeypatch):
    url = postgresql_server.database('wrong_password')
    monkeypatch.setenv('PGPASSWORD', 'not-the-password')
    with pytest.raises(AssetStoreError) as caught:
        AssetStore(url)
    assert 'cannot connect' in str(caught.value) and 'password authentication failed' in str(caught.value)
    assert 'not-the-password' not in str(caught.value)


def test_a_database_of_another_program_or_an_empty_one_read_only_is_refused(postgresql_server, pg_db):
    with pytest.raises(AssetStoreError, match='the asset database has no tables yet'):
        AssetStore(pg_db, readonly=True)
    with pytest.raises(AssetStoreError, match='the asset database has no tables yet'):
        AssetStore(pg_db, create=False)
    postgresql_server.query(pg_db.rsplit('/', 1)[1], 'CREATE TABLE orders (id integer)')
    with pytest.raises(AssetStoreError, match='holds tables but is not a patchwise asset database'):
        AssetStore(pg_db)


def test_another_kind_in_meta_is_refused(postgresql_server, pg_db):
    name = pg_db.rsplit('/', 1)[1]
    postgresql_server.query(name, 'CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
    postgresql_server.query(name, "INSERT INTO meta VALUES ('kind', 'advisory')")
    with pytest.raises(AssetStoreError, match='is an advisory database, not an asset database'):
        AssetStore(pg_db)


def test_the_fleet_pass_takes_the_advisory_lock(postgresql_server, pg_db):
    with AssetStore(pg_db) as store:
        store.store_records({'web01': record()})
    import psycopg
    holder = psycopg.connect(pg_db, password=PASSWORD)
    try:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('patchwise risk pass'))")
        with AssetStore(pg_db, busy_timeout=1) as store, pytest.raises(AssetStoreError, match=r'lock timeout|canceling statement'):
            store.store_risk_results({'web01': {'tier': 'none', 'findings': []}})
    finally:
        holder.rollback()
        holder.close()
    with AssetStore(pg_db) as store:
        assert store.store_risk_results({'web01': {'tier': 'none', 'findings': []}}) == {'web01': {'opened': 0, 'closed': 0}}


def _writer(url, prefix, count):
    for index in range(count):
        name = '%s%03d' % (prefix, index)
        with AssetStore(url, busy_timeout=60) as store:
            store.store_records({name: record(name)}, run_id=prefix)


def _reader(url, rounds, seen):
    for _round in range(rounds):
        with AssetStore(url, readonly=True) as store:
            seen.append(len(store.hosts()))


def test_four_writers_and_a_reader_at_once(pg_db):
    AssetStore(pg_db).close()
    context = multiprocessing.get_context('fork')
    seen = context.Manager().list()
    workers = [context.Process(target=_writer, args=(pg_db, prefix, 25)) for prefix in 'abcd']
    workers.append(context.Process(target=_reader, args=(pg_db, 20, seen)))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(180)
        assert worker.exitcode == 0
    with AssetStore(pg_db, readonly=True) as store:
        assert len(store.hosts()) == 100 and len(store.history(kind='first_seen')) == 100
    assert len(seen) == 20 and list(seen) == sorted(seen)    # a reader sees the fleet grow, never shrink


@pytest.mark.parametrize(('sqlite', 'postgresql'), [
    ("INSERT OR REPLACE INTO plans (host, run_id, created_at, plan, brief) VALUES (?, ?, ?, ?, ?)",
     'INSERT INTO plans (host, run_id, created_at, plan, brief) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (host) DO UPDATE SET '
     'run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at, plan = EXCLUDED.plan, brief = EXCLUDED.brief'),
    ("INSERT OR IGNORE INTO meta (key, value) VALUES ('kind', 'asset');", "INSERT INTO meta (key, value) VALUES ('kind', 'asset') ON CONFLICT DO NOTHING"),
    ("SELECT x FROM t WHERE y LIKE 'a%' AND z = ?", "SELECT x FROM t WHERE y LIKE 'a%%' AND z = %s"),
    ('CREATE TABLE h (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT)', 'CREATE TABLE h (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, x TEXT)'),
])
def test_statements_are_translated(sqlite, postgresql):
    assert translate(sqlite) == postgresql


def test_the_large_json_columns_are_compressed_with_lz4(postgresql_server, pg_db):
    """Schema 9: where the server has lz4 (Debian's has), records and results are compressed with it, not pglz."""
    with AssetStore(pg_db) as store:
        store.store_records({'web01': record()})
    database = pg_db.rsplit('/', 1)[1]
    (available,), = postgresql_server.query(database, "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    assert available, 'the test server was built without lz4'
    rows = postgresql_server.query(database, "SELECT c.relname, a.attname, a.attcompression FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                                             "WHERE (c.relname, a.attname) IN (('hosts', 'record'), ('match_views', 'view'), ('risk_results', 'result'), "
                                             "('plans', 'plan'), ('history', 'detail'), ('patch_outcomes', 'detail'))")
    assert sorted((table, column, compression) for table, column, compression in rows) == [
        ('history', 'detail', 'l'), ('hosts', 'record', 'l'), ('match_views', 'view', 'l'), ('patch_outcomes', 'detail', 'l'),
        ('plans', 'plan', 'l'), ('risk_results', 'result', 'l')]

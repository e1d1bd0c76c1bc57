# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each database knows its kind: swapped paths are refused and nothing is read as, migrated as or replaced by the other."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, AdvisoryDBError, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError
from ansible_collections.patchwise.patching.plugins.plugin_utils.database_kind import database_kind
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

KEV = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'playbooks', 'files', 'feeds', 'cisa_kev_2025-08-25.json')


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def databases(tmp_path):
    assets, advisories = tmp_path / 'assets.db', tmp_path / 'advisories.db'
    with AssetStore(str(assets)) as store:
        store.store_records({'web01': record(), 'db01': record('db01')})
    build(str(advisories), [{'type': 'kev', 'src': KEV}])
    return assets, advisories


def test_each_database_says_what_it_is(databases, tmp_path):
    assets, advisories = databases
    assert database_kind(str(assets)) == 'asset' and database_kind(str(advisories)) == 'advisory'
    assert database_kind(str(tmp_path / 'none.db')) is None
    (tmp_path / 'empty.db').write_bytes(b'')
    assert database_kind(str(tmp_path / 'empty.db')) == 'empty'
    (tmp_path / 'text.db').write_text('hello' * 200)
    assert database_kind(str(tmp_path / 'text.db')) == 'unreadable'
    with sqlite3.connect(str(tmp_path / 'other.db')) as connection:
        connection.execute('CREATE TABLE meta (key TEXT, value TEXT)')
        connection.execute("INSERT INTO meta VALUES ('schema', '4')")
    assert database_kind(str(tmp_path / 'other.db')) == 'unknown', 'a meta table alone does not make an advisory database'


def test_an_asset_database_is_never_replaced_by_an_advisory_build(databases):
    assets, _advisories = databases
    before = _digest(assets)
    for force in (False, True):
        with pytest.raises(AdvisoryDBError, match=r'refusing to replace .*assets\.db: it is an asset database, not an advisory database'):
            build(str(assets), [{'type': 'kev', 'src': KEV}], force=force)
    assert _digest(assets) == before
    with AssetStore(str(assets), readonly=True) as store:
        assert [host['name'] for host in store.hosts()] == ['db01', 'web01']


def test_swapped_paths_are_refused_on_read_and_nothing_changes(databases):
    assets, advisories = databases
    before = (_digest(assets), _digest(advisories))
    with pytest.raises(AssetStoreError, match=r'advisories\.db is an advisory database, not an asset database'):
        AssetStore(str(advisories))
    with pytest.raises(AssetStoreError, match=r'advisories\.db is an advisory database, not an asset database'):
        AssetStore(str(advisories), readonly=True)
    with pytest.raises(AdvisoryDBError, match=r'assets\.db is an asset database, not an advisory database'):
        AdvisoryDB(str(assets))
    assert (_digest(assets), _digest(advisories)) == before


def test_an_unreadable_advisory_database_is_replaced_only_with_force(tmp_path):
    broken = tmp_path / 'advisories.db'
    broken.write_bytes(b'\x00not sqlite' * 300)
    with pytest.raises(AdvisoryDBError, match='not a readable SQLite database: refusing to replace it; set force: true'):
        build(str(broken), [{'type': 'kev', 'src': KEV}])
    build(str(broken), [{'type': 'kev', 'src': KEV}], force=True)
    assert database_kind(str(broken)) == 'advisory'


def test_a_killed_builds_leftovers_are_removed_by_the_next_build(tmp_path):
    import subprocess
    import time

    from ansible_collections.patchwise.patching.plugins.plugin_utils import advisory_db

    # A process that is gone for sure: it ran and was reaped.
    dead = subprocess.Popen(['true'])
    dead.wait()
    (tmp_path / ('.advisory-db-%d-abc123' % dead.pid)).mkdir()
    (tmp_path / ('.advisory-db-%d-abc123' % dead.pid) / 'feed.json').write_text('{}')
    (tmp_path / ('.advisory-db-%d-xyz.sqlite' % dead.pid)).write_bytes(b'x' * 1000)
    alive = tmp_path / ('.advisory-db-%d-mine.sqlite' % os.getpid())
    alive.write_bytes(b'still being written')
    old = tmp_path / '.advisory-db-q1w2e3.sqlite'
    old.write_bytes(b'an older version left this')
    os.utime(str(old), (time.time() - 2 * 86400, time.time() - 2 * 86400))
    result = build(str(tmp_path / 'advisories.db'), [{'type': 'kev', 'src': KEV}])
    assert result['removed_leftovers'] == sorted(['.advisory-db-%d-abc123' % dead.pid, '.advisory-db-%d-xyz.sqlite' % dead.pid,
                                                  '.advisory-db-q1w2e3.sqlite'])
    assert alive.exists(), 'a running build keeps its scratch files'
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(['advisories.db', alive.name])
    assert advisory_db.remove_stale_scratch(str(tmp_path)) == []

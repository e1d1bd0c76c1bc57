# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Copy a whole asset database to another place: an SQLite fleet's history into PostgreSQL, or back.

The target must be new (no tables) or empty (its schema and nothing else): a copy never merges into a
database that holds hosts.  Both ends are brought to the current schema first; every row of every table
is copied in one transaction on the target, history and patch outcome ids included, so a failure leaves
the target as it was.
"""

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError

# Parents before children: the order a reader of a half-copied database would expect (it never sees one).
TABLES = ('register', 'hosts', 'match_views', 'history', 'runs', 'finding_advisories', 'finding_decisions', 'finding_details', 'risk_results',
          'findings', 'plans', 'patch_outcomes', 'update_sightings', 'patch_sets', 'patch_set_promotions', 'controller_state', 'finding_counts',
          'host_finding_counts')
# Tables whose integer ids the target must go on counting from.
_IDENTITY_TABLES = ('history', 'patch_outcomes', 'patch_set_promotions')
_BATCH = 1000


def _columns(db, table):
    cursor = db.execute('SELECT * FROM %s WHERE 1 = 0' % table)  # noqa: S608 - table names come from TABLES
    return [column[0] for column in cursor.description]


def copy_database(source, target, busy_timeout=30.0, check_mode=False):
    """Copy every row of ``source`` to ``target`` (paths or URLs); returns ``{table: rows}``."""
    counts = {}
    with AssetStore(source, readonly=True, busy_timeout=busy_timeout) as reader:
        if check_mode:
            for table in TABLES:
                counts[table] = reader._db.execute('SELECT count(*) FROM %s' % table).fetchone()[0]  # noqa: S608
            return counts
        with AssetStore(target, busy_timeout=busy_timeout) as writer:
            if writer.dialect == reader.dialect and writer.path == reader.path:
                raise AssetStoreError('%s: source and target are the same database' % writer.path)

            def work(db):
                held = [table for table in TABLES if db.execute('SELECT 1 FROM %s LIMIT 1' % table).fetchone()]  # noqa: S608
                if held:
                    raise AssetStoreError('%s already holds data (%s): a copy goes into a new or empty asset database only'
                                          % (writer.path, ', '.join(held)))
                for table in TABLES:
                    columns = _columns(reader._db, table)
                    insert = 'INSERT INTO %s (%s) VALUES (%s)' % (table, ', '.join(columns), ', '.join('?' * len(columns)))  # noqa: S608
                    rows = reader._db.execute('SELECT %s FROM %s' % (', '.join(columns), table))  # noqa: S608
                    counts[table] = 0
                    while True:
                        batch = rows.fetchmany(_BATCH)
                        if not batch:
                            break
                        db.executemany(insert, batch)
                        counts[table] += len(batch)
                if db.dialect == 'postgresql':
                    for table in _IDENTITY_TABLES:
                        # Ids were copied as they were: the identity goes on after the largest.
                        sql = "SELECT setval(pg_get_serial_sequence('%s', 'id'), coalesce((SELECT max(id) FROM %s), 0) + 1, false)"
                        db.execute(sql % (table, table))
                return counts

            return writer._write(work)

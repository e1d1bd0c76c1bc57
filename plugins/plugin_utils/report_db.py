# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's read-only access to the asset database (an SQLite file or a PostgreSQL URL), and its error.

The report's SQL is SQLite's; ``ReportDatabase.execute`` fills in the few dialect differences and the host
filter, so every reader of the report (the figures, the forked readers and writers) runs the same statements.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import urllib.parse

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import ConnectionProblem, display_location, is_url
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import connect as connect_location
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError
from ansible_collections.patchwise.patching.plugins.plugin_utils.database_kind import ASSET, database_kind, describe


class ReportError(Exception):
    """The report cannot be made from these inputs; the message names the input and what is wrong."""


def json_or(text, fallback):
    """``text`` parsed as JSON; ``fallback`` when it is empty or not JSON."""
    try:
        return json.loads(text) if text else fallback
    except (TypeError, ValueError):
        return fallback


def iso_date(text):
    """The date at the start of an ISO 8601 text."""
    return datetime.date.fromisoformat(text[:10])


def open_database(path):
    """A read-only connection to the asset database at ``path`` (a file or a ``postgresql://`` URL), checked through ``AssetStore`` first.

    Refuses what is not a usable asset database, naming the file (or the URL, without a password) and what it is instead.
    """
    if is_url(path):
        try:
            with AssetStore(path, readonly=True):
                pass
            return connect(path)
        except (AssetStoreError, ConnectionProblem) as exc:
            raise ReportError(str(exc)) from exc
    if '://' in str(path):
        raise ReportError('%s: not an asset database location (a file path, or a postgresql:// URL)' % display_location(path))
    if not os.path.exists(path):
        raise ReportError('%s: the asset database does not exist (run the discover playbook first)' % path)
    kind = database_kind(path)
    if kind != ASSET:
        raise ReportError('%s is %s, not an asset database: no report was written (check patch_report_asset_db)' % (path, describe(kind)))
    try:
        with AssetStore(path, readonly=True):
            pass
    except AssetStoreError as exc:
        raise ReportError(str(exc)) from exc
    return connect(path)


def connect(path):
    """A read-only ``ReportDatabase`` on ``path`` (not checked: see ``open_database``)."""
    return ReportDatabase(path)


# The report's SQL is SQLite's; these marks are filled per dialect.  ``{c}`` follows a text column that is
# ordered or compared by min/max: PostgreSQL then compares bytes, as SQLite does, whatever the database's locale.
_MARKS = {
    'sqlite': (('{c}', ''),),
    'postgresql': ((' NOT INDEXED', ''), ('{c}', ' COLLATE "C"')),
}


class ReportDatabase:
    """A read-only connection to the asset database: SQLite, or PostgreSQL through ``asset_db_connection``.

    ``execute`` runs the report's SQL, its ``{hosts}`` mark replaced by the host filter of ``select_hosts``
    (SQLite: a temporary table; PostgreSQL: an array parameter) and its ``{c}`` marks by the collation.
    """

    def __init__(self, path):
        self.name = display_location(path)
        self.hosts = None
        if is_url(path):
            self.dialect = 'postgresql'
            self._db = connect_location(path, readonly=True)
            self.errors = self._db.errors
        else:
            self.dialect = 'sqlite'
            self._db = sqlite3.connect('file:%s?mode=ro' % urllib.parse.quote(os.path.abspath(path)), uri=True, check_same_thread=False)
            self._db.execute('PRAGMA temp_store = MEMORY')
            self.errors = (sqlite3.DatabaseError,)

    def select_hosts(self, hosts):
        """Restrict the ``{hosts}`` mark of every query to ``hosts`` (None: every host)."""
        self.hosts = None if hosts is None else sorted(hosts)
        if hosts is None or self.dialect != 'sqlite':
            return
        self._db.execute('CREATE TEMP TABLE IF NOT EXISTS report_hosts (name TEXT PRIMARY KEY)')
        self._db.execute('DELETE FROM temp.report_hosts')
        self._db.executemany('INSERT OR IGNORE INTO temp.report_hosts (name) VALUES (?)', [(host,) for host in hosts])

    def _statement(self, sql, params):
        if '{hosts}' in sql:
            if self.hosts is None:
                sql = sql.replace('{hosts}', '')
            elif self.dialect == 'sqlite':
                sql = sql.replace('{hosts}', ' AND host IN (SELECT name FROM temp.report_hosts)')
            else:
                at = sql[:sql.index('{hosts}')].count('?')
                params = (*params[:at], self.hosts, *params[at:])
                sql = sql.replace('{hosts}', ' AND host = ANY(?)')
        for mark, text in _MARKS[self.dialect]:
            sql = sql.replace(mark, text)
        return sql, params

    def execute(self, sql, params=()):
        return self._db.execute(*self._statement(sql, tuple(params)))

    def executemany(self, sql, rows):
        return self._db.executemany(sql, rows)

    def stream(self, sql, params=()):
        """The rows of ``sql``, read as they come: PostgreSQL does not hold a large result whole in memory."""
        sql, params = self._statement(sql, tuple(params))
        if self.dialect == 'sqlite':
            yield from self._db.execute(sql, params)
            return
        yield from self._db.stream(sql, params, size=5000)

    def close(self):
        self._db.close()

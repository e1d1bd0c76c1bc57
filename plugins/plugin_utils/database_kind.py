# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which of the collection's databases a file is, so one is never taken for, migrated as or replaced by the other.

Both databases are SQLite files with a ``meta`` table, so a path swapped by
mistake used to be read (or rebuilt) as the wrong one.  Each now records its
kind in ``meta`` (``kind`` = ``asset`` or ``advisory``); files written before
that are recognised by their tables.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse

ASSET = 'asset'
ADVISORY = 'advisory'
_SIGNATURES = {ASSET: {'meta', 'hosts', 'history', 'findings'}, ADVISORY: {'meta', 'advisories', 'affected'}}
_DESCRIPTIONS = {ASSET: 'an asset database', ADVISORY: 'an advisory database', 'empty': 'an empty SQLite file',
                 'unreadable': 'not an SQLite database', 'unknown': 'an SQLite database of another program'}


def describe(kind):
    """``kind`` in words, for messages."""
    return _DESCRIPTIONS.get(kind, 'a %s database' % kind)


def database_kind(path):
    """``asset``, ``advisory``, ``empty``, ``unknown`` or ``unreadable`` for the file at ``path``; None when there is none.

    Opened read-only: looking never changes the file.
    """
    if not os.path.exists(path):
        return None
    if os.path.getsize(path) == 0:
        return 'empty'
    try:
        connection = sqlite3.connect('file:%s?mode=ro' % urllib.parse.quote(os.path.abspath(path)), uri=True)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return 'empty'
            if 'meta' in tables:
                row = connection.execute("SELECT value FROM meta WHERE key = 'kind'").fetchone()
                if row is not None:
                    return str(row[0])
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return 'unreadable'
    for kind, signature in _SIGNATURES.items():
        if signature <= tables:
            return kind
    return 'unknown'

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The finding counts (asset schema 10): the findings counted by what the compliance report groups them by.

``finding_counts`` counts the findings per (detail key, tier, status, due, first seen, closed), the fleet's
figures; ``host_finding_counts`` per (host, status, due, closed), each host's overdue findings.  The risk pass
changes them in the transaction that changes the findings (``FindingCounts``), so the report of a ten-million
row fleet reads a few hundred thousand counts.  ``counts_agree`` tells a reader whether the counts still add up
to the findings (a database whose findings were written by something else, or restored from a copy made
without them, does not): the report then counts the findings themselves.
"""

from __future__ import annotations

import collections

_DETAIL_COLUMNS = ('detail_key', 'tier', 'status', 'due', 'first_seen', 'closed')
_HOST_COLUMNS = ('host', 'status', 'due', 'closed')


def _detail_keys(rows):
    """Each row's key in ``finding_counts`` (``_DETAIL_COLUMNS``)."""
    return [(row[5] or '', row[3] or '', row[0], row[4] or '', row[1], row[7] or '') for row in rows]


def _host_keys(host, rows):
    """Each row's key in ``host_finding_counts`` (``_HOST_COLUMNS``)."""
    return [(host, row[0], row[4] or '', row[7] or '') for row in rows]


def _upsert(table, columns):
    # Column and table names come from this module's constants, never from data.
    return ('INSERT INTO %s (%s, findings) VALUES (%s, ?) ON CONFLICT (%s) DO UPDATE SET findings = %s.findings + excluded.findings'  # noqa: S608
            % (table, ', '.join(columns), ', '.join('?' * len(columns)), ', '.join(columns), table))


def _delete_emptied(table, columns):
    return 'DELETE FROM %s WHERE %s AND findings = 0' % (table, ' AND '.join('%s = ?' % column for column in columns))  # noqa: S608


class FindingCounts:
    """What one transaction of the risk pass changes in the finding counts; ``write`` applies it in that transaction.

    Rows are in ``AssetStore.finding_rows``'s layout: ``(status, first_seen, kind, tier, due, detail_key, extra, closed)``.
    The rows a pass removes and adds are counted apart, a host's at a time (``Counter.update`` counts a list in C:
    a first pass adds a million rows), and netted in ``changes``.
    """

    def __init__(self):
        self._added, self._removed = (collections.Counter(), collections.Counter()), (collections.Counter(), collections.Counter())
        # {id(tally): [tally, hosts counted with it]}: the per-detail counts of hosts alike are added up once, in changes().
        self._tallied = {}

    def count(self, host, before, after):
        """``before``: ``host``'s stored rows that its pass rewrites; ``after``: the rows it writes (new ones included)."""
        for (by_detail, by_host), rows in ((self._removed, before), (self._added, after)):
            if rows:
                by_detail.update(_detail_keys(rows))
                by_host.update(_host_keys(host, rows))

    @staticmethod
    def tally(before, after):
        """``before`` and ``after`` (as ``count`` takes them) counted once, for hosts alike that rewrite the same rows
        (the per-host keys with None for the host, which ``count_tally`` puts in)."""
        return tuple((collections.Counter(_detail_keys(rows)), collections.Counter(_host_keys(None, rows))) for rows in (before, after))

    def count_tally(self, host, tally):
        """``count(host, before, after)`` for a host whose rows are those ``tally`` counted: its per-host counts now (a
        few keys), the per-detail ones once for all the hosts counted with the same tally."""
        for (_by_detail, by_host), (_detail_counts, host_counts) in zip((self._removed, self._added), tally):
            for key, number in host_counts.items():
                by_host[(host, *key[1:])] += number
        self._tallied.setdefault(id(tally), [tally, 0])[1] += 1

    def changes(self):
        """``(by_detail, by_host)``: each count's net change, those that moved only."""
        for tally, hosts in self._tallied.values():
            for (by_detail, _by_host), (detail_counts, _host_counts) in zip((self._removed, self._added), tally):
                for key, number in detail_counts.items():
                    by_detail[key] += number * hosts
        self._tallied.clear()
        netted = []
        for added, removed in zip(self._added, self._removed):
            change = dict(added)
            for key, count in removed.items():
                change[key] = change.get(key, 0) - count
            netted.append({key: count for key, count in change.items() if count})
        return tuple(netted)

    def write(self, db):
        """Add the changes to the stored counts; delete the counts they bring to zero."""
        for table, columns, changes in zip(('finding_counts', 'host_finding_counts'), (_DETAIL_COLUMNS, _HOST_COLUMNS), self.changes()):
            if changes:
                db.executemany(_upsert(table, columns), [(*key, change) for key, change in changes.items()])
            lowered = [key for key, change in changes.items() if change < 0]
            if lowered:
                db.executemany(_delete_emptied(table, columns), lowered)
        for counter in (*self._added, *self._removed):
            counter.clear()


def counts_agree(db):
    """Whether both count tables add up, status by status, to the findings stored.

    Index-only counts on SQLite: every finding, and those not open by status (their partial index, asset schema 13);
    the open ones are the difference.
    """
    stored = dict(db.execute("SELECT status, count(*) FROM findings WHERE status <> 'open' GROUP BY status").fetchall())
    opened = db.execute('SELECT count(*) FROM findings').fetchone()[0] - sum(stored.values())
    if opened:
        stored['open'] = opened
    for table in ('finding_counts', 'host_finding_counts'):
        # The table names are this module's; a negative count means the counts were changed by something else.
        counted = db.execute('SELECT status, sum(findings), min(findings) FROM %s GROUP BY status' % table).fetchall()  # noqa: S608
        if any(lowest <= 0 for _status, _total, lowest in counted):
            return False
        if {status: total for status, total, _lowest in counted} != stored:
            return False
    return True

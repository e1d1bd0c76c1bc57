# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's reading of the findings: ten million rows on a 10,000-host fleet, so read the cheapest way.

For the whole fleet, from the finding counts the risk pass keeps (asset schema 10, ``finding_counts``) while a
second (forked) process groups the accepted and held findings and checks that the counts add up to the
findings.  Otherwise (a report on some hosts, counts that do not add up), the findings
table is read in two passes at once and never joined in SQL (a join or a GROUP BY over a random key costs
SQLite a sort of every row): a counter in Python over the few columns that name a finding's shared detail and
its lifecycle, and, in the second process, a GROUP BY host over the rows already past their due date (the
table's rows lie roughly in host order) and the counts by first-seen date.
"""

from __future__ import annotations

import collections
import sqlite3

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import ConnectionProblem, display_location
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_counts import counts_agree
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_details import merged_detail
from ansible_collections.patchwise.patching.plugins.plugin_utils.forked_call import ForkedCall, ForkedCallFailed
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_db import ReportError, connect, iso_date, json_or

# The flags of a counted finding: accepted, past its due date.
ACCEPTED, PAST_DUE = 1, 2


def _object(text):
    """A stored JSON object parsed; {} when it is missing, not JSON or not an object."""
    value = json_or(text, {})
    return value if isinstance(value, dict) else {}


class Details:
    """The shared finding details (a few thousand), reduced to what the report shows."""

    def __init__(self, db):
        self.by_key = {}
        # Read table by table, each part parsed once: ~100,000 details name ~10,000 advisory parts and a few dozen decisions.
        advisories = {key: _object(text) for key, text in db.execute('SELECT advisory_key, part FROM finding_advisories')}
        decisions = {key: _object(text) for key, text in db.execute('SELECT decision_key, part FROM finding_decisions')}
        for key, text, advisory_key, decision_key in db.execute('SELECT detail_key, detail, advisory_key, decision_key FROM finding_details'):
            if text or not (advisory_key or decision_key):
                detail = _object(text)
            else:
                detail = merged_detail(key, advisories.get(advisory_key, {}), decisions.get(decision_key, {}))
            kev = detail.get('kev') or {}
            cvss = detail.get('cvss') or {}
            epss = detail.get('epss') or {}
            self.by_key[key] = {
                'id': detail.get('id'), 'package': detail.get('package'), 'kind': detail.get('kind') or 'os',
                'ecosystem': detail.get('ecosystem'), 'installed': detail.get('installed'), 'fixed': detail.get('fixed'),
                'due_class': detail.get('due_class'), 'kev': bool(kev),
                'kev_due': kev.get('due') if isinstance(kev, dict) else None,
                'cvss': cvss.get('score') if isinstance(cvss, dict) else None,
                'epss': epss.get('score') if isinstance(epss, dict) else None}

    def get(self, key):
        return self.by_key.get(key) or {'id': None, 'package': None, 'kind': 'os', 'ecosystem': None, 'installed': None, 'fixed': None,
                                        'due_class': None, 'kev': False, 'kev_due': None, 'cvss': None, 'epss': None}


class SideReader:
    """What a second process reads, on its own connection, while this one counts the open findings.

    ``overdue``: per host, its open findings past due now (count, oldest due date), from a GROUP BY host over a
    table scan (its rows lie roughly in host order, so SQLite's sort is cheap).  ``fixed_by_host``: per host and
    closing time, the earliest due date of the findings fixed then, for the compliance trend.  ``fixed``: the fixed
    findings by tier, first seen and closed (few distinct times: those of the assess passes).  ``opened``: the open
    findings by tier and first seen.  ``exceptions``: the accepted and held findings, counted by acceptance or hold.

    A process, not a thread: both sides turn millions of rows into Python objects, and two threads doing so hand the
    interpreter's lock back and forth at every row (the sqlite3 module releases it around each step), which made
    the two passes together slower than one after the other.  The child is forked, so it inherits the collection's
    modules as this process loaded them, and sends back only the small results.
    """

    _FIELDS = ('overdue', 'fixed_by_host', 'fixed', 'opened', 'exceptions', 'counts_agree')

    def __init__(self, path, hosts, today, counted=False):
        self.path, self.name, self.hosts, self.today = path, display_location(path), hosts, today
        self.overdue = self.fixed_by_host = self.fixed = self.opened = self.exceptions = self.counts_agree = None
        self._call = ForkedCall(self._read_exceptions if counted else self._read, name='patch_report sql', doing='reading them',
                                failures=(ConnectionProblem, ReportError, sqlite3.DatabaseError))

    def _read_exceptions(self):
        """When this process reads the finding counts: the exceptions, and whether the counts add up to the findings."""
        db = connect(self.path)
        try:
            return {'exceptions': grouped_exceptions(db), 'counts_agree': counts_agree(db)}
        except db.errors as exc:
            raise ReportError(str(exc)) from exc
        finally:
            db.close()

    def _read(self):
        db = connect(self.path)
        try:
            db.select_hosts(self.hosts)
            overdue = {host: (count, oldest) for host, count, oldest in db.execute(
                "SELECT host, count(*), min(due{c}) FROM findings NOT INDEXED WHERE status = 'open' AND due < ?{hosts} GROUP BY host",
                (self.today,))}
            # status <> 'open' names the condition of the partial index of the findings not open (asset schema 13).
            fixed_by_host = db.execute(
                "SELECT host, closed, min(due{c}) FROM findings WHERE status <> 'open' AND status = 'fixed' AND due < closed{hosts} "
                "GROUP BY host, closed").fetchall()
            fixed = db.execute(
                "SELECT tier, first_seen, closed, count(*) FROM findings WHERE status <> 'open' AND status = 'fixed'{hosts} "
                "GROUP BY tier, first_seen, closed").fetchall()
            if db.dialect == 'sqlite':
                opened = collections.Counter(db.execute("SELECT tier, first_seen FROM findings NOT INDEXED WHERE status = 'open'{hosts}"))
            else:
                # The server groups by hashing, without a sort: the rows never cross the network one by one.
                opened = collections.Counter({(tier, first_seen): count for tier, first_seen, count in db.execute(
                    "SELECT tier, first_seen, count(*) FROM findings WHERE status = 'open'{hosts} GROUP BY tier, first_seen")})
            return {'overdue': overdue, 'fixed_by_host': fixed_by_host, 'fixed': fixed, 'opened': opened, 'exceptions': grouped_exceptions(db)}
        except db.errors as exc:
            raise ReportError(str(exc)) from exc
        finally:
            db.close()

    def result(self):
        try:
            value = self._call.result()
        except ForkedCallFailed as exc:
            raise ReportError('%s: reading the findings failed: %s' % (self.name, exc)) from None
        for field in self._FIELDS:
            if field in value:
                setattr(self, field, value[field])
        return self

    def stop(self):
        """End the reading process when the report fails before asking for its result."""
        self._call.stop()


def grouped_exceptions(db):
    """``[(status, extra, findings)]`` of the findings accepted or held.

    Few distinct acceptances and holds, however many findings they cover: SQLite groups them.  Sorted here, so that
    acceptances listed alike are in the same order whichever database grouped them.
    """
    return sorted(db.execute(
        "SELECT status, extra, count(*) FROM findings NOT INDEXED WHERE extra IS NOT NULL AND status != 'fixed'{hosts} GROUP BY status, extra"))


def counted_figures(db, today):
    """From the finding counts: ``lifecycle_counter``'s counter and the figures ``SideReader`` reads from the findings.

    Grouped by the database: a few hundred thousand counts, but far fewer groups.  The counts mark an empty
    column with '' (never NULL, see the asset schema); it is None again here, as the findings give it.
    """
    counter = collections.Counter({(key, tier, int(accepted) + 2 * int(past_due)): count for key, tier, accepted, past_due, count in db.execute(
        "SELECT NULLIF(detail_key, ''), NULLIF(tier, ''), status = 'accepted', due != '' AND due < ?, CAST(sum(findings) AS BIGINT) "
        "FROM finding_counts WHERE status != 'fixed' GROUP BY 1, 2, 3, 4", (today,))})
    opened, fixed = collections.Counter(), []
    for status, tier, first_seen, closed, count in db.execute(
            "SELECT status, NULLIF(tier, ''), first_seen, NULLIF(closed, ''), CAST(sum(findings) AS BIGINT) FROM finding_counts "
            "WHERE status IN ('open', 'fixed') GROUP BY 1, 2, 3, 4"):
        if status == 'open':
            opened[(tier, first_seen)] += count
        else:
            fixed.append((tier, first_seen, closed, count))
    overdue = {host: (count, oldest) for host, count, oldest in db.execute(
        "SELECT host, CAST(sum(findings) AS BIGINT), min(due{c}) FROM host_finding_counts WHERE status = 'open' AND due != '' AND due < ? "
        'GROUP BY host', (today,))}
    fixed_by_host = db.execute(
        "SELECT host, closed, min(due{c}) FROM host_finding_counts WHERE status = 'fixed' AND due != '' AND due < closed GROUP BY host, closed").fetchall()
    return counter, (overdue, fixed_by_host, fixed, opened)


def days_late(due, today):
    """Whole days from the due date ``due`` (ISO 8601) to the date ``today``."""
    return today.toordinal() - iso_date(due).toordinal()


def overdue_rows(findings, marks, today):
    """The overdue table's rows from ``Report.overdue_findings`` rows and ``Report.detail_marks``."""
    unknown = (None, False)
    # Days late cached per distinct due date (a few hundred), not parsed per row.
    late = {}
    for host, fid, package, kind, tier, due, first_seen, key in findings:
        due_class, kev = marks.get(key, unknown)
        days = late.get(due)
        if days is None:
            days = late[due] = days_late(due, today)
        yield host, fid, package, kind, tier, due_class, kev, due, days, first_seen


def read_findings(db, path, selected, today, *, details_read=None):
    """``(details, counter, side)``: the shared details, ``lifecycle_counter``'s counter and the ``SideReader``
    figures, each read the cheapest way.

    For the whole fleet, from the finding counts the risk pass keeps, while the second process reads the
    exceptions and checks that the counts still add up to the findings; when they do not (findings written by
    something else than the store), the findings themselves are counted, as for a report on some hosts.
    ``details_read(details)`` is called once the shared details are read, before the counting.
    """
    # The report opens only databases of the current schema (report_db.open_database), which keep the counts.
    counted = selected is None
    sql_side = SideReader(path, selected, today, counted=counted)
    try:
        details = Details(db)
        if details_read is not None:
            details_read(details)
        counter, figures = counted_figures(db, today) if counted else (lifecycle_counter(db, today), None)
    except BaseException:
        sql_side.stop()
        raise
    sql_side.result()
    if counted and sql_side.counts_agree:
        sql_side.overdue, sql_side.fixed_by_host, sql_side.fixed, sql_side.opened = figures
    elif counted:
        sql_side = SideReader(path, selected, today)
        try:
            counter = lifecycle_counter(db, today)
        except BaseException:
            sql_side.stop()
            raise
        sql_side.result()
    return details, counter, sql_side


def lifecycle_counter(db, today):
    """``Counter((detail_key, tier, flags))`` over the findings not fixed, in one pass.

    Few distinct keys (a detail has one tier on almost every host), so the counter stays in the CPU's cache.
    PostgreSQL counts them itself (a hash aggregate), so the rows need not cross the network one by one.
    """
    if db.dialect == 'sqlite':
        # A row without a due date is not past due (not a None flag that fails the report).
        return collections.Counter(db.execute(
            "SELECT detail_key, tier, (status = 'accepted') + 2 * ifnull(due < ?, 0) FROM findings NOT INDEXED WHERE status != 'fixed'{hosts}",
            (today,)))
    return collections.Counter({(key, tier, flags): count for key, tier, flags, count in db.execute(
        "SELECT detail_key, tier, CAST(status = 'accepted' AS INTEGER) + 2 * COALESCE(CAST(due < ? AS INTEGER), 0), count(*) FROM findings "
        "WHERE status != 'fixed'{hosts} GROUP BY 1, 2, 3", (today,))})

"""report_findings: the findings read from the counts the risk pass keeps or counted afresh give the same report,
and a failure of the process reading beside the report's is named and leaves no process."""

from __future__ import annotations

import multiprocessing
import os
import random
import sqlite3
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import report_findings
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import RECOUNT_FINDINGS, statements
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_counts import counts_agree
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_db import ReportError
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils import random_findings
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.report_fleet import collect_report as _collect
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.report_fleet import tables as _tables


@pytest.mark.parametrize('reader', ['_read', '_read_exceptions'])
def test_a_failure_of_the_second_reader_is_named_and_leaves_no_process(sqlite_fleet, monkeypatch, reader):
    """The process counting beside the main pass (or, when the finding counts give the figures, reading the
    exceptions): its database error, its death and the main pass's failure each end the report with a clear error,
    and no reading process is left behind."""
    def failing_read(self):
        raise ReportError('database disk image is malformed')

    if reader == '_read':
        monkeypatch.setattr(report_findings, 'counts_agree', lambda db: False)
    monkeypatch.setattr(report_findings.SideReader, reader, failing_read)
    with pytest.raises(ReportError, match=r'assets\.db: reading the findings failed: database disk image is malformed$'):
        _collect(sqlite_fleet)
    assert multiprocessing.active_children() == []

    monkeypatch.setattr(report_findings.SideReader, reader, lambda self: os._exit(3))
    with pytest.raises(ReportError, match=r'reading the findings failed: the process reading them ended without a result \(exit code 3\)'):
        _collect(sqlite_fleet)
    assert multiprocessing.active_children() == []

    monkeypatch.setattr(report_findings.SideReader, reader, lambda self: time.sleep(60))

    def interrupted(db):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_findings, 'Details', interrupted)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _collect(sqlite_fleet)
    assert multiprocessing.active_children() == [] and time.monotonic() - started < 30, 'the reading process was stopped, not waited for'


@pytest.mark.parametrize('recounted', [False, True])
def test_odd_finding_rows_are_counted_not_fatal(sqlite_fleet, tmp_path, recounted):
    """A row without tier or due date, and detail keys with separators and control characters in them, still count:
    written by something else than the store, the finding counts do not add up and the findings are counted
    instead; counted again (as the schema migration does), the counts give the same figures."""
    path = str(tmp_path / 'odd.db')
    with sqlite3.connect(sqlite_fleet) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    with _collect(path) as report:
        before = report.document['findings_summary']
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO findings (host, finding_id, package, kind, status, tier, due, first_seen, closed, detail_key, extra) "
                       "VALUES ('web01', ?, 'odd', 'os', 'open', ?, ?, '2026-11-01T00:00:00Z', NULL, ?, NULL)",
                       [('CVE-2099-9001', None, None, 'CVE-2099-9001|odd|with\x1fseparators'),
                        ('CVE-2099-9002', 'high', '2026-01-01', 'CVE-2099-9002|1\x1f2|3')])
        if recounted:
            for statement in statements(RECOUNT_FINDINGS):
                db.execute(statement)
    with _collect(path) as report:
        assert counts_agree(report._db) is recounted
        after = report.document['findings_summary']
        findings = {row['id']: row for row in report.document['findings']}
    assert after['open'] == before['open'] + 2 and after['overdue'] == before['overdue'] + 1
    assert after['by_tier']['low'] == before['by_tier']['low'] + 1 and after['by_tier']['high'] == before['by_tier']['high'] + 1
    assert (findings['CVE-2099-9001']['hosts_open'], findings['CVE-2099-9001']['hosts_overdue']) == (1, 0)
    assert (findings['CVE-2099-9002']['hosts_open'], findings['CVE-2099-9002']['hosts_overdue']) == (1, 1)


def _counted_and_read(path, monkeypatch, **options):
    """The document and tables of the report made from the finding counts, then from the findings themselves."""
    with _collect(path, **options) as report:
        assert counts_agree(report._db), 'the store kept the counts'
        counted = report.document, _tables(report)
    with monkeypatch.context() as patch:
        patch.setattr(report_findings, 'counts_agree', lambda db: False)
        with _collect(path, **options) as report:
            read = report.document, _tables(report)
    return counted, read


def test_the_counts_give_the_report_the_findings_give(fleet_db, monkeypatch):
    counted, read = _counted_and_read(fleet_db, monkeypatch)
    assert counted == read


@pytest.mark.parametrize('seed', range(4))
def test_the_counts_give_the_report_the_findings_give_on_random_fleets(tmp_path, monkeypatch, seed):
    """Findings opened, decided again, fixed and reopened over passes, with and without tier, due date or shared
    detail; the report judged on several days (on due dates too): the same document and tables either way."""
    path = random_findings.random_fleet(str(tmp_path / 'assets.db'), random.Random(seed))
    for now in ('2026-11-09T12:00:00Z', '2026-11-10T12:00:00Z', '2026-12-01T12:00:00Z', '2026-12-20T12:00:00Z'):
        counted, read = _counted_and_read(path, monkeypatch, now=now)
        assert counted == read, now
    # On the last day every due date has passed: the overdue figures are compared too, not only empty ones.
    assert counted[0]['findings_summary']['overdue'] > 0 and counted[1]['overdue'] and counted[0]['trend']

"""report_csv: one complete file per table, documented columns, no formulas from the fleet's text."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import report_csv
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_csv import COLUMNS, TABLES, rows, write_table
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import collect
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_findings import overdue_rows
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils import report_fleet


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    path = report_fleet.build(str(tmp_path_factory.mktemp('fleet') / 'assets.db'))
    with collect(path, now=report_fleet.NOW, policy=load_policy(report_fleet.POLICY)) as made:
        yield made


def _read(report, table):
    handle = io.StringIO(newline='')
    write_table(report, table, handle)
    return list(csv.DictReader(io.StringIO(handle.getvalue(), newline='')))


def test_every_table_has_its_documented_header(report):
    for table in TABLES:
        handle = io.StringIO(newline='')
        write_table(report, table, handle)
        assert handle.getvalue().split('\r\n', 1)[0].split(',') == list(COLUMNS[table])
        for row in rows(report, table):
            assert len(list(row)) == len(COLUMNS[table]), table


def test_tables_hold_the_figures(report):
    hosts = {row['host']: row for row in _read(report, 'hosts')}
    assert sorted(hosts) == ['app01', 'db01', 'old01', 'web01']
    assert (hosts['web01']['compliant'], hosts['web01']['overdue'], hosts['web01']['critical'], hosts['web01']['installed']) == ('false', '2', '1', '1')
    assert hosts['old01']['compliant'] == '' and hosts['old01']['stale'] == 'true'
    overdue = _read(report, 'overdue')
    assert sorted((row['host'], row['id'], row['kev'], row['days_late']) for row in overdue) == [
        ('web01', 'CVE-2099-0001', 'false', '13'), ('web01', 'CVE-2099-0002', 'true', '24')]
    exceptions = _read(report, 'exceptions')
    assert {(row['host'], row['type'], row['expires']) for row in exceptions} == {('db01', 'accepted', '2026-12-05'), ('app01', 'held', '2026-12-31')}
    changes = _read(report, 'changes')
    assert ('web01', 'upgraded', 'openssl', '3.0.14-1~deb12u1', '3.0.15-1~deb12u1') in {
        (row['host'], row['change'], row['name'], row['from'], row['to']) for row in changes}
    assert ('db01', 'outcome', 'refused', 'window closed') in {(row['host'], row['change'], row['name'], row['to']) for row in changes}
    assert ('web01', 'restarted', 'ssh.service') in {(row['host'], row['change'], row['name']) for row in changes}
    findings = {(row['id'], row['package']): row for row in _read(report, 'findings')}
    assert findings[('CVE-2099-0001', 'openssl')]['hosts_open'] == '2'


def test_text_that_a_spreadsheet_would_run_is_quoted(report):
    document = dict(report.document, hosts=[dict(host, owner='=HYPERLINK("http://evil")') for host in report.document['hosts']])

    class Copy:
        pass

    copy = Copy()
    copy.document = document
    handle = io.StringIO(newline='')
    write_table(copy, 'hosts', handle)
    assert '"\'=HYPERLINK(""http://evil"")"' in handle.getvalue()
    assert ',=HYPERLINK' not in handle.getvalue()


# Overdue findings as the database gives them (host, id, package, kind, tier, due, first seen, detail key), with
# what the report knows of their details (due class, KEV): text from the fleet a spreadsheet would run or a CSV
# reader would split, a carriage return, no detail, no tier.
_AWKWARD_FINDINGS = [
    ('web01', 'CVE-2099-0001', 'openssl', 'os', 'critical', '2026-11-01', '2026-10-01T02:00:00Z', 'd1'),
    ('=cmd|"/c calc"!A1', 'CVE-2099-0001', 'openssl', 'os', 'critical', '2026-11-01', '2026-10-01T02:00:00Z', 'd1'),
    ('db,01', 'GHSA-xxxx, "quoted"', 'pkg\nname', 'app', None, '2026-11-27', '', None),
    ('-db02', '', '@sum', '+1', '\tindent', '2026-12-01', None, 'd3'),
    ('hôte-été', 'CVE-2099-0002', 'libü', 'os', 'low', '2025-01-01', '2024-12-01T02:00:00Z', 'd4'),
    ('web01', 'CVE-2099-0001', 'openssl', 'os', 'critical', '2026-11-01', '2026-10-01T02:00:00Z', 'd1'),
]
_MARKS = {'d1': ('3D', True), 'd3': ('c\rr', False), 'd4': ('FSU', False)}
_TODAY = datetime.date(2026, 11, 28)


@pytest.mark.parametrize('cache_limit', [200000, 2])
def test_the_overdue_table_is_written_as_csv_writes_it(monkeypatch, cache_limit):
    """The overdue table's cached cell texts give the bytes csv.writer gives for the table's rows, quoting and
    formula guard included."""
    monkeypatch.setattr(report_csv, '_CACHE_LIMIT', cache_limit)
    monkeypatch.setattr(report_csv, '_CHUNK', 4)

    class Report:
        document = None
        today = _TODAY

        @staticmethod
        def overdue_findings():
            return iter(_AWKWARD_FINDINGS)

        @staticmethod
        def detail_marks():
            return dict(_MARKS)

    handle = io.StringIO(newline='')
    write_table(Report(), 'overdue', handle)
    expected = io.StringIO(newline='')
    writer = csv.writer(expected, lineterminator='\r\n')
    writer.writerow(COLUMNS['overdue'])
    writer.writerows(report_csv._cells(row) for row in overdue_rows(_AWKWARD_FINDINGS, _MARKS, _TODAY))
    assert handle.getvalue() == expected.getvalue()
    read = list(csv.reader(io.StringIO(handle.getvalue(), newline='')))[1:]
    assert read[2][:3] == ['db,01', 'GHSA-xxxx, "quoted"', 'pkg\nname'] and read[1][0] == '\'=cmd|"/c calc"!A1'
    assert read[3][:2] == ["'-db02", ''] and read[3][5:] == ['c\rr', 'false', '2026-12-01', '-3', ''], 'a carriage return is quoted'
    assert read[2][4:9] == ['', '', 'false', '2026-11-27', '1'] and read[4][8] == '696', 'no tier, no detail; days late'

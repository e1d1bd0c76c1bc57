# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's CSV files: one per table (hosts, findings, overdue, exceptions, changes), complete and unpaged.

The columns are documented in docs/report.md; a column is only ever added at the end.  A text cell a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is
written with a leading apostrophe: host names, reasons and owners come from the fleet and its policy.
Lines end with CR LF (RFC 4180): ``csv`` then quotes a cell holding either, where with LF alone a carriage
return inside a reason would be left bare and a reader would start a new row there, unguarded.
"""

from __future__ import annotations

import csv
import io

from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_states import STATES
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import TIERS
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_findings import days_late

TABLES = ('hosts', 'findings', 'overdue', 'exceptions', 'changes')

COLUMNS = {
    'hosts': ('host', 'environment', 'patch_group', 'owner', 'criticality', 'exposure', 'os', 'ecosystem', 'tier', 'compliant', 'open',
              *TIERS, 'accepted', 'held_findings', 'overdue', 'oldest_overdue_due', 'due', 'stale', 'first_seen', 'last_seen', 'assessed_at',
              *STATES, 'last_status', 'last_operation', 'last_operation_end', 'run_id', 'policy_fingerprint', 'reboot_required'),
    'findings': ('id', 'package', 'kind', 'ecosystem', 'tier', 'due_class', 'kev', 'kev_due', 'cvss', 'epss', 'fixed', 'hosts_open',
                 'hosts_overdue', 'hosts_accepted'),
    'overdue': ('host', 'id', 'package', 'kind', 'tier', 'due_class', 'kev', 'due', 'days_late', 'first_seen'),
    'exceptions': ('host', 'id', 'package', 'type', 'owner', 'reason', 'expires', 'tier', 'due'),
    'changes': ('host', 'run_id', 'at', 'status', 'change', 'name', 'from', 'to'),
}

_FORMULA_STARTS = frozenset('=+-@\t\r')
_LINE_END = '\r\n'
_BOOLEANS = {True: 'true', False: 'false'}


def _cells(row):
    """The row's cells as written: booleans as true/false, a formula-like text behind an apostrophe.

    Inline rather than a call per cell: the overdue table of a large fleet has millions of rows.
    """
    return [("'" + value if value[:1] in _FORMULA_STARTS else value) if value.__class__ is str
            else _BOOLEANS[value] if value.__class__ is bool else value for value in row]


def _host_rows(document):
    for host in document['hosts']:
        yield [host['host'], host['environment'], host['patch_group'], host['owner'], host['criticality'], host['exposure'], host['os'],
               host['ecosystem'], host['tier'], host['compliant'], host['open'], *(host['open_by_tier'][tier] for tier in TIERS),
               host['accepted'], host['held_findings'], host['overdue'], host['oldest_overdue_due'], host['due'], host['stale'],
               host['first_seen'], host['last_seen'], host['assessed_at'], *(host['states'][state] for state in STATES), host['last_status'],
               host['last_operation'], host['last_operation_end'], host['run_id'], host['policy_fingerprint'], host['reboot_required']]


def _finding_rows(document):
    for finding in document['findings']:
        yield [finding[column] for column in COLUMNS['findings']]


def _change_rows(document):
    for host in document['changes']['hosts']:
        head = [host['host'], host['run_id'], host['at'], host['status']]
        if host['status']:
            yield [*head, 'outcome', host['status'], None, host['reason']]
        for package in host['packages']:
            yield [*head, package['change'], package['name'], package['from'], package['to']]
        for app in host['applications']:
            yield [*head, 'application_rolled_back' if app['rolled_back'] else 'application', app['name'], app['from'], app['to']]
        for unit in host['restarted']:
            yield [*head, 'restarted', unit, None, None]
        if host['reboot']:
            yield [*head, 'rebooted', None, None, None]
        if host['rolled_back']:
            yield [*head, 'rolled_back', None, None, None]
        if host['incident']:
            incident = host['incident']
            yield [*head, 'incident', incident.get('id') if isinstance(incident, dict) else str(incident), None, None]


def rows(report, table):
    """The rows of ``table`` (one of TABLES), without the header."""
    if table == 'hosts':
        return _host_rows(report.document)
    if table == 'findings':
        return _finding_rows(report.document)
    if table == 'overdue':
        return report.overdue_rows()
    if table == 'exceptions':
        return report.exception_rows()
    if table == 'changes':
        return _change_rows(report.document)
    raise ValueError('unknown report table %r' % table)


def _cell_text(value):
    """One cell as ``csv.writer`` writes it among others (quoted when it must be, a formula behind an apostrophe)."""
    buffer = io.StringIO(newline='')
    # A second cell: alone, an empty cell would be written as "" (csv's mark of a row of one empty field).
    csv.writer(buffer, lineterminator=_LINE_END).writerow(_cells((value, None)))
    return buffer.getvalue()[:-len(',' + _LINE_END)]


# Past this many distinct values a cache of cell texts starts again: a fleet of mostly unique findings keeps its memory.
_CACHE_LIMIT = 200000
# Overdue lines written at a time: one write per line costs more than making the line.
_CHUNK = 4096


def _overdue_lines(findings, marks, today):
    """The overdue table's lines, in chunks, from ``Report.overdue_findings`` rows and ``Report.detail_marks``.

    Millions of rows repeat a few thousand findings, hosts and dates: each part of a line (the host; the finding's
    six cells, id to KEV flag; the due date with the days late; the first-seen time) is made once per distinct value
    and looked up after, instead of csv quoting every cell of every row.  The text is the one ``csv.writer`` writes
    for ``report_data.overdue_rows``.
    """
    hosts, findings_text, dues, dates = {}, {}, {}, {}
    unknown = (None, False)
    lines = []
    for host, fid, package, kind, tier, due, first_seen, key in findings:
        host_text = hosts.get(host)
        if host_text is None:
            if len(hosts) >= _CACHE_LIMIT:
                hosts.clear()
            host_text = hosts[host] = _cell_text(host)
        finding = (fid, package, kind, tier, key)
        finding_text = findings_text.get(finding)
        if finding_text is None:
            if len(findings_text) >= _CACHE_LIMIT:
                findings_text.clear()
            due_class, kev = marks.get(key, unknown)
            finding_text = findings_text[finding] = ','.join(map(_cell_text, (fid, package, kind, tier, due_class, kev)))
        due_text = dues.get(due)
        if due_text is None:
            if len(dues) >= _CACHE_LIMIT:
                dues.clear()
            due_text = dues[due] = _cell_text(due) + ',' + _cell_text(days_late(due, today))
        seen_text = dates.get(first_seen)
        if seen_text is None:
            if len(dates) >= _CACHE_LIMIT:
                dates.clear()
            seen_text = dates[first_seen] = _cell_text(first_seen)
        lines.append('%s,%s,%s,%s\r\n' % (host_text, finding_text, due_text, seen_text))
        if len(lines) >= _CHUNK:
            yield ''.join(lines)
            lines.clear()
    if lines:
        yield ''.join(lines)


def write_table(report, table, handle):
    """Write ``table`` as CSV (header first) to the text ``handle`` (opened with ``newline=''``)."""
    writer = csv.writer(handle, lineterminator=_LINE_END)
    writer.writerow(COLUMNS[table])
    if table == 'overdue':
        handle.writelines(_overdue_lines(report.overdue_findings(), report.detail_marks(), report.today))
        return
    writer.writerows(map(_cells, rows(report, table)))

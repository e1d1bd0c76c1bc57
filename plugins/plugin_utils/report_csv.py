# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's CSV files: one per table (hosts, findings, overdue, exceptions, changes), complete and unpaged.

The columns are documented in docs/report.md; a column is only ever added at the end.  A text cell a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is
written with a leading apostrophe: host names, reasons and owners come from the fleet and its policy.
"""

from __future__ import annotations

import csv

from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_states import STATES
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import TIERS

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


def write_table(report, table, handle):
    """Write ``table`` as CSV (header first) to the text ``handle`` (opened with ``newline=''``)."""
    writer = csv.writer(handle, lineterminator='\n')
    writer.writerow(COLUMNS[table])
    writer.writerows(map(_cells, rows(report, table)))

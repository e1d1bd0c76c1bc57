# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The figures of the compliance report, read from the asset database, the policy and the audit log.

``collect`` returns one JSON-ready document (``SCHEMA``; docs/report.md) that the HTML and CSV
writers render; the per-(host, finding) tables too large for it (overdue findings, exceptions)
are streamed from the database by ``Report.overdue_rows`` and ``Report.exception_rows`` when a
writer asks for them.

A fleet of 10,000 hosts has about ten million finding rows: ``report_findings`` reads them the cheapest way
(the finding counts the risk pass keeps, or two passes at once over the findings).  Everything else (hosts,
register, risk results, plans, outcomes, history) is small.

The asset database may also be a PostgreSQL database (a ``postgresql://`` URL, read through
``report_db.ReportDatabase``): the same SQL with the few dialect differences filled in, the host filter
passed as an array instead of a temporary table (a read-only transaction may not create one), and the
per-finding passes grouped by the server, which hashes instead of sorting.  The document and the CSV rows
are the same for the same data: every order the report shows is made explicit (byte order for text, as
SQLite compares it).
"""

from __future__ import annotations

import collections
import datetime
import fnmatch
import hashlib
import json
import sqlite3

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import ConnectionProblem
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import verify_lines
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_states import STATES
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_db import ReportError, connect, iso_date, json_or, open_database
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_findings import ACCEPTED, PAST_DUE, overdue_rows, read_findings

SCHEMA = 1
TIERS = ('critical', 'high', 'medium', 'low')
HOST_TIERS = (*TIERS, 'none')
DUE_CLASSES = ('3DF', '3D', '14D', '60D', 'FSU')
FORMATS = ('html', 'json', 'csv')
# Exceptions expiring within this many days are flagged and listed first.
EXPIRING_DAYS = 14


def _percentile(histogram, fraction):
    """The ``fraction`` percentile (nearest rank) of ``{value: count}``; None when empty."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, -(-int(fraction * total * 1000) // 1000))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None


def _trend_points(db, runs):
    """The last ``runs`` assess runs: ``[{run_id, at}]``, oldest first."""
    rows = db.execute("SELECT run_id, max(at{c}) FROM runs WHERE stage = 'assess' GROUP BY run_id ORDER BY max(at{c}) DESC, run_id{c} DESC "
                      'LIMIT ?', (runs,)).fetchall()
    return [{'run_id': run_id or None, 'at': at} for run_id, at in reversed(rows)]


# Status and past-due flag of a finding row in one small integer: the counter's keys stay small tuples.
def _tier(value):
    return value if value in TIERS else 'low'


def _finding_figures(counter, sql_side, details, points):
    """Fleet figures: open by tier and due class, KEV, applications, the per-finding table, time to remediate and the trend."""
    by_tier_class = {tier: dict.fromkeys((*DUE_CLASSES, 'other'), 0) for tier in TIERS}
    totals = dict.fromkeys(('open', 'accepted', 'overdue', 'kev_open', 'kev_overdue', 'app_open'), 0)
    per_finding = {}
    # The detail a finding's row shows (its installed and fixed versions...) when hosts have several: the least
    # detail key, whatever order the database returned the rows in.
    shown = {}
    for (key, row_tier, flags), count in counter.items():
        detail = details.get(key)
        tier = _tier(row_tier)
        ident = (detail['id'] or key.split('|', 1)[0], detail['package'] or '')
        row = per_finding.get(ident)
        if row is None:
            row = per_finding[ident] = dict(detail, id=ident[0], package=ident[1], tier=tier, hosts_open=0, hosts_overdue=0, hosts_accepted=0)
            shown[ident] = key
        else:
            if TIERS.index(tier) < TIERS.index(row['tier']):
                row['tier'] = tier
            if key < shown[ident]:
                row.update(detail, id=ident[0], package=ident[1])
                shown[ident] = key
        if flags & ACCEPTED:
            totals['accepted'] += count
            row['hosts_accepted'] += count
            continue
        totals['open'] += count
        row['hosts_open'] += count
        by_tier_class[tier][detail['due_class'] if detail['due_class'] in DUE_CLASSES else 'other'] += count
        totals['kev_open'] += count if detail['kev'] else 0
        totals['app_open'] += count if detail['kind'] == 'app' else 0
        if flags & PAST_DUE:
            totals['overdue'] += count
            row['hosts_overdue'] += count
            totals['kev_overdue'] += count if detail['kev'] else 0
    remediation = {tier: collections.Counter() for tier in TIERS}
    fixed_spans = {tier: [] for tier in TIERS}
    opened = {tier: collections.Counter() for tier in TIERS}
    for (tier, first_seen), count in sql_side.opened.items():
        opened[_tier(tier)][first_seen] += count
    for tier, first_seen, closed, count in sql_side.fixed:
        if closed:
            remediation[_tier(tier)][max(0, (iso_date(closed) - iso_date(first_seen)).days)] += count
            fixed_spans[_tier(tier)].append((first_seen, closed, count))
    trend = []
    for point in points:
        at = point['at']
        trend.append(dict(point, open={tier: sum(n for seen, n in opened[tier].items() if seen <= at)
                                       + sum(n for seen, gone, n in fixed_spans[tier] if seen <= at < gone) for tier in TIERS}))
    ttr = {tier: {'closed': sum(remediation[tier].values()), 'median_days': _percentile(remediation[tier], 0.5),
                  'p90_days': _percentile(remediation[tier], 0.9)} for tier in TIERS}
    findings = sorted(per_finding.values(), key=lambda row: (-row['hosts_overdue'], -row['kev'], -row['hosts_open'], row['id'], row['package']))
    figures = dict(totals, by_tier_and_due_class=by_tier_class,
                   by_due_class={name: sum(by_tier_class[tier][name] for tier in TIERS) for name in (*DUE_CLASSES, 'other')},
                   by_tier={tier: sum(by_tier_class[tier].values()) for tier in TIERS})
    return figures, findings, ttr, trend


def _trend_compliance(trend, rows, sql_side):
    """Hosts compliant at each trend point: none of their findings open then (not accepted) was past due then.

    A finding open now was open at a point when its due date is before it; a fixed one when it was also closed
    after it.  (A finding is never due before it is first seen, except a KEV due date already past then.)
    """
    assessed = {row['host'] for row in rows if row['assessed_at']}
    fixed = collections.defaultdict(list)
    for host, closed, earliest in sql_side.fixed_by_host:
        fixed[host].append((closed, earliest))
    for point in trend:
        at, day = point['at'], point['at'][:10]
        known = [row['host'] for row in rows if row['first_seen'] <= at]
        point['hosts'] = len(known)
        point['hosts_compliant'] = sum(
            1 for host in known
            if host in assessed and not ((sql_side.overdue.get(host) or (0, None))[1] or '9999') < day
            and not any(closed > at and earliest < day for closed, earliest in fixed.get(host, ())))


def _outcomes(db, hosts):
    """``{host: {kind: (run_id, at, status, detail)}}``: the latest patch outcome per host and kind."""
    latest = {}
    # In host and kind order, whatever the database's: a host's latest outcome of two at the same time is the same one.
    for host, kind, run_id, at, status, detail in sorted(db.execute(
            'SELECT o.host, o.kind, o.run_id, o.at, o.status, o.detail FROM patch_outcomes o '
            'JOIN (SELECT max(id) AS id FROM patch_outcomes GROUP BY host, kind) m ON m.id = o.id'), key=lambda row: (row[0], row[1])):
        if hosts is None or host in hosts:
            latest.setdefault(host, {})[kind] = (run_id, at, status, json_or(detail, {}))
    return latest


def _state_counts(outcomes):
    counts = dict.fromkeys(STATES, 0)
    for _run_id, _at, _status, detail in outcomes.values():
        for state in STATES:
            value = (detail.get('counts') or {}).get(state)
            counts[state] += value if isinstance(value, int) and not isinstance(value, bool) else 0
    return counts


def _host_rows(db, hosts, now, stale_after_days, *, past_due, outcomes):
    rows = []
    stale_before = (now - datetime.timedelta(days=stale_after_days)).strftime('%Y-%m-%dT%H:%M:%SZ') if stale_after_days else None
    for name, first_seen, last_seen, summary_text, tier, due, assessed_at, result_text, entry_text in db.execute(
            'SELECT h.name, h.first_seen, h.last_seen, h.summary, r.tier, r.due, r.assessed_at, r.result, g.entry FROM hosts h '
            'LEFT JOIN risk_results r ON r.host = h.name LEFT JOIN register g ON g.host = h.name ORDER BY h.name{c}'):
        if hosts is not None and name not in hosts:
            continue
        summary, result, entry = json_or(summary_text, {}), json_or(result_text, {}), json_or(entry_text, {})
        os_info = summary.get('os') or {}
        counts = result.get('counts') or {}
        overdue, oldest = past_due.get(name, (0, None))
        host_outcomes = outcomes.get(name, {})
        latest = max(host_outcomes.values(), key=lambda item: item[1], default=None)
        latest_detail = latest[3] if latest else {}
        assessed = assessed_at is not None
        rows.append({
            'host': name, 'environment': entry.get('environment'), 'patch_group': entry.get('patch_group'), 'owner': entry.get('owner'),
            'criticality': entry.get('criticality'), 'exposure': entry.get('exposure'),
            'os': ' '.join(str(part) for part in (os_info.get('distribution') or os_info.get('family'), os_info.get('version')) if part) or None,
            'ecosystem': os_info.get('ecosystem'), 'first_seen': first_seen, 'last_seen': last_seen,
            'stale': bool(stale_before and last_seen < stale_before), 'assessed_at': assessed_at,
            'tier': tier if assessed else None, 'due': due,
            'open': counts.get('open', 0), 'accepted': counts.get('accepted', 0), 'held_findings': counts.get('held', 0),
            'open_by_tier': {name_: counts.get(name_, 0) for name_ in TIERS},
            'overdue': overdue or 0, 'oldest_overdue_due': oldest,
            'compliant': (not overdue) if assessed else None,
            'states': _state_counts(host_outcomes),
            'last_status': latest[2] if latest else None, 'last_operation': latest_detail.get('operation'),
            'last_operation_end': latest_detail.get('operation_end') or (latest[1] if latest else None),
            'run_id': latest[0] if latest else None, 'policy_fingerprint': latest_detail.get('policy_fingerprint'),
            'reboot_required': bool(summary.get('reboot_required')),
            'applications': [app.get('name') for app in summary.get('applications') or [] if isinstance(app, dict)],
        })
    return rows


def _compliance(rows, field):
    """``[{name, hosts, compliant, non_compliant, not_assessed, percent}]`` of the host rows grouped by ``field`` (None: the fleet)."""
    groups = collections.OrderedDict()
    for row in rows:
        name = 'fleet' if field is None else (row.get(field) or ('not assessed' if field == 'tier' else 'unknown'))
        group = groups.setdefault(name, {'name': name, 'hosts': 0, 'compliant': 0, 'non_compliant': 0, 'not_assessed': 0})
        group['hosts'] += 1
        group['compliant' if row['compliant'] else 'not_assessed' if row['compliant'] is None else 'non_compliant'] += 1
    for group in groups.values():
        assessed = group['compliant'] + group['non_compliant']
        group['percent'] = round(100.0 * group['compliant'] / assessed, 1) if assessed else None
    order = HOST_TIERS if field == 'tier' else None
    if order:
        return [groups[name] for name in order if name in groups] + [group for name, group in groups.items() if name not in order]
    return sorted(groups.values(), key=lambda group: (-group['hosts'], group['name']))


def _change_window(db, since, until):
    """``(since, until, run_id)`` of the changes section: the range given, else the last run that patched."""
    if since or until:
        return since, until, None
    row = db.execute("SELECT run_id FROM history WHERE kind IN ('patch_system', 'patch_app') ORDER BY id DESC LIMIT 1").fetchone()
    return None, None, row[0] if row else None


def _changes(db, hosts, since, until, run_id):
    """Per host: package versions old -> new, restarts, reboots, rollbacks, incidents, application switches."""
    clauses, params = ["kind IN ('packages', 'patch_system', 'patch_app')"], []
    if run_id is not None:
        clauses.append('run_id = ?')
        params.append(run_id)
    if since:
        clauses.append('at >= ?')
        params.append(since)
    if until:
        clauses.append('at <= ?')
        params.append(until)
    if run_id is None and not since and not until:
        return []
    per_host = collections.OrderedDict()
    query = 'SELECT host, at, run_id, kind, detail FROM history WHERE %s ORDER BY host{c}, id' % ' AND '.join(clauses)  # noqa: S608 - fixed clauses
    for host, at, entry_run, kind, detail_text in db.execute(query, params):
        if hosts is not None and host not in hosts:
            continue
        detail = json_or(detail_text, {})
        change = per_host.setdefault(host, {'host': host, 'run_id': entry_run, 'at': at, 'packages': [], 'restarted': [], 'reboot': False,
                                            'rolled_back': False, 'incident': None, 'status': None, 'reason': None, 'applications': []})
        change['at'] = max(change['at'], at)
        if kind == 'packages':
            for change_kind in ('upgraded', 'downgraded', 'added', 'removed'):
                for package in detail.get(change_kind) or []:
                    change['packages'].append({'name': package.get('name'), 'change': change_kind,
                                               'from': package.get('from') if change_kind in ('upgraded', 'downgraded') else
                                               package.get('version') if change_kind == 'removed' else None,
                                               'to': package.get('to') if change_kind in ('upgraded', 'downgraded') else
                                               package.get('version') if change_kind == 'added' else None})
        elif kind == 'patch_system':
            change['status'] = detail.get('status')
            change['restarted'].extend(name for name in detail.get('restarted') or [] if isinstance(name, str))
            reboot = detail.get('reboot') or {}
            change['reboot'] = change['reboot'] or bool(reboot.get('performed'))
            change['rolled_back'] = change['rolled_back'] or detail.get('status') == 'rolled_back' or bool((detail.get('rollback') or {}).get('performed'))
            if detail.get('incident'):
                change['incident'] = detail['incident']
            if detail.get('reason'):
                change['reason'] = detail['reason']
        else:
            for app in detail.get('applications') or []:
                change['applications'].append({'name': app.get('name'), 'from': app.get('previous'), 'to': app.get('current'),
                                               'health': app.get('health'), 'rolled_back': bool(app.get('rolled_back'))})
                change['rolled_back'] = change['rolled_back'] or bool(app.get('rolled_back'))
    return list(per_host.values())


def _exception_entries(status, extra):
    """``(type, owner, reason, expires)`` of each acceptance or hold an open finding's ``extra`` holds."""
    acceptance, hold = extra.get('acceptance') or {}, extra.get('hold') or {}
    if status == 'accepted' and acceptance:
        yield 'accepted', acceptance.get('owner'), acceptance.get('reason'), acceptance.get('expires')
    if hold:
        yield 'held', None, hold.get('reason'), hold.get('until')


def _stored_exceptions(grouped):
    """``Counter((type, owner, reason, expires))`` from ``(status, extra, count)`` rows."""
    counted = collections.Counter()
    for status, extra, count in grouped:
        for entry in _exception_entries(status, json_or(extra, {})):
            counted[entry] += count
    return counted


def _policy_exceptions(policy, today):
    """Acceptances and holds of the policy, expiring soonest first, each flagged when it expires within EXPIRING_DAYS."""
    entries = []
    for kind, expiry_key in (('acceptance', 'expires'), ('hold', 'until')):
        for entry in policy.get('acceptances' if kind == 'acceptance' else 'holds') or []:
            expires = entry.get(expiry_key)
            expires = expires.isoformat() if hasattr(expires, 'isoformat') else expires
            days_left = (iso_date(expires) - today).days if expires else None
            entries.append({'type': kind, 'finding': entry.get('finding'), 'package': entry.get('package'), 'host': entry.get('host'),
                            'owner': entry.get('owner'), 'reason': entry.get('reason'), 'expires': expires, 'days_left': days_left,
                            'expiring_soon': days_left is not None and days_left <= EXPIRING_DAYS})
    return sorted(entries, key=lambda entry: (entry['expires'] is None, entry['expires'] or '', entry['type']))


def _applications(rows, findings):
    """Applications apart from the operating system: hosts running each, and its open app findings."""
    apps = {}
    for row in rows:
        for name in row['applications']:
            apps.setdefault(name, {'name': name, 'hosts': 0, 'open': 0, 'overdue': 0, 'kev': 0})['hosts'] += 1
    for finding in findings:
        if finding['kind'] != 'app':
            continue
        app = apps.setdefault(finding['package'], {'name': finding['package'], 'hosts': 0, 'open': 0, 'overdue': 0, 'kev': 0})
        app['open'] += finding['hosts_open']
        app['overdue'] += finding['hosts_overdue']
        app['kev'] += finding['hosts_open'] if finding['kev'] else 0
    return sorted(apps.values(), key=lambda app: (-app['overdue'], -app['open'], app['name']))


def audit_status(path, key=None, expected_head=None):
    """The audit log's verification (``audit_chain.verify_lines``) and whether its head is anchored off-host."""
    if not path:
        return {'checked': False, 'path': None, 'valid': None, 'anchored': False, 'records': 0, 'first_bad_line': None, 'reason': 'no audit log given'}
    try:
        with open(path, encoding='utf-8') as handle:
            outcome = verify_lines(handle, key, expected_head)
    except FileNotFoundError:
        return {'checked': False, 'path': path, 'valid': None, 'anchored': False, 'records': 0, 'first_bad_line': None,
                'reason': 'the audit log does not exist'}
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError('cannot read the audit log %s: %s' % (path, exc)) from exc
    except ValueError as exc:
        raise ReportError('audit log %s: %s' % (path, exc)) from exc
    return {'checked': True, 'path': path, 'valid': outcome['valid'], 'anchored': bool(expected_head) and outcome['valid'],
            'records': outcome['records'], 'head': outcome['head'], 'first_bad_line': outcome['first_bad_line'],
            'reason': outcome['reason'], 'breaks': len(outcome['breaks'])}


class Report:
    """One report: ``document`` (the JSON figures) and the row streams of the large tables."""

    def __init__(self, path, db, details, today, *, location=None, hosts=None):
        self.path = path
        self.document = None
        self.today = today
        self._db = db
        self._details = details
        self._location, self._hosts = location, hosts

    def reconnect(self):
        """Read on a connection of this process's own (returns its exception classes): a process forked to write a table calls it first.

        The connection inherited from the parent is left alone, neither used nor closed: it is the parent's.
        """
        try:
            self._db = connect(self._location)
            self._db.select_hosts(self._hosts)
        except (ConnectionProblem, sqlite3.DatabaseError) as exc:
            raise ReportError('%s: reading the asset database failed: %s' % (self.path, str(exc).strip())) from exc
        return self._db.errors

    def close(self):
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def overdue_findings(self):
        """Every open finding past its due date, as stored: ``(host, id, package, kind, tier, due, first_seen, detail_key)``."""
        return self._db.stream(
            "SELECT host, finding_id, package, kind, tier, due, first_seen, detail_key FROM findings NOT INDEXED WHERE status = 'open' "
            'AND due < ?{hosts}', (self.today.isoformat(),))

    def detail_marks(self):
        """``{detail_key: (due_class, kev)}``: what an overdue finding's row shows of its shared detail."""
        return {key: (detail['due_class'], detail['kev']) for key, detail in self._details.by_key.items()}

    def overdue_rows(self):
        """Every open finding past its due date: ``(host, id, package, kind, tier, due_class, kev, due, days_late, first_seen)``."""
        return overdue_rows(self.overdue_findings(), self.detail_marks(), self.today)

    def top_overdue(self, limit):
        """The ``limit`` most urgent overdue findings: KEV first, then the longest overdue."""
        kev_keys = [key for key, detail in self._details.by_key.items() if detail['kev']]
        today = self.today
        picked = []
        if self._db.dialect == 'sqlite':
            self._db.execute('CREATE TEMP TABLE IF NOT EXISTS report_kev (detail_key TEXT PRIMARY KEY)')
            self._db.execute('DELETE FROM temp.report_kev')
            self._db.executemany('INSERT OR IGNORE INTO temp.report_kev (detail_key) VALUES (?)', [(key,) for key in kev_keys])
            rows = self._db.execute(
                "SELECT host, finding_id, package, kind, tier, due, first_seen, detail_key FROM findings NOT INDEXED WHERE status = 'open' "
                'AND due < ?{hosts} ORDER BY detail_key IN (SELECT detail_key FROM temp.report_kev) DESC, due, host, finding_id LIMIT ?',
                (today.isoformat(), limit))
        else:
            # A read-only transaction creates no table: the KEV keys are an array.  NULLS LAST: a finding without a
            # detail key sorts after the others, as SQLite's NULL does.
            rows = self._db.execute(
                "SELECT host, finding_id, package, kind, tier, due, first_seen, detail_key FROM findings WHERE status = 'open' "
                'AND due < ?{hosts} ORDER BY (detail_key = ANY(?)) DESC NULLS LAST, due{c}, host{c}, finding_id{c} LIMIT ?',
                (today.isoformat(), kev_keys, limit))
        for host, fid, package, kind, tier, due, first_seen, key in rows:
            detail = self._details.get(key)
            picked.append({'host': host, 'id': fid, 'package': package, 'kind': kind, 'tier': tier, 'due_class': detail['due_class'],
                           'kev': detail['kev'], 'due': due, 'days_late': (today - iso_date(due)).days, 'first_seen': first_seen,
                           'installed': detail['installed'], 'fixed': detail['fixed']})
        return picked

    def exception_rows(self):
        """Every open finding accepted or held: ``(host, id, package, type, owner, reason, expires, tier, due)``."""
        for host, fid, package, status, tier, due, extra_text in self._db.stream(
                "SELECT host, finding_id, package, status, tier, due, extra FROM findings NOT INDEXED WHERE extra IS NOT NULL "
                "AND status != 'fixed'{hosts}"):
            for kind, owner, reason, expires in _exception_entries(status, json_or(extra_text, {})):
                yield host, fid, package, kind, owner, reason, expires, tier, due


def _resolve_hosts(db, hosts, patterns):
    """The set of stored hosts to report on (None: all): ``hosts`` and those matching a shell-style pattern of ``patterns``.

    Refuses a filter that selects none of the stored hosts.
    """
    stored = [name for (name,) in db.execute('SELECT name FROM hosts ORDER BY name')]
    if not stored:
        raise ReportError('the asset database has no hosts: run the discover playbook first; no report was written')
    if hosts is None and not patterns:
        return None
    selected = set(hosts or ()) & set(stored)
    for pattern in patterns or ():
        selected.update(fnmatch.filter(stored, pattern))
    if not selected:
        raise ReportError('the host filter (%s) selects none of the %d hosts in the asset database: no report was written'
                          % (', '.join(list(patterns or ()) + (['%d inventory hosts' % len(set(hosts))] if hosts is not None else [])), len(stored)))
    return selected


def collect(path, *, policy=None, policy_fingerprint=None, audit_log=None, audit_key=None, expected_head=None, hosts=None, patterns=None,
            since=None, until=None, now=None, stale_after_days=14, trend_runs=10, top=100, filters=None, streams_ready=None):
    """Read everything the report shows; returns a ``Report`` (close it, or use it as a context manager).

    ``hosts``: the host names to report on, ``patterns``: shell-style patterns of more (neither: every stored
    host); ``since``/``until``: ISO 8601 bounds of
    the changes section (default: the last run that patched); ``now``: ISO 8601 UTC time of the report.
    ``streams_ready(report)``: called as soon as the report can stream its large tables (``overdue_findings``,
    ``exception_rows``), before its figures are read, so that a table written apart is written meanwhile.
    """
    policy = policy or {}
    now_dt = datetime.datetime.strptime(now, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc) if now else \
        datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    today = now_dt.date()
    db = open_database(path)
    try:
        try:
            selected = _resolve_hosts(db, hosts, patterns)
            db.select_hosts(selected)
            audit = audit_status(audit_log, audit_key, expected_head)
            points = _trend_points(db, trend_runs)
            made = []

            def details_read(details):
                made.append(Report(db.name, db, details, today, location=path, hosts=selected))
                if streams_ready is not None:
                    streams_ready(made[0])

            details, counter, sql_side = read_findings(db, path, selected, today.isoformat(), details_read=details_read)
            report = made[0]
            figures, findings, ttr, trend = _finding_figures(counter, sql_side, details, points)
            del counter
            outcomes = _outcomes(db, selected)
            rows = _host_rows(db, selected, now_dt, stale_after_days, past_due=sql_side.overdue, outcomes=outcomes)
            _trend_compliance(trend, rows, sql_side)
            since_at, until_at, change_run = _change_window(db, since, until)
            changes = _changes(db, selected, since_at, until_at, change_run)
            latest_run = db.execute('SELECT run_id FROM runs ORDER BY at{c} DESC, run_id{c} DESC LIMIT 1').fetchone()
            top_overdue = report.top_overdue(top)
        except db.errors as exc:
            raise ReportError('%s: reading the asset database failed: %s; no report was written' % (db.name, str(exc).strip())) from exc
        exceptions_db = _stored_exceptions(sql_side.exceptions)
        document = {
            'schema': SCHEMA,
            'generated_at': now_dt.strftime('%Y-%m-%dT%H:%M:%SZ'),
            'asset_db': db.name,
            'run_id': latest_run[0] if latest_run and latest_run[0] else None,
            'policy': {'fingerprint': policy_fingerprint, 'sla_days': policy.get('sla_days'), 'due_days': policy.get('due_days'),
                       'upgrade_horizon_days': policy.get('upgrade_horizon_days')},
            'filters': dict(filters or {}, hosts=len(selected) if selected is not None else None, since=since, until=until),
            'audit': audit,
            'fleet': {
                'hosts': len(rows), 'assessed': sum(1 for row in rows if row['assessed_at']),
                'compliant': sum(1 for row in rows if row['compliant']), 'non_compliant': sum(1 for row in rows if row['compliant'] is False),
                'stale': sum(1 for row in rows if row['stale']), 'stale_after_days': stale_after_days,
                'hosts_by_tier': {tier: sum(1 for row in rows if row['tier'] == tier) for tier in HOST_TIERS},
                'states': {state: sum(row['states'][state] for row in rows) for state in STATES},
            },
            'compliance': {'fleet': _compliance(rows, None)[0] if rows else None, 'by_tier': _compliance(rows, 'tier'),
                           'by_environment': _compliance(rows, 'environment'), 'by_patch_group': _compliance(rows, 'patch_group'),
                           'by_os': _compliance(rows, 'os')},
            'findings_summary': figures,
            'time_to_remediate': ttr,
            'trend': trend,
            'hosts': rows,
            'overdue': {'total': figures['overdue'], 'kev': figures['kev_overdue'], 'top': top_overdue},
            'findings': findings,
            'exceptions': {'policy': _policy_exceptions(policy, today),
                           'stored': [{'type': kind, 'owner': owner, 'reason': reason, 'expires': expires, 'findings': count,
                                       'expiring_soon': bool(expires) and (iso_date(expires) - today).days <= EXPIRING_DAYS}
                                      for (kind, owner, reason, expires), count in
                                      sorted(exceptions_db.items(), key=lambda item: (item[0][3] or '9999', item[0][0]))]},
            'changes': {'since': since_at, 'until': until_at, 'run_id': change_run, 'hosts': changes},
            'applications': _applications(rows, findings),
            'stale_hosts': [{'host': row['host'], 'last_seen': row['last_seen']} for row in rows if row['stale']],
        }
        document['content_digest'] = content_digest(document)
        report.document = document
        return report
    except BaseException:
        db.close()
        raise


def content_digest(document):
    """SHA-256 of what the report says about the fleet, leaving out what moves on every run without a change.

    Left out: the time of the report, when each host was last seen (discovery moves it on every run without
    counting a change, as the asset store does), and the audit log's length and head (the run that makes the
    report appends to it).  Two reports with the same digest say the same: the report task is not changed.
    """
    stable = dict(document, generated_at=None, content_digest=None,
                  hosts=[dict(host, last_seen=None) for host in document['hosts']],
                  stale_hosts=[host['host'] for host in document['stale_hosts']],
                  audit={key: value for key, value in document['audit'].items() if key not in ('records', 'head', 'breaks')})
    return hashlib.sha256(json.dumps(stable, sort_keys=True, separators=(',', ':'), default=str).encode('utf-8')).hexdigest()


def previous_digest(path):
    """The content digest recorded in an earlier report file (JSON or HTML) at ``path``; None when there is none."""
    try:
        with open(path, encoding='utf-8') as handle:
            head = handle.read(4096) if path.endswith('.html') else None
            if head is not None:
                marker = '<meta name="patchwise-report-digest" content="'
                start = head.find(marker)
                return head[start + len(marker):start + len(marker) + 64] if start >= 0 else None
            handle.seek(0)
            return (json.load(handle) or {}).get('content_digest')
    except (OSError, ValueError, AttributeError):
        return None


def write_json(report, handle):
    """The report's document as JSON."""
    json.dump(report.document, handle, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    handle.write('\n')

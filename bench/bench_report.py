"""The compliance report over a 10,000-host fleet (issue 17 targets).

Data: a SYNTHETIC asset database written straight into the store's tables (schema
from AssetStore): 10,000 hosts (Debian 11/12, Ubuntu 22.04, RHEL 9; three
environments, eight patch groups), ~1,000 open findings per host drawn from 20,000
shared finding details (every BOD 26-04 due class, 2 % in the KEV catalog, 2 % of
applications) plus ~100 fixed ones each, first seen over ten assess runs of the last
60 days, 1 % accepted and 1 % held; a patch outcome and history entries per host for
the last run; a 20,000-record audit log.  Generated, not real.

Figures, each beside its target:
- the report (report_data + report_html + report_csv: HTML, JSON and the five CSV
  files) in a fresh process, as the patch_report action makes it: wall time (target
  <= 15 s), peak memory (the resident memory of the report's process and of the
  processes it forks, added, sampled every 50 ms; target <= 500 MB), HTML size
  (target <= 5 MB).  The fleet's findings are counted as the risk pass keeps them
  (asset schema 10's finding counts, counted here from the findings written);
- the baseline, in the same run: the sqlite3 command-line shell dumping the rows
  behind the same five tables to CSV (hosts with their risk result and register
  entry, the open findings joined with their details, the overdue ones, the
  accepted or held ones, the history of the last run), with no aggregation at all.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
sys.path.insert(0, COLLECTIONS)
OUTPUT = os.path.join(ROOT, 'bench', 'output', 'report.txt')
HOSTS = int(os.environ.get('BENCH_HOSTS', '10000'))
FINDINGS_PER_HOST = int(os.environ.get('BENCH_FINDINGS', '1000'))
DETAILS = 20000
RUNS = 10
NOW = '2026-11-28T12:00:00Z'

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import RECOUNT_FINDINGS, statements  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import Chain  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_counts import counts_agree  # noqa: E402
from figures import write_figures  # noqa: E402

_OSES = (('debian', '12', 'bookworm', 'Debian:12'), ('debian', '11', 'bullseye', 'Debian:11'),
         ('ubuntu', '22.04', 'jammy', 'Ubuntu:22.04'), ('redhat', '9', '', 'Red Hat:9'))
_DUE = (('3DF', 3, 'critical'), ('3D', 3, 'critical'), ('14D', 14, 'high'), ('60D', 60, 'medium'), ('FSU', 365, 'low'))
_RUN_TIMES = ['2026-%02d-%02dT02:00:00Z' % (9 + (day // 30), 1 + day % 30) for day in range(20, 80, 6)]


def _dumps(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


def _day_after(stamp, days):
    return (datetime.date.fromisoformat(stamp[:10]) + datetime.timedelta(days=days)).isoformat()


def _details(rng):
    """The shared finding details: (detail_key, detail, kind, tier, days)."""
    made = []
    for index in range(DETAILS):
        due_class, days, tier = rng.choices(_DUE, weights=(1, 4, 20, 45, 30))[0]
        kind = 'app' if index % 50 == 0 else 'os'
        package = ('app%03d' if kind == 'app' else 'pkg%04d') % (index % 3000)
        installed = '%d.%d-1' % (index % 7, index % 11)
        fixed = None if index % 40 == 0 else '%d.%d-2' % (index % 7, index % 11)
        cve = 'CVE-20%02d-%05d' % (20 + index % 7, index)
        key = '%s|Debian:12|%s|%s|%s|%s|internal|medium' % (cve, package, installed, fixed, package)
        kev = {'added': '2026-08-01', 'due': '2026-08-22'} if index % 50 == 7 else None
        detail = {'id': cve, 'aliases': [], 'kind': kind, 'package': package, 'binary_packages': [package], 'installed': installed,
                  'fixed': fixed, 'ecosystem': 'PyPI' if kind == 'app' else 'Debian:12',
                  'cvss': {'score': round(rng.uniform(2, 10), 1), 'vector': None}, 'epss': {'score': round(rng.random() ** 4, 4)},
                  'kev': kev, 'decision': 'O', 'due_class': due_class, 'tier': tier, 'days': days, 'incident': due_class == '3DF',
                  'reasons': ['synthetic'], 'score': 5.0, 'detail_key': key, 'source': 'osv'}
        made.append((key, _dumps(detail), kind, tier, days))
    return made


def make_fleet(path, rng):
    """Write the synthetic fleet to ``path``; return the host names."""
    with AssetStore(path):
        pass  # the schema and the kind, as the collection writes them
    db = sqlite3.connect(path, isolation_level=None)
    db.execute('PRAGMA journal_mode = OFF')
    db.execute('PRAGMA synchronous = OFF')
    db.execute('BEGIN')
    details = _details(rng)
    db.executemany('INSERT INTO finding_details (detail_key, detail) VALUES (?, ?)', [item[:2] for item in details])
    hosts = ['host%05d' % index for index in range(HOSTS)]
    last_run = 'run-%02d' % (RUNS - 1)
    for run in range(RUNS):
        db.execute('INSERT INTO runs (run_id, stage, at, hosts, changed) VALUES (?, ?, ?, ?, ?)',
                   ('run-%02d' % run, 'assess', _RUN_TIMES[run], HOSTS, HOSTS // 3))
    register, rows, outcomes, history, results = [], [], [], [], []
    for number, host in enumerate(hosts):
        family, version, codename, ecosystem = _OSES[number % len(_OSES)]
        environment = ('production', 'staging', 'development')[number % 3]
        register.append((host, _dumps({'environment': environment, 'patch_group': 'group-%d' % (number % 8),
                                       'criticality': ('low', 'medium', 'high', 'very_high')[number % 4],
                                       'exposure': ('internet', 'internal', 'isolated')[number % 3], 'owner': 'team-%d@example.org' % (number % 20)}),
                         'bench', NOW))
        summary = {'collected_at': NOW, 'host': {'hostname': host}, 'os': {'family': family, 'distribution': family, 'version': version,
                                                                           'codename': codename, 'ecosystem': ecosystem},
                   'kernel': {'running': '6.1.0-25-amd64'}, 'counts': {'packages': 1800, 'applications': 2},
                   'applications': [{'name': 'app%03d' % (number % 300), 'version': '1.%d' % (number % 9), 'ecosystem': 'PyPI'}],
                   'reboot_required': number % 17 == 0, 'restart_services': []}
        seen = NOW if number % 97 else '2026-10-01T02:00:00Z'
        db.execute('INSERT INTO hosts (name, first_seen, last_seen, last_changed, collected_at, run_id, digest, summary, record) '
                   'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', (host, _RUN_TIMES[0], seen, seen, seen, last_run, 'x' * 64, _dumps(summary), '{}'))
        picked = rng.sample(range(DETAILS), FINDINGS_PER_HOST + FINDINGS_PER_HOST // 10)
        tiers = {'critical': 0, 'high': 0, 'medium': 0, 'low': 0}
        for position, index in enumerate(picked):
            key, _detail, kind, tier, days = details[index]
            opened = rng.randrange(RUNS)
            first_seen = _RUN_TIMES[opened]
            fixed_row = position >= FINDINGS_PER_HOST
            closed = _RUN_TIMES[min(RUNS - 1, opened + 1 + rng.randrange(3))] if fixed_row and opened < RUNS - 1 else None
            status = 'fixed' if closed else ('accepted' if position % 100 == 1 else 'open')
            extra = None
            if status == 'accepted':
                extra = _dumps({'acceptance': {'owner': 'risk-board@example.org', 'reason': 'compensating control',
                                               'expires': _day_after(NOW, 5 + position % 60)}})
            elif position % 100 == 2:
                extra = _dumps({'hold': {'until': _day_after(NOW, 10 + position % 30), 'reason': 'vendor regression'}})
            if status == 'open':
                tiers[tier] += 1
            rows.append((host, key.split('|', 1)[0], key.split('|')[2], kind, status, tier, _day_after(first_seen, days), first_seen,
                         closed, key, extra))
        db.executemany('INSERT OR IGNORE INTO findings (host, finding_id, package, kind, status, tier, due, first_seen, closed, '
                       'detail_key, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)
        rows.clear()
        tier = next((name for name in tiers if tiers[name]), 'none')
        results.append((host, last_run, _RUN_TIMES[-1], tier, 5.0, 'O', _RUN_TIMES[0][:10],
                        _dumps({'schema': 1, 'host': host, 'run_id': last_run, 'tier': tier}), None))
        changes = [{'name': 'pkg%04d' % ((number + step) % 3000), 'from': '1.%d-1' % step, 'to': '1.%d-2' % step} for step in range(5)]
        status = ('changed', 'changed', 'ok', 'refused', 'rolled_back')[number % 5]
        counts = {'installed': 5, 'installed_other': 1, 'pending_reboot': 0, 'pending_restart': number % 2, 'held': 1, 'rejected': 0,
                  'missing': 2, 'failed': 1 if status == 'rolled_back' else 0, 'not_applicable': 0}
        detail = {'schema': 2, 'run_id': last_run, 'host': host, 'operation': 'install', 'status': status, 'packages': changes,
                  'counts': counts, 'restarted': ['pw-demod.service'], 'restart_deferred': [], 'reboot': {'required': False, 'performed': False},
                  'rollback': {'performed': True} if status == 'rolled_back' else {}, 'operation_end': _RUN_TIMES[-1],
                  'policy_fingerprint': 'f' * 64, 'reason': 'window closed' if status == 'refused' else ''}
        outcomes.append((host, last_run, 'system', _RUN_TIMES[-1], status, _dumps(detail)))
        history.append((host, _RUN_TIMES[-1], last_run, 'patch_system', _dumps(dict(detail, status=status))))
        history.append((host, _RUN_TIMES[-1], last_run, 'packages', _dumps({'upgraded': [dict(change, arch='amd64') for change in changes],
                                                                           'added': [], 'removed': [], 'downgraded': []})))
    db.executemany('INSERT INTO register (host, entry, source, loaded_at) VALUES (?, ?, ?, ?)', register)
    db.executemany('INSERT INTO risk_results (host, run_id, assessed_at, tier, score, decision, due, result, inputs) '
                   'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', results)
    db.executemany('INSERT INTO plans (host, run_id, created_at, plan) VALUES (?, ?, ?, ?)',
                   [(host, last_run, _RUN_TIMES[-1], '{"schema":1}') for host in hosts])
    db.executemany('INSERT INTO patch_outcomes (host, run_id, kind, at, status, detail) VALUES (?, ?, ?, ?, ?, ?)', outcomes)
    db.executemany('INSERT INTO history (host, at, run_id, kind, detail) VALUES (?, ?, ?, ?, ?)', history)
    # The finding counts the risk pass keeps beside the findings it writes (asset schema 10), counted from them here.
    for statement in statements(RECOUNT_FINDINGS):
        db.execute(statement)
    db.execute('COMMIT')
    if not counts_agree(db):
        raise SystemExit('the finding counts do not agree with the findings: the report would not read them')
    db.close()
    return hosts


def make_audit_log(path, records=20000):
    chain = Chain()
    with open(path, 'wb') as handle:
        for number in range(records):
            handle.write(chain.seal({'event': 'task', 'run_id': 'run-09', 'host': 'host%05d' % (number % HOSTS), 'n': number}) + b'\n')


_REPORT = r'''
import json, os, resource, sys, threading, time
sys.path.insert(0, %(collections)r)


def _rss_kb(pid):
    try:
        with open('/proc/%%d/status' %% pid) as status:
            return next((int(line.split()[1]) for line in status if line.startswith('VmRSS:')), 0)
    except OSError:
        return 0


def _children(pid):
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%%s/stat' %% entry) as stat:
                    if int(stat.read().rsplit(')', 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


# The report runs in up to three processes at once (itself, the second reader, the overdue writer): their resident
# memory added, sampled every 50 ms (an upper bound: a forked child's RSS counts the pages it shares with its parent).
together = {'peak': 0}
done = threading.Event()


def sample():
    while not done.wait(0.05):
        together['peak'] = max(together['peak'], _rss_kb(os.getpid()) + sum(_rss_kb(child) for child in _children(os.getpid())))


threading.Thread(target=sample, daemon=True).start()
started = time.monotonic()
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_csv import TABLES, write_table
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import collect, write_json
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_files import OutputFiles
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_html import write_html
with OutputFiles(%(out)r) as outputs:
    # As the patch_report action writes them: the overdue table by a second process from the moment the report can
    # stream it, beside the figures and the other files.
    def write_overdue_apart(report):
        outputs.add('patch-report-overdue.csv', lambda handle: write_table(report, 'overdue', handle), apart=report.reconnect)

    report = collect(%(db)r, audit_log=%(audit)r, now=%(now)r, streams_ready=write_overdue_apart)
    collected = time.monotonic() - started
    outputs.add('patch-report.html', lambda handle: write_html(report, handle))
    outputs.add('patch-report.json', lambda handle: write_json(report, handle))
    for table in TABLES:
        if table != 'overdue':
            outputs.add('patch-report-%%s.csv' %% table, lambda handle, table=table: write_table(report, table, handle))
    written = outputs.commit()
    report.close()
seconds = time.monotonic() - started
done.set()
own, forked = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({'seconds': seconds, 'collect_seconds': collected, 'peak_mb': together['peak'] / 1024,
                  'own_mb': own / 1024, 'forked_mb': forked / 1024, 'files': written}))
'''


def run_report(db, audit, out):
    """The report in a fresh process (its own peak memory): {seconds, peak_mb, files}."""
    code = _REPORT % {'collections': COLLECTIONS, 'db': db, 'audit': audit, 'out': out, 'now': NOW}
    process = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    return json.loads(process.stdout.strip().splitlines()[-1])


_BASELINE = '''.headers on
.mode csv
.once %(out)s/hosts.csv
SELECT h.name, h.last_seen, h.summary, r.tier, r.due, r.result, g.entry FROM hosts h LEFT JOIN risk_results r ON r.host = h.name
  LEFT JOIN register g ON g.host = h.name;
.once %(out)s/findings.csv
SELECT f.host, f.finding_id, f.package, f.kind, f.status, f.tier, f.due, f.first_seen, d.detail
  FROM findings f LEFT JOIN finding_details d ON d.detail_key = f.detail_key WHERE f.status != 'fixed';
.once %(out)s/overdue.csv
SELECT host, finding_id, package, kind, tier, due, first_seen, detail_key FROM findings WHERE status = 'open' AND due < '%(today)s';
.once %(out)s/exceptions.csv
SELECT host, finding_id, package, status, tier, due, extra FROM findings WHERE extra IS NOT NULL AND status != 'fixed';
.once %(out)s/changes.csv
SELECT host, at, run_id, kind, detail FROM history WHERE run_id = (SELECT run_id FROM history ORDER BY id DESC LIMIT 1);
'''


def run_baseline(db, out):
    started = time.monotonic()
    subprocess.run(['sqlite3', '-readonly', db], input=_BASELINE % {'out': out, 'today': NOW[:10]}, text=True, check=True)
    seconds = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, usage.ru_maxrss / 1024


def main():
    rng = random.Random(2026)
    lines = []
    with tempfile.TemporaryDirectory() as work:
        db = os.path.join(work, 'assets.db')
        audit = os.path.join(work, 'audit.jsonl')
        started = time.monotonic()
        make_fleet(db, rng)
        make_audit_log(audit)
        lines.append('synthetic fleet: %d hosts, ~%d open findings each, database %.0f MB, written in %.0f s'
                     % (HOSTS, FINDINGS_PER_HOST, os.path.getsize(db) / 2 ** 20, time.monotonic() - started))
        baseline_out = os.path.join(work, 'baseline')
        os.mkdir(baseline_out)
        baseline_seconds, baseline_peak = run_baseline(db, baseline_out)
        report_out = os.path.join(work, 'report')
        os.mkdir(report_out)
        report = run_report(db, audit, report_out)
        sizes = {os.path.basename(path): os.path.getsize(path) for path in report['files']}
        html = next(size for name, size in sizes.items() if name.endswith('.html'))
        lines.append('report (HTML, JSON, 5 CSV): %.1f s (target <= 15 s; figures read in %.1f s), peak memory %.0f MB (target <= 500 MB; '
                     'its processes\' resident memory added, sampled; peaks apart: the report process %.0f MB, the largest process it '
                     'forked %.0f MB), HTML %.2f MB (target <= 5 MB)'
                     % (report['seconds'], report['collect_seconds'], report['peak_mb'], report['own_mb'], report['forked_mb'], html / 2 ** 20))
        lines.append('  files: %s' % ', '.join('%s %.1f MB' % (name, size / 2 ** 20) for name, size in sorted(sizes.items())))
        lines.append('baseline: sqlite3 shell dumping the same five tables to CSV (rows, no aggregation): %.1f s, '
                     'peak memory %.0f MB, %.0f MB of CSV' % (baseline_seconds, baseline_peak, sum(
                         os.path.getsize(os.path.join(baseline_out, name)) for name in os.listdir(baseline_out)) / 2 ** 20))
    write_figures(OUTPUT, lines)


if __name__ == '__main__':
    main()

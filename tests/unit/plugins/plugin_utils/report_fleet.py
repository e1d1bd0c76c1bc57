# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small fleet written through the asset store's API, with known figures, for the report's tests.

Two assess passes (run-1 on 2026-11-01, run-2 on 2026-11-20) and one patch run (run-2); the report is made
on 2026-11-28 (NOW):

- web01 (production, group-a, internet): CVE-2099-0001 (high, 14D, due 2026-11-15: 13 days late) and
  CVE-2099-0002 (KEV, critical, 3D, due 2026-11-04: 24 days late) open; CVE-2099-0003 fixed by run-2
  (first seen 2026-11-01, closed 2026-11-20: 19 days); openssl 3.0.14 -> 3.0.15, ssh restarted.
- db01 (production, group-b, internal): CVE-2099-0001 open but due 2026-12-20; CVE-2099-0004 accepted by
  risk-board until 2026-12-05 (expiring soon); its patch run was refused (window closed).
- app01 (staging, group-a): CVE-2099-0005 (medium, 60D, kind app, package shop) open, due 2027-01-19;
  held until 2026-12-31.
- old01 (development): last seen 2026-10-01, stale; never assessed.
"""

from __future__ import annotations

import copy
import sqlite3

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_csv import TABLES, rows
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import collect
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

T1 = '2026-11-01T02:00:00Z'
T2 = '2026-11-20T02:00:00Z'
NOW = '2026-11-28T12:00:00Z'
POLICY = {
    'acceptances': [{'finding': 'CVE-2099-0004', 'owner': 'risk-board@example.org', 'reason': 'compensating control', 'expires': '2026-12-05'}],
    'holds': [{'finding': 'CVE-2099-0005', 'until': '2026-12-31', 'reason': 'vendor regression'}],
}
REGISTER = {
    'web01': {'environment': 'production', 'patch_group': 'group-a', 'exposure': 'internet', 'criticality': 'high', 'owner': 'web@example.org'},
    'db01': {'environment': 'production', 'patch_group': 'group-b', 'exposure': 'internal', 'criticality': 'very_high', 'owner': 'dba@example.org'},
    'app01': {'environment': 'staging', 'patch_group': 'group-a', 'exposure': 'internal', 'criticality': 'medium'},
    'old01': {'environment': 'development', 'patch_group': 'group-c'},
}
STATES = {'installed': 1, 'installed_other': 1, 'pending_reboot': 0, 'pending_restart': 0, 'held': 0, 'rejected': 0, 'missing': 0,
          'failed': 0, 'not_applicable': 0}


def _finding(fid, package, tier, due_class, due, *, kev=None, kind='os', status='open', **extra):
    return dict({'id': fid, 'aliases': [], 'kind': kind, 'package': package, 'binary_packages': [package], 'installed': '1.0-1',
                 'fixed': '1.0-2', 'ecosystem': 'PyPI' if kind == 'app' else 'Debian:12', 'cvss': {'score': 7.5, 'vector': None},
                 'epss': {'score': 0.2}, 'kev': kev, 'decision': 'O', 'due_class': due_class, 'tier': tier, 'due': due, 'status': status,
                 'reasons': ['fixture']}, **extra)


def _result(findings):
    open_findings = [f for f in findings if f['status'] == 'open']
    counts = {tier: sum(1 for f in open_findings if f['tier'] == tier) for tier in ('critical', 'high', 'medium', 'low')}
    top = min(open_findings, key=lambda f: f['due'], default=None)
    return {'schema': 1, 'tier': next((t for t in ('critical', 'high', 'medium', 'low') if counts[t]), 'none'), 'score': 7.5,
            'decision': 'O' if top else None, 'due': top['due'] if top else None,
            'counts': dict(counts, open=len(open_findings), accepted=sum(1 for f in findings if f['status'] == 'accepted'),
                           held=sum(1 for f in open_findings if f.get('hold'))),
            'findings': findings}


def _pass_one():
    return {
        'web01': _result([_finding('CVE-2099-0001', 'openssl', 'high', '14D', '2026-11-15'),
                          _finding('CVE-2099-0002', 'bash', 'critical', '3D', '2026-11-04', kev={'added': '2026-10-01', 'due': '2026-10-22'}),
                          _finding('CVE-2099-0003', 'curl', 'medium', '60D', '2026-12-31')]),
        'db01': _result([_finding('CVE-2099-0001', 'openssl', 'high', '14D', '2026-12-20'),
                         _finding('CVE-2099-0004', 'libxml2', 'high', '14D', '2026-11-15', status='accepted',
                                  acceptance={'owner': 'risk-board@example.org', 'reason': 'compensating control', 'expires': '2026-12-05'})]),
    }


def _pass_two():
    results = _pass_one()
    results['web01']['findings'] = [f for f in results['web01']['findings'] if f['id'] != 'CVE-2099-0003']
    results['web01'] = _result(results['web01']['findings'])
    results['app01'] = _result([_finding('CVE-2099-0005', 'shop', 'medium', '60D', '2027-01-19', kind='app',
                                         hold={'until': '2026-12-31', 'reason': 'vendor regression'})])
    return results


def _record(host, collected_at, openssl='3.0.14-1~deb12u1'):
    made = record(host, collected_at=collected_at)
    for package in made['packages']:
        if package['source_name'] == 'openssl':
            package['version'] = package['source_version'] = openssl
    made['applications'] = [{'name': 'shop', 'version': '2.4.0', 'ecosystem': 'PyPI', 'path': '/srv/shop', 'source': 'declared'}] if host == 'app01' else []
    return made


def build(path):
    """Write the fleet to ``path``; returns ``path``."""
    with AssetStore(path) as store:
        store.replace_register(copy.deepcopy(REGISTER), 'fixture', now=T1)
        store.store_records({'old01': _record('old01', '2026-10-01T02:00:00Z')}, run_id='run-0', now='2026-10-01T02:00:00Z')
        store.store_records({host: _record(host, T1) for host in ('web01', 'db01', 'app01')}, run_id='run-1', now=T1)
        store.store_risk_results(_pass_one(), run_id='run-1', now=T1)
        store.store_records({'web01': _record('web01', T2, openssl='3.0.15-1~deb12u1'), 'db01': _record('db01', T2), 'app01': _record('app01', T2)},
                            run_id='run-2', now=T2)
        store.store_risk_results(_pass_two(), run_id='run-2', now=T2)
        store.store_plans({host: {'schema': 1, 'run_id': 'run-2'} for host in ('web01', 'db01', 'app01')}, run_id='run-2', now=T2)
        store.add_patch_outcome('web01', 'system', 'changed', {
            'schema': 2, 'run_id': 'run-2', 'host': 'web01', 'operation': 'install', 'operation_end': T2, 'policy_fingerprint': 'a' * 64,
            'packages': [{'name': 'openssl', 'from': '3.0.14-1~deb12u1', 'to': '3.0.15-1~deb12u1'}], 'restarted': ['ssh.service'],
            'reboot': {'required': False, 'performed': False}, 'rollback': {}, 'counts': dict(STATES)}, run_id='run-2', now=T2)
        store.add_patch_outcome('db01', 'system', 'refused', {
            'schema': 2, 'run_id': 'run-2', 'host': 'db01', 'operation': 'install', 'operation_end': T2, 'policy_fingerprint': 'a' * 64,
            'reason': 'window closed', 'packages': [], 'restarted': [], 'reboot': {'required': False, 'performed': False}, 'rollback': {},
            'counts': dict(STATES, installed=0, installed_other=0, missing=1)}, run_id='run-2', now=T2)
    return path


def advisory_kind(path):
    """An SQLite file that says it is an advisory database."""
    with sqlite3.connect(path) as db:
        db.execute('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
        db.execute("INSERT INTO meta VALUES ('kind', 'advisory')")
    return path


def collect_report(path, **options):
    """The report of the fleet at ``path``, made at NOW under POLICY unless ``options`` say otherwise."""
    options.setdefault('now', NOW)
    options.setdefault('policy', load_policy(POLICY))
    return collect(path, **options)


def tables(report):
    """Every CSV table's rows; those streamed from the findings table (overdue, exceptions) come in the order the
    database stores them (a sort of millions of rows would cost SQLite more than the report), so they are sorted."""
    return {table: sorted(map(list, rows(report, table))) if table in ('overdue', 'exceptions') else [list(row) for row in rows(report, table)]
            for table in TABLES}

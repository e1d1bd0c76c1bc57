"""The compliance report that cycle.yml's last step wrote (beside the scenario's asset database), checked against the
asset database as it was when the report was made: the hosts and their patch state counts, the overdue list, the
changes of the run.  No testinfra host is needed: the report and the database are on the controller.

side_effect runs later cycles on cy-web alone (one of them fails before the report); rows written after the
report's time are left out of every comparison.
"""
import csv
import json
import os
import sqlite3

import pytest

STATES = ('installed', 'installed_other', 'pending_reboot', 'pending_restart', 'held', 'rejected', 'missing', 'failed', 'not_applicable')
WORK = os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', '')
REPORTS = os.path.join(WORK, 'reports')


def _db():
    return sqlite3.connect(os.path.join(WORK, 'assets.db'))


def _csv(table):
    with open(os.path.join(REPORTS, 'patch-report-%s.csv' % table), encoding='utf-8', newline='') as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope='module')
def report():
    with open(os.path.join(REPORTS, 'patch-report.json'), encoding='utf-8') as handle:
        return json.load(handle)


def test_every_file_was_written(report):
    names = sorted(os.listdir(REPORTS))
    assert names == ['patch-report-changes.csv', 'patch-report-exceptions.csv', 'patch-report-findings.csv', 'patch-report-hosts.csv',
                     'patch-report-overdue.csv', 'patch-report.html', 'patch-report.json'], 'no temporary files are left'
    assert report['schema'] == 1 and report['run_id']
    with open(os.path.join(REPORTS, 'patch-report.html'), encoding='utf-8') as handle:
        page = handle.read()
    assert page.count('<svg') == 5 and 'src="http' not in page and 'href="http' not in page
    assert report['content_digest'] in page


def test_hosts_and_their_patch_state_counts(report):
    made = report['generated_at']
    hosts = {host['host']: host for host in report['hosts']}
    with _db() as db:
        assert sorted(hosts) == sorted(name for (name,) in db.execute('SELECT name FROM hosts'))
        for name, host in hosts.items():
            latest = {}
            for kind, status, detail, at in db.execute('SELECT kind, status, detail, at FROM patch_outcomes WHERE host = ? AND at <= ? ORDER BY id',
                                                       (name, made)):
                latest[kind] = (status, json.loads(detail), at)
            expected = {state: sum(detail.get('counts', {}).get(state, 0) for _status, detail, _at in latest.values()) for state in STATES}
            assert host['states'] == expected, name
            last = max(latest.values(), key=lambda item: item[2])
            assert host['last_status'] == last[0] and host['run_id'] == last[1]['run_id'], name
            assert host['policy_fingerprint'] == last[1].get('policy_fingerprint'), name
    # cy-db's change was approved by someone not in the register: refused, its planned packages missing.
    assert hosts['cy-db']['last_status'] == 'refused' and hosts['cy-db']['states']['missing'] == 2
    assert hosts['cy-web']['states']['installed'] >= 1 or hosts['cy-web']['last_status'] == 'ok'
    rows = {row['host']: row for row in _csv('hosts')}
    assert {name: int(rows[name]['missing']) for name in rows} == {name: host['states']['missing'] for name, host in hosts.items()}


def test_overdue_findings_against_the_database(report):
    made, day = report['generated_at'], report['generated_at'][:10]
    with _db() as db:
        expected = set(db.execute(
            "SELECT host, finding_id, package FROM findings WHERE first_seen <= ?1 AND due < ?2 AND status != 'accepted' "
            'AND (closed IS NULL OR closed > ?1)', (made, day)))
    overdue = _csv('overdue')
    assert {(row['host'], row['id'], row['package']) for row in overdue} == expected
    assert report['overdue']['total'] == len(expected) == report['findings_summary']['overdue']
    top = report['overdue']['top']
    assert [item['kev'] for item in top] == sorted((item['kev'] for item in top), reverse=True), 'known exploited first'
    for host in report['hosts']:
        late = sum(1 for row in overdue if row['host'] == host['host'])
        assert host['overdue'] == late and host['compliant'] is (late == 0), host['host']


def test_changes_of_the_run(report):
    changes = report['changes']
    run_id = changes['run_id']
    with _db() as db:
        upgraded = set()
        for host, detail in db.execute("SELECT host, detail FROM history WHERE run_id = ? AND kind = 'packages' AND at <= ?",
                                       (run_id, report['generated_at'])):
            upgraded.update((host, item['name'], item['from'], item['to']) for item in json.loads(detail).get('upgraded') or [])
    by_host = {host['host']: host for host in changes['hosts']}
    shown = {(name, item['name'], item['from'], item['to']) for name, host in by_host.items() for item in host['packages']
             if item['change'] == 'upgraded'}
    assert shown == upgraded
    # The plan's exact targets, on the two hosts the gate let through.
    assert ('cy-web', 'pw-libdemo', '1.0-1', '1.0-2') in shown and ('cy-app', 'pw-demo-stepped', '1.0-1', '1.0-2') in shown
    assert not any(name == 'cy-db' for name, *_rest in shown)
    assert by_host['cy-db']['status'] == 'refused' and 'CHG-1003' in by_host['cy-db']['reason']
    assert 'pw-demod.service' in by_host['cy-web']['restarted']
    rows = _csv('changes')
    assert {(row['host'], row['name'], row['from'], row['to']) for row in rows if row['change'] == 'upgraded'} == upgraded


def test_held_finding_and_audit_state(report):
    # The policy holds CVE-2099-1001 until 2099-12-31.
    holds = [entry for entry in report['exceptions']['policy'] if entry['type'] == 'hold']
    assert [(entry['finding'], entry['expires']) for entry in holds] == [('CVE-2099-1001', '2099-12-31')]
    assert report['audit']['checked'] is False or report['audit']['valid'] is True

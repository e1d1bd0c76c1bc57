"""report_data: the report's figures against a small fleet with known numbers (report_fleet), and bad input.

The fleet is read from SQLite and from PostgreSQL (the same fleet, copied there by asset_db_copy): every test
that takes ``fleet_db`` runs on both, and the whole document must be the same.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import sqlite3

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import Chain
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_csv import rows, write_table
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import (
    SCHEMA,
    ReportError,
    collect,
    content_digest,
    previous_digest,
    write_json,
)
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_files import OutputFiles
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils import report_fleet
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.report_fleet import collect_report as _collect
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.report_fleet import tables as _tables
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD


def _hosts(document):
    return {host['host']: host for host in document['hosts']}


def test_figures_of_the_fleet(fleet_db):
    with _collect(fleet_db) as report:
        document = report.document
    assert document['schema'] == SCHEMA and document['run_id'] == 'run-2'
    fleet = document['fleet']
    assert (fleet['hosts'], fleet['assessed'], fleet['compliant'], fleet['non_compliant'], fleet['stale']) == (4, 3, 2, 1, 1)
    hosts = _hosts(document)
    web, db, app, old = hosts['web01'], hosts['db01'], hosts['app01'], hosts['old01']
    assert (web['compliant'], web['overdue'], web['oldest_overdue_due'], web['tier']) == (False, 2, '2026-11-04', 'critical')
    assert web['open_by_tier'] == {'critical': 1, 'high': 1, 'medium': 0, 'low': 0}
    assert (db['compliant'], db['overdue'], db['accepted']) == (True, 0, 1)
    assert (app['compliant'], app['held_findings']) == (True, 1)
    assert (old['compliant'], old['stale'], old['tier']) == (None, True, None)
    # Patch state counts of the last patch run, with its operation, run id and policy fingerprint.
    assert web['states']['installed'] == 1 and web['last_status'] == 'changed' and web['run_id'] == 'run-2'
    assert web['policy_fingerprint'] == 'a' * 64 and web['last_operation'] == 'install'
    assert db['states']['missing'] == 1 and db['last_status'] == 'refused'
    assert app['states'] == dict.fromkeys(app['states'], 0) and app['last_status'] is None


def test_sla_figures_overdue_first_kev_first(fleet_db):
    with _collect(fleet_db) as report:
        document = report.document
        rows = sorted(report.overdue_rows())
    summary = document['findings_summary']
    assert (summary['open'], summary['accepted'], summary['overdue'], summary['kev_open'], summary['kev_overdue'], summary['app_open']) == (
        4, 1, 2, 1, 1, 1)
    assert summary['by_due_class'] == {'3DF': 0, '3D': 1, '14D': 2, '60D': 1, 'FSU': 0, 'other': 0}
    assert summary['by_tier_and_due_class']['critical']['3D'] == 1 and summary['by_tier_and_due_class']['high']['14D'] == 2
    top = document['overdue']['top']
    assert [(item['host'], item['id'], item['kev'], item['days_late']) for item in top] == [
        ('web01', 'CVE-2099-0002', True, 24), ('web01', 'CVE-2099-0001', False, 13)]
    assert rows == [('web01', 'CVE-2099-0001', 'openssl', 'os', 'high', '14D', False, '2026-11-15', 13, report_fleet.T1),
                    ('web01', 'CVE-2099-0002', 'bash', 'os', 'critical', '3D', True, '2026-11-04', 24, report_fleet.T1)]
    findings = {(row['id'], row['package']): row for row in document['findings']}
    assert findings[('CVE-2099-0001', 'openssl')]['hosts_open'] == 2 and findings[('CVE-2099-0001', 'openssl')]['hosts_overdue'] == 1
    assert findings[('CVE-2099-0004', 'libxml2')]['hosts_accepted'] == 1


def test_remediation_time_and_trend(fleet_db):
    with _collect(fleet_db) as report:
        document = report.document
    assert document['time_to_remediate']['medium'] == {'closed': 1, 'median_days': 19, 'p90_days': 19}
    assert document['time_to_remediate']['critical'] == {'closed': 0, 'median_days': None, 'p90_days': None}
    first, second = document['trend']
    assert (first['run_id'], second['run_id']) == ('run-1', 'run-2')
    # run-1: 5 findings opened, 1 of them accepted; run-2 fixed CVE-2099-0003 and opened CVE-2099-0005.
    assert first['open'] == {'critical': 1, 'high': 2, 'medium': 1, 'low': 0}
    assert second['open'] == {'critical': 1, 'high': 2, 'medium': 1, 'low': 0}
    # On 2026-11-01 nothing was due yet; on 2026-11-20 web01 was past two due dates. old01 was never assessed.
    assert (first['hosts'], first['hosts_compliant'], second['hosts_compliant']) == (4, 3, 2)


def test_changes_exceptions_applications(fleet_db):
    with _collect(fleet_db) as report:
        document = report.document
        exceptions = sorted(report.exception_rows())
    changes = {host['host']: host for host in document['changes']['hosts']}
    assert document['changes']['run_id'] == 'run-2' and set(changes) == {'web01', 'db01'}
    assert {(p['name'], p['from'], p['to']) for p in changes['web01']['packages']} == {
        ('openssl', '3.0.14-1~deb12u1', '3.0.15-1~deb12u1'), ('libssl3', '3.0.14-1~deb12u1', '3.0.15-1~deb12u1')}
    assert changes['web01']['restarted'] == ['ssh.service'] and changes['db01']['reason'] == 'window closed'
    policy = document['exceptions']['policy']
    assert [(entry['type'], entry['expires'], entry['expiring_soon']) for entry in policy] == [
        ('acceptance', '2026-12-05', True), ('hold', '2026-12-31', False)]
    assert exceptions == [('app01', 'CVE-2099-0005', 'shop', 'held', None, 'vendor regression', '2026-12-31', 'medium', '2027-01-19'),
                          ('db01', 'CVE-2099-0004', 'libxml2', 'accepted', 'risk-board@example.org', 'compensating control', '2026-12-05',
                           'high', '2026-11-15')]
    apps = {app['name']: app for app in document['applications']}
    assert apps['shop'] == {'name': 'shop', 'hosts': 1, 'open': 1, 'overdue': 0, 'kev': 0}
    assert document['stale_hosts'] == [{'host': 'old01', 'last_seen': '2026-10-01T02:00:00Z'}]


def test_changes_in_a_time_range(fleet_db):
    with _collect(fleet_db, since='2026-10-01T00:00:00Z', until='2026-11-02T00:00:00Z') as report:
        changes = report.document['changes']
    assert changes['run_id'] is None and changes['hosts'] == []
    with _collect(fleet_db, since='2026-11-19T00:00:00Z') as report:
        assert {host['host'] for host in report.document['changes']['hosts']} == {'web01', 'db01'}


def test_host_filter(fleet_db):
    with _collect(fleet_db, hosts={'db01'}, patterns=['web*']) as report:
        document = report.document
        rows = list(report.overdue_rows())
    assert sorted(_hosts(document)) == ['db01', 'web01']
    assert document['findings_summary']['open'] == 3 and len(rows) == 2
    with pytest.raises(ReportError, match='selects none of the 4 hosts'):
        _collect(fleet_db, patterns=['nothing*'])


def test_audit_trail_in_the_header(fleet_db, tmp_path):
    log = tmp_path / 'audit.jsonl'
    chain = Chain()
    lines = [chain.seal({'event': 'task', 'n': n}).decode() for n in range(5)]
    log.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    with _collect(fleet_db, audit_log=str(log), expected_head=chain.head) as report:
        audit = report.document['audit']
    assert (audit['checked'], audit['valid'], audit['anchored'], audit['records']) == (True, True, True, 5)
    lines[2] = lines[2].replace('"n":2', '"n":7')
    log.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    with _collect(fleet_db, audit_log=str(log)) as report:
        audit = report.document['audit']
    assert (audit['valid'], audit['first_bad_line'], audit['anchored']) == (False, 3, False)


def test_content_digest_ignores_what_moves_every_run(fleet_db, tmp_path):
    with _collect(fleet_db) as report:
        first = report.document
    with _collect(fleet_db, now='2026-11-28T18:00:00Z') as report:
        later = report.document
    assert first['generated_at'] != later['generated_at'] and first['content_digest'] == later['content_digest']
    moved = dict(first, hosts=[dict(host, last_seen='2026-12-01T00:00:00Z') for host in first['hosts']])
    assert content_digest(moved) == first['content_digest']
    with _collect(fleet_db, now='2026-12-01T12:00:00Z') as report:
        assert report.document['content_digest'] != first['content_digest'], 'days late changed'
        with OutputFiles(str(tmp_path)) as outputs:
            outputs.add('r.json', lambda handle: write_json(report, handle))
            outputs.commit()
    assert previous_digest(str(tmp_path / 'r.json')) == report.document['content_digest']


def _without_location(document):
    """The document without what names the database (the content digest covers the location too)."""
    return dict(document, generated_at=None, asset_db=None, content_digest=None)


@pytest.mark.parametrize('options', [{}, {'hosts': {'db01'}, 'patterns': ['web*'], 'top': 1}, {'since': '2026-10-01T00:00:00Z'},
                                     {'now': '2026-12-20T00:00:00Z', 'trend_runs': 1}])
def test_postgresql_gives_the_same_report(sqlite_fleet, postgresql_fleet, options):
    with _collect(sqlite_fleet, **options) as report:
        expected, expected_tables = report.document, _tables(report)
    with _collect(postgresql_fleet, **options) as report:
        document, tables = report.document, _tables(report)
    assert document['asset_db'] == postgresql_fleet and PASSWORD not in json.dumps(document)
    assert _without_location(document) == _without_location(expected)
    assert tables == expected_tables
    assert document['fleet']['hosts'] == (2 if 'hosts' in options else 4) and expected_tables['overdue']


def test_postgresql_database_without_the_tables(postgresql_server, monkeypatch):
    monkeypatch.setenv('PGPASSWORD', PASSWORD)
    url = postgresql_server.database('report_empty_%d' % os.getpid())
    with pytest.raises(ReportError, match=r'^%s: the asset database has no tables yet' % url):
        collect(url)
    monkeypatch.setenv('PGPASSWORD', 'wrong')
    with pytest.raises(ReportError, match=r'^%s: cannot connect: .*password authentication failed' % url) as raised:
        collect(url)
    assert 'wrong' not in str(raised.value)
    with pytest.raises(ReportError, match=r'^postgresql://patchwise@127\.0\.0\.1:\d+/x: the URL carries a password') as raised:
        collect(url.replace('patchwise@', 'patchwise:secret@').rsplit('/', 1)[0] + '/x')
    assert 'secret' not in str(raised.value)


def test_empty_file_wrong_kind_no_hosts_missing(tmp_path):
    empty = tmp_path / 'empty.db'
    empty.write_bytes(b'')
    with pytest.raises(ReportError, match='is an empty SQLite file, not an asset database'):
        collect(str(empty))
    advisory = report_fleet.advisory_kind(str(tmp_path / 'advisories.db'))
    with pytest.raises(ReportError, match='is an advisory database, not an asset database'):
        collect(advisory)
    other = tmp_path / 'other.db'
    with sqlite3.connect(str(other)) as db:
        db.execute('CREATE TABLE t (x)')
    with pytest.raises(ReportError, match='SQLite database of another program'):
        collect(str(other))
    from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
    AssetStore(str(tmp_path / 'new.db')).close()
    with pytest.raises(ReportError, match='has no hosts: run the discover playbook first'):
        collect(str(tmp_path / 'new.db'))
    with pytest.raises(ReportError, match='does not exist'):
        collect(str(tmp_path / 'missing.db'))


def test_output_files_all_or_nothing(fleet_db, tmp_path):
    (tmp_path / 'r.json').write_text('{"old": true}', encoding='utf-8')

    def broken(handle):
        handle.write('half')
        raise ReportError('a bad row')

    with _collect(fleet_db) as report, pytest.raises(ReportError, match='a bad row'), OutputFiles(str(tmp_path)) as outputs:
        outputs.add('r.json', lambda handle: write_json(report, handle))
        outputs.add('r.html', broken)
        outputs.commit()
    assert sorted(os.listdir(tmp_path)) == ['r.json'] and (tmp_path / 'r.json').read_text() == '{"old": true}'
    with pytest.raises(ReportError, match='does not exist'):
        OutputFiles(str(tmp_path / 'nowhere'))


def unwritable_directory(tmp_path):
    """A directory this process cannot create files in: mode 0500, or /proc for root (whom modes do not stop)."""
    if os.geteuid() == 0:
        return '/proc'
    locked = tmp_path / 'locked'
    locked.mkdir(mode=0o500)
    return str(locked)


def test_unwritable_directory(fleet_db, tmp_path):
    directory = unwritable_directory(tmp_path)
    with _collect(fleet_db) as report, pytest.raises(ReportError, match=r'not writable|cannot write the report into'), \
            OutputFiles(directory) as outputs:
        outputs.add('r.json', lambda handle: write_json(report, handle))
        outputs.commit()
    assert not any(name.startswith(('r.json', '.r.json')) for name in os.listdir(directory))


def test_a_table_written_apart_is_the_same_table(fleet_db, tmp_path):
    """The overdue table written by a forked process on its own connection: the bytes written in this one."""
    with _collect(fleet_db) as report, OutputFiles(str(tmp_path)) as outputs:
        here, apart = io.StringIO(newline=''), None
        write_table(report, 'overdue', here)
        outputs.add('apart.csv', lambda handle: write_table(report, 'overdue', handle), apart=report.reconnect)
        outputs.add('r.json', lambda handle: write_json(report, handle))
        written = outputs.commit()
        apart = (tmp_path / 'apart.csv').read_bytes().decode('utf-8')
        assert sorted(os.path.basename(path) for path in written) == ['apart.csv', 'r.json']
        assert apart == here.getvalue() and apart.count('\r\n') == 3, 'the header and the two overdue findings'
        # The parent's connection still reads after the child is gone.
        assert list(rows(report, 'overdue')) and multiprocessing.active_children() == []

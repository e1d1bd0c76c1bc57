"""The patch_report action plugin, run through ansible-playbook on localhost."""

from __future__ import annotations

import json
import os

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_copy import copy_database
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import run_task
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils import report_fleet
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.test_report_data import unwritable_directory
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD

FILES = ['patch-report-changes.csv', 'patch-report-exceptions.csv', 'patch-report-findings.csv', 'patch-report-hosts.csv',
         'patch-report-overdue.csv', 'patch-report.html', 'patch-report.json']


def _play(tmp_path, db, dest, *, options='', check=False, before=''):
    task = ('%s'
            '    - patchwise.patching.patch_report:\n'
            '        asset_db: "%s"\n'
            '        dest: "%s"\n'
            '        as_of: "%s"\n'
            '%s'
            '      register: outcome\n' % (before, db, dest, report_fleet.NOW, options))
    return run_task(tmp_path, task, check)


def _fleet(tmp_path):
    return report_fleet.build(str(tmp_path / 'assets.db'))


def test_report_written_once_then_unchanged(tmp_path):
    db = _fleet(tmp_path)
    dest = tmp_path / 'reports'
    dest.mkdir()
    process, result = _play(tmp_path, db, dest, check=True)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True and result['files'] == [] and os.listdir(dest) == []

    process, result = _play(tmp_path, db, dest)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True and sorted(os.path.basename(path) for path in result['files']) == FILES
    assert sorted(os.listdir(dest)) == FILES, 'no temporary file is left'
    assert result['summary'] == {'hosts': 4, 'compliant': 2, 'non_compliant': 1, 'stale': 1, 'open': 4, 'overdue': 2, 'kev_overdue': 1,
                                 'accepted': 1}
    document = json.loads((dest / 'patch-report.json').read_text(encoding='utf-8'))
    assert document['schema'] == result['schema'] == 1 and document['content_digest'] == result['content_digest']
    assert result['audit']['checked'] is False

    process, result = _play(tmp_path, db, dest)
    assert process.returncode == 0 and result['changed'] is False and result['content_changed'] is False, result


def test_report_of_a_postgresql_asset_database(tmp_path, postgresql_server, monkeypatch):
    monkeypatch.setenv('PGPASSWORD', PASSWORD)
    url = postgresql_server.database('report_action_%d' % os.getpid())
    copy_database(_fleet(tmp_path), url)
    dest = tmp_path / 'reports'
    dest.mkdir()
    process, result = _play(tmp_path, url, dest)
    assert process.returncode == 0, process.stdout + process.stderr
    assert sorted(os.listdir(dest)) == FILES and result['summary']['overdue'] == 2 and result['summary']['kev_overdue'] == 1
    assert json.loads((dest / 'patch-report.json').read_text(encoding='utf-8'))['asset_db'] == url
    assert PASSWORD not in process.stdout + process.stderr


def test_a_check_run_on_a_fresh_environment_reports_nothing_yet_and_a_real_run_refuses(tmp_path):
    missing = tmp_path / 'state' / 'assets.db'
    dest = tmp_path / 'reports'
    process, result = _play(tmp_path, missing, dest, check=True)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True and result['files'] == [] and result['audit']['checked'] is False
    assert 'does not exist yet' in result['msg']
    assert not (tmp_path / 'state').exists() and not dest.exists(), 'a check run creates nothing'
    dest.mkdir()
    process, result = _play(tmp_path, missing, dest)
    assert process.returncode != 0 and 'the asset database does not exist' in process.stdout, process.stdout
    assert not missing.exists()


def test_formats_filters_and_time_range(tmp_path):
    db = _fleet(tmp_path)
    before = ('    - ansible.builtin.add_host: {name: web01, groups: webservers}\n'
              '      changed_when: false\n')
    process, result = _play(tmp_path, db, tmp_path, before=before, options=(
        '        formats: [json]\n'
        '        basename: web\n'
        '        groups: [webservers]\n'
        '        hosts: ["app*"]\n'
        '        since: "2026-11-19"\n'
        '        until: "2026-11-20"\n'))
    assert process.returncode == 0, process.stdout + process.stderr
    assert [os.path.basename(path) for path in result['files']] == ['web.json']
    document = json.loads((tmp_path / 'web.json').read_text(encoding='utf-8'))
    assert sorted(host['host'] for host in document['hosts']) == ['app01', 'web01']
    assert document['filters']['groups'] == ['webservers'] and document['filters']['patterns'] == ['app*']
    assert [host['host'] for host in document['changes']['hosts']] == ['web01']
    assert document['changes']['since'] == '2026-11-19T00:00:00Z' and document['changes']['until'] == '2026-11-20T23:59:59Z'


def _refused(tmp_path, db, dest, options, expected):
    process, result = _play(tmp_path, db, dest, options=options)
    assert process.returncode != 0, process.stdout
    assert expected in process.stdout, process.stdout
    assert result is None
    return process


def test_bad_input_fails_and_writes_nothing(tmp_path):
    db = _fleet(tmp_path)
    dest = tmp_path / 'reports'
    dest.mkdir()
    _refused(tmp_path, db, dest, '        groups: [webservers, all]\n', 'unknown inventory group webservers')
    _refused(tmp_path, db, dest, '        hosts: ["nothing*"]\n', 'selects none of the 4 hosts')
    _refused(tmp_path, db, dest, '        since: "last tuesday"\n', "since: 'last tuesday' is not a date")
    empty = tmp_path / 'empty.db'
    empty.write_bytes(b'')
    _refused(tmp_path, empty, dest, '', 'is an empty SQLite file, not an asset database')
    advisory = report_fleet.advisory_kind(str(tmp_path / 'advisories.db'))
    _refused(tmp_path, advisory, dest, '', 'is an advisory database, not an asset database')
    _refused(tmp_path, db, tmp_path / 'missing', '', 'the output directory does not exist')
    assert os.listdir(dest) == []
    unwritable = unwritable_directory(tmp_path)
    _refused(tmp_path, db, unwritable, '', unwritable)
    assert not any(name.startswith(('patch-report', '.patch-report')) for name in os.listdir(unwritable))


def test_failed_report_keeps_the_previous_one(tmp_path):
    db = _fleet(tmp_path)
    process, _result = _play(tmp_path, db, tmp_path, options='        formats: [html]\n')
    assert process.returncode == 0, process.stdout
    before = (tmp_path / 'patch-report.html').read_bytes()
    advisory = report_fleet.advisory_kind(str(tmp_path / 'advisories.db'))
    _refused(tmp_path, advisory, tmp_path, '        formats: [html]\n', 'not an asset database')
    assert (tmp_path / 'patch-report.html').read_bytes() == before

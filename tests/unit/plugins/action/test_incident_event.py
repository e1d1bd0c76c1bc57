# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The incident_event action run by ansible-playbook for two hosts, posting to a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

from ansible_collections.patchwise.patching.plugins.plugin_utils.incident_events import incident_id
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import COLLECTIONS_ROOT
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD


def _play(tmp_path, hosts, run_id, tasks, *, check=False, environment=None):
    """Run ``tasks`` (each registering a name) on ``hosts`` (local, no connection needed); results per host and name,
    and the ansible-playbook process."""
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text(json.dumps({'all': {'hosts': {host: {'ansible_connection': 'local',
                                                              'ansible_python_interpreter': sys.executable}
                                                       for host in hosts}}}))
    results = tmp_path / 'results'
    results.mkdir(exist_ok=True)
    names = [task['register'] for task in tasks]
    collect = '{%s}' % ', '.join('"%s": %s' % (name, name) for name in names)
    entries = [dict(task, ignore_errors=True) for task in tasks] + [
        {'ansible.builtin.copy': {'content': '{{ %s | to_json }}' % collect,
                                  'dest': '%s/{{ inventory_hostname }}.json' % results},
         'check_mode': False, 'delegate_to': 'localhost'}]
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{'name': 'patch batch 1', 'hosts': 'all', 'gather_facts': False,
                                     'vars': {'patchwise_run_id': run_id, 'patchwise_change_ref': 'CHG-42'},
                                     'tasks': entries}]))
    # HOME in the test's folder: the default state file ~/.ansible/patchwise/incidents.json stays out of the real one.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1', HOME=str(tmp_path))
    env.pop('PATCHWISE_RUN_ID', None)
    env.pop('PATCHWISE_AUDIT_LOG', None)
    env.pop('PATCHWISE_ASSET_DB', None)
    env.update(environment or {})
    command = [sys.executable, '-m', 'ansible.cli.playbook', '-i', str(inventory), str(playbook)]
    process = subprocess.run(command + (['--check'] if check else []), env=env, capture_output=True, text=True,
                             check=False)
    outcome = {}
    for host in hosts:
        path = results / ('%s.json' % host)
        assert path.exists(), process.stdout + process.stderr
        outcome[host] = json.loads(path.read_text())
        path.unlink()
    return outcome, process


def _task(name, **args):
    return {'patchwise.patching.incident_event': args, 'register': name}


def test_one_event_per_run_and_host_and_one_per_stopped_rollout(webhook_receiver, tmp_path):
    audit_log = str(tmp_path / 'audit.jsonl')
    failure = {'url': webhook_receiver.url, 'step': 'Install security updates', 'reason': 'dpkg returned 100',
               'audit_log': audit_log, 'audit_seq': [10, 14], 'retries': 0}
    outcome, process = _play(tmp_path, ['web1', 'web2'], 'run-A', [
        _task('first', **failure), _task('again', **failure),
        _task('stopped', url=webhook_receiver.url, kind='rollout_stopped', reason='max_fail_percentage reached')])
    home_state = tmp_path / '.ansible' / 'patchwise' / 'incidents.json'
    for host in ('web1', 'web2'):
        first, again = outcome[host]['first'], outcome[host]['again']
        assert first['changed'] and first['status'] == 'sent', process.stdout
        assert first['incident_id'] == incident_id('run-A', 'host_failed', host)
        assert not again['changed'] and again['status'] == 'already_sent'
        assert first['state_file'] == audit_log + '.incidents.json'
    stopped = sorted(outcome[host]['stopped']['status'] for host in ('web1', 'web2'))
    assert stopped in (['already_sent', 'sent'], ['in_flight', 'sent'])
    events = webhook_receiver.events()
    assert sorted((event['kind'], event['host']) for event in events) == [
        ('host_failed', 'web1'), ('host_failed', 'web2'), ('rollout_stopped', 'patch batch 1')]
    web1 = next(event for event in events if event['host'] == 'web1')
    assert web1['run_id'] == 'run-A' and web1['change_ref'] == 'CHG-42' and web1['step'] == 'Install security updates'
    assert web1['reason'] == 'dpkg returned 100'
    assert web1['audit'] == {'log': audit_log, 'seq_from': 10, 'seq_to': 14}
    assert stat.S_IMODE(os.stat(audit_log + '.incidents.json').st_mode) == 0o600
    assert list(json.loads(home_state.read_text())['incidents']) == [incident_id('run-A', 'rollout_stopped', '')]
    assert outcome['web1']['stopped']['state_file'] == str(home_state)
    # A later playbook of the same run sends nothing again.
    outcome, _process = _play(tmp_path, ['web1'], 'run-A', [_task('rerun', **failure)])
    assert outcome['web1']['rerun']['status'] == 'already_sent' and len(webhook_receiver.events()) == 3


def test_receiver_down_keeps_the_event_pending_and_a_later_call_delivers_it(webhook_receiver, tmp_path):
    state_file = str(tmp_path / 'incidents.json')
    args = {'url': webhook_receiver.url, 'state_file': state_file, 'reason': 'reboot timed out', 'retries': 1,
            'retry_delay': 0.1, 'timeout': 2}
    webhook_receiver.stop()
    tasks = [_task('down', **args), _task('strict', **dict(args, fail_on_error=True))]
    outcome, process = _play(tmp_path, ['web1'], 'run-B', tasks)
    down, strict = outcome['web1']['down'], outcome['web1']['strict']
    own = incident_id('run-B', 'host_failed', 'web1')
    assert not down.get('failed') and not down['changed'] and down['status'] == 'pending' and down['pending'] == [own]
    assert any('incident %s not delivered, kept as pending in %s' % (own, state_file) in w for w in down['warnings'])
    assert 'not delivered' in process.stdout + process.stderr
    assert strict['failed'] and 'POST %s failed after 2 attempt(s)' % webhook_receiver.url in strict['msg']
    assert json.loads((tmp_path / 'incidents.json').read_text())['incidents'][own]['status'] == 'pending'
    webhook_receiver.start()
    outcome, _process = _play(tmp_path, ['web2'], 'run-B', [_task('later', **args)])
    later = outcome['web2']['later']
    assert later['changed'] and later['status'] == 'sent' and later['pending'] == []
    assert sorted(later['delivered']) == sorted([own, incident_id('run-B', 'host_failed', 'web2')])
    assert sorted(event['host'] for event in webhook_receiver.events()) == ['web1', 'web2']


def test_check_mode_sends_nothing(webhook_receiver, tmp_path):
    state_file = tmp_path / 'incidents.json'
    outcome, _process = _play(tmp_path, ['web1'], 'run-C', [
        _task('preview', url=webhook_receiver.url, state_file=str(state_file), reason='x')], check=True)
    preview = outcome['web1']['preview']
    assert preview['status'] == 'would_send' and not preview['changed'] and preview['event']['run_id'] == 'run-C'
    assert webhook_receiver.events() == [] and not state_file.exists()


def test_with_a_postgresql_asset_database_the_state_is_there_for_the_next_job(webhook_receiver, tmp_path, postgresql_server, monkeypatch):
    """Two AWX-like jobs, each with a fresh HOME: the second finds the incident sent in the shared database."""
    monkeypatch.setenv('PGPASSWORD', PASSWORD)
    database = postgresql_server.database('incidents_%d' % os.getpid())
    task = _task('failed', url=webhook_receiver.url, reason='dpkg returned 100')
    for job in ('job-1', 'job-2'):
        home = tmp_path / job
        home.mkdir()
        outcome, process = _play(home, ['web1'], 'run-D', [task], environment={'PATCHWISE_ASSET_DB': database})
        result = outcome['web1']['failed']
        assert not result.get('failed'), process.stdout
        assert result['state_file'] == '%s (controller_state incident_event)' % database
        assert not (home / '.ansible' / 'patchwise').exists(), 'no state file under HOME'
    assert result['status'] == 'already_sent' and len(webhook_receiver.events()) == 1
    rows = postgresql_server.query(database.rsplit('/', 1)[1], "SELECT value FROM controller_state WHERE name = 'incident_event'")
    assert json.loads(rows[0][0])['incidents'][incident_id('run-D', 'host_failed', 'web1')]['status'] == 'sent'


def test_state_file_and_state_db_together_are_refused(webhook_receiver, tmp_path):
    outcome, _process = _play(tmp_path, ['web1'], 'run-E', [
        _task('both', url=webhook_receiver.url, state_file=str(tmp_path / 'incidents.json'), state_db=str(tmp_path / 'assets.db'), reason='x')])
    assert outcome['web1']['both']['failed'] and 'state_file and state_db are mutually exclusive' in outcome['web1']['both']['msg']
    assert webhook_receiver.events() == []

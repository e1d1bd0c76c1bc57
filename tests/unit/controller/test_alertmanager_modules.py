# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""alertmanager_silence and alertmanager_alerts run by ansible-playbook against a real Alertmanager on loopback.

Here (controller context) rather than under plugins/modules: ansible-test gives module tests no ansible.cli."""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys

from ansible_collections.patchwise.patching.plugins.module_utils import alertmanager as am
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import COLLECTIONS_ROOT


def _play(tmp_path, *tasks):
    """Run the tasks, each ``(register name, module, args)`` plus optional task keywords, in one playbook; the
    registered results by name (one ansible-playbook run for several steps keeps the test quick)."""
    result_file = tmp_path / 'results.json'
    entries = []
    for name, module, args, *keywords in tasks:
        entries.append(dict({module: args, 'register': name, 'ignore_errors': True}, **(keywords[0] if keywords else {})))
    names = [task[0] for task in tasks]
    collect = '{%s}' % ', '.join('"%s": %s' % (name, name) for name in names)
    entries.append({'ansible.builtin.copy': {'content': '{{ %s | to_json }}' % collect, 'dest': str(result_file)},
                    'check_mode': False})
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': entries}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1')
    process = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
                              '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)],
                             env=env, capture_output=True, text=True, check=False)
    assert result_file.exists(), process.stdout + process.stderr
    results = json.loads(result_file.read_text())
    result_file.unlink()
    return results


SILENCE = 'patchwise.patching.alertmanager_silence'
ALERTS = 'patchwise.patching.alertmanager_alerts'


def _in(minutes):
    return am.format_time(am.now() + datetime.timedelta(minutes=minutes))


def _live(alertmanager_server, silence_id):
    return {s['id']: s for s in am.Client(alertmanager_server.url).silences()}[silence_id]


def test_silence_lifecycle_and_alerts_fired_while_silenced(alertmanager_server, tmp_path):
    since = am.format_time(am.now() - datetime.timedelta(seconds=2))
    first_end, later_end = _in(60), _in(120)
    common = {'url': alertmanager_server.url, 'host': 'web1.example.com', 'run_id': 'run-7', 'change_ref': 'CHG-7'}

    steps = _play(tmp_path, ('created', SILENCE, dict(common, ends_at=first_end)),
                  ('again', SILENCE, dict(common, ends_at=first_end)),
                  ('preview', SILENCE, dict(common, ends_at=later_end), {'check_mode': True}))
    created, again, preview = steps['created'], steps['again'], steps['preview']
    assert created['changed'] and created['action'] == 'created', created
    silence_id = created['silence_id']
    assert created['silence_ids'] == [silence_id] and created['ends_at'] == first_end
    assert created['comment'] == 'patchwise patch run [run_id=run-7 change=CHG-7]'
    assert created['matchers'] == [am.matcher('instance', r'web1\.example\.com(:.*)?', True, True)]
    assert not again['changed'] and again['action'] == 'unchanged' and again['silence_id'] == silence_id
    assert preview['changed'] and preview['action'] == 'updated' and preview['ends_at'] == later_end
    live = _live(alertmanager_server, silence_id)
    assert live['status']['state'] == 'active' and live['endsAt'] == first_end
    assert live['comment'] == created['comment'] and live['createdBy'] == 'patchwise.patching'

    moved = _play(tmp_path, ('moved', SILENCE, dict(common, ends_at=later_end)))['moved']
    assert moved['changed'] and moved['action'] == 'updated' and moved['silence_id'] == silence_id
    assert _live(alertmanager_server, silence_id)['endsAt'] == later_end
    assert len(am.find_silences(am.Client(alertmanager_server.url).silences(), created['matchers'], marker='run_id=run-7')) == 1

    # An alarm of the host while it is silenced for patching.
    am.Client(alertmanager_server.url).post_alerts([{
        'labels': {'alertname': 'ServiceDown', 'instance': 'web1.example.com:9100', 'job': 'node'},
        'annotations': {'summary': 'nginx down during restart'}, 'startsAt': am.format_time(am.now())}])
    query = {'url': alertmanager_server.url, 'host': 'web1.example.com'}
    hour_ago = am.format_time(am.now() - datetime.timedelta(hours=1))
    steps = _play(tmp_path,
                  ('alerts', ALERTS, dict(query, since=since),
                   {'until': 'alerts.count == 1 and alerts.alerts[0].silenced_by | length > 0', 'retries': 40, 'delay': 0.5}),
                  ('before', ALERTS, dict(query, since=hour_ago, until=since)),
                  ('unsilenced_only', ALERTS, dict(query, since=since, silenced=False)),
                  ('would_expire', SILENCE, dict(common, state='absent'), {'check_mode': True}))
    alerts = steps['alerts']
    assert alerts['count'] == 1 and not alerts['changed'], alerts
    alert = alerts['alerts'][0]
    assert alert['labels'] == {'alertname': 'ServiceDown', 'instance': 'web1.example.com:9100', 'job': 'node'}
    assert alert['summary'] == 'nginx down during restart' and alert['state'] == 'suppressed'
    assert alert['silenced_by'] == [silence_id] and len(alert['fingerprint']) == 16
    assert am.parse_time(since) <= am.parse_time(alert['starts_at']) <= am.now()
    assert steps['before']['count'] == 0 and steps['before']['alerts'] == []
    assert steps['unsilenced_only']['count'] == 0
    assert steps['would_expire']['changed'] and steps['would_expire']['silence_ids'] == [silence_id]
    assert _live(alertmanager_server, silence_id)['status']['state'] == 'active'

    steps = _play(tmp_path, ('expired', SILENCE, dict(common, state='absent')),
                  ('gone', SILENCE, dict(common, state='absent')))
    expired, gone = steps['expired'], steps['gone']
    assert expired['changed'] and expired['action'] == 'expired' and expired['silence_ids'] == [silence_id]
    assert _live(alertmanager_server, silence_id)['status']['state'] == 'expired'
    assert not gone['changed'] and gone['action'] == 'none' and gone['silence_ids'] == []


def test_silence_by_duration_with_given_matchers_is_reused_within_a_minute(alertmanager_server, tmp_path):
    args = {'url': alertmanager_server.url, 'matchers': ['job="batch"', {'name': 'hostname', 'value': 'db1'}], 'duration': '2h',
            'comment': 'kernel update'}
    without_duration = {k: v for k, v in args.items() if k != 'duration'}
    steps = _play(tmp_path, ('created', SILENCE, args), ('again', SILENCE, args),
                  ('longer', SILENCE, dict(args, duration='3h')),
                  ('other_comment', SILENCE, dict(args, comment='another job')),
                  ('expired', SILENCE, dict(without_duration, state='absent')))
    created = steps['created']
    assert created['changed'] and created['comment'] == 'kernel update'
    assert abs((am.parse_time(created['ends_at']) - am.now()).total_seconds() - 7200) < 120
    assert not steps['again']['changed'] and steps['again']['silence_id'] == created['silence_id']
    longer = steps['longer']
    assert longer['changed'] and longer['action'] == 'updated' and longer['silence_id'] == created['silence_id']
    other = steps['other_comment']
    assert other['action'] == 'created' and other['silence_id'] != created['silence_id']
    assert steps['expired']['silence_ids'] == [created['silence_id']]
    assert _live(alertmanager_server, created['silence_id'])['status']['state'] == 'expired'
    assert _live(alertmanager_server, other['silence_id'])['status']['state'] == 'active'


def test_errors_fail_the_task_naming_the_url(tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed = 'http://127.0.0.1:%d' % sock.getsockname()[1]
    steps = _play(tmp_path, ('unreachable', SILENCE, {'url': closed, 'host': 'web1', 'duration': '1h'}),
                  ('bad_time', ALERTS, {'url': closed, 'host': 'web1', 'since': 'yesterday'}),
                  ('no_end', SILENCE, {'url': closed, 'host': 'web1'}))
    assert steps['unreachable']['failed'] and 'GET %s/api/v2/silences' % closed in steps['unreachable']['msg']
    assert steps['bad_time']['failed'] and 'not a time' in steps['bad_time']['msg']
    assert steps['no_end']['failed'] and 'needs ends_at or duration' in steps['no_end']['msg']

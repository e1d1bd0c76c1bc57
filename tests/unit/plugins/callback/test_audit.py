# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""End to end: a real ansible-playbook run with the callback enabled, then the verifier on its log."""

from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess
import sys

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import verify_lines

COLLECTIONS_ROOT = pathlib.Path(__file__).resolve().parents[7]

PLAYBOOK = """
- name: Audited play
  hosts: all
  gather_facts: false
  tasks:
    - name: Show a URL with credentials and the run id
      ansible.builtin.debug:
        msg: "https://bob:hunter2@example.com/x?token=abc123 {{ lookup('ansible.builtin.env', 'PATCHWISE_RUN_ID') }}"
    - name: Secret fact
      ansible.builtin.set_fact:
        password: s3cretfact
    - name: Hidden command
      ansible.builtin.command: echo topsecretoutput
      changed_when: true
      no_log: true
    - name: Fail one host
      ansible.builtin.fail:
        msg: boom
      when: inventory_hostname == 'h2'
"""


def _run(tmp_path, extra_env=None, extra_args=()):
    playbook = tmp_path / 'pb.yml'
    playbook.write_text(PLAYBOOK)
    log = tmp_path / 'audit' / 'log.jsonl'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit',
               PATCHWISE_AUDIT_LOG=str(log), ANSIBLE_HOST_KEY_CHECKING='false', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'))
    env.pop('PATCHWISE_RUN_ID', None)
    env.update(extra_env or {})
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'h1,h2,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, *extra_args, str(playbook)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr  # h2 fails on purpose
    return log


def test_records_chain_secrets_and_mode(tmp_path):
    log = _run(tmp_path, {'PATCHWISE_AUDIT_HMAC_KEY': 'hmac-k3y-value'}, ('-e', 'awx_user_name=alice'))
    text = log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    for secret in ('hunter2', 'abc123', 's3cretfact', 'topsecretoutput', 'hmac-k3y-value'):
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines()]
    events = [r['event'] for r in records]
    assert events[0] == 'playbook_start' and events[1] == 'play_start' and events[-1] == 'playbook_end'
    assert len({r['run_id'] for r in records}) == 1
    assert all(r['operator'] == 'alice' for r in records)
    results = {(r['task'], r['host']): r for r in records if r['event'] == 'host_result'}
    assert results[('Fail one host', 'h2')]['status'] == 'failed'
    assert results[('Fail one host', 'h1')]['status'] == 'skipped'
    assert results[('Hidden command', 'h1')]['status'] == 'changed'
    assert results[('Hidden command', 'h1')]['summary'] == 'censored: no_log task'
    # the exported run id reached the task through the environment lookup
    assert records[0]['run_id'] in results[('Show a URL with credentials and the run id', 'h1')]['summary']['msg']
    assert verify_lines(text.splitlines(), key='hmac-k3y-value')['valid']
    assert not verify_lines(text.splitlines(), key='other')['valid']
    assert [r['seq'] for r in records] == list(range(1, len(records) + 1))
    # forwarding not configured: no spool appears next to the log
    assert not (log.parent / 'log.jsonl.spool').exists()


def test_awx_job_id_is_the_run_id_and_second_run_continues_chain(tmp_path):
    log = _run(tmp_path, {'JOB_ID': '4711'})
    first_count = len(log.read_text().splitlines())
    _run(tmp_path, {'JOB_ID': '4712'})
    lines = log.read_text().splitlines()
    assert json.loads(lines[0])['run_id'] == 'awx-4711' and json.loads(lines[-1])['run_id'] == 'awx-4712'
    assert verify_lines(lines) == {'valid': True, 'records': len(lines), 'head': json.loads(lines[-1])['hash'],
                                   'first_bad_line': None, 'reason': '', 'breaks': []}
    assert len(lines) == 2 * first_count
    assert json.loads(lines[first_count])['seq'] == first_count + 1  # positions continue across runs

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""End to end: the audit trail fails closed - a log that cannot be opened, locked, continued or written stops
the run before its next task, one run writes at a time, and a broken chain is never silently forked."""

from __future__ import annotations

import fcntl
import json
import os
import pathlib
import resource
import signal
import stat
import subprocess
import sys
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import verify_lines
from ansible_collections.patchwise.patching.tests.unit.loopback import free_port
from ansible_collections.patchwise.patching.tests.unit.process_tree import kill_tree

COLLECTIONS_ROOT = pathlib.Path(__file__).resolve().parents[7]

PLAYBOOK = """
- name: Audited play
  hosts: all
  gather_facts: false
  tasks:
    - name: Mark that tasks ran
      ansible.builtin.copy:
        content: ran
        dest: "{{ marker }}"
        mode: "0600"
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
"""

# Only action-side tasks (debug): nothing but the audit log grows while the file size limit applies.
LONG_PLAYBOOK = """
- name: Many tasks
  hosts: localhost
  gather_facts: false
  tasks:
""" + ''.join("""    - name: Task %d
      ansible.builtin.debug:
        msg: "%s"
""" % (n, 'x' * 200) for n in range(40))


def _run(tmp_path, log, playbook=PLAYBOOK, extra_env=None, limit_file_size=None, *, own_group=False):
    book = tmp_path / 'pb.yml'
    book.write_text(playbook)
    marker = tmp_path / 'marker'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit',
               PATCHWISE_AUDIT_LOG=str(log), ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), ANSIBLE_NOCOLOR='1',
               PATCHWISE_AUDIT_LOCK_TIMEOUT='120')
    env.pop('PATCHWISE_RUN_ID', None)
    env.update(extra_env or {})

    def limit():
        # Writes past the limit fail with EFBIG instead of killing the process (SIGXFSZ ignored).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.Popen([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
                             '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', 'marker=%s' % marker, str(book)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=limit if limit_file_size else None,  # noqa: PLW1509 - the test starts no threads
                            # A run to be killed leads a process group of its own, so its forked workers die with it.
                            start_new_session=own_group)


def _finish(process):
    output, _stderr = process.communicate(timeout=300)
    return process.returncode, output


def _good_log(tmp_path, key=None):
    log = tmp_path / 'audit' / 'log.jsonl'
    code, output = _finish(_run(tmp_path, log, extra_env={'PATCHWISE_AUDIT_HMAC_KEY': key} if key else None))
    assert code == 0, output
    (tmp_path / 'marker').unlink()
    return log


@pytest.mark.parametrize('where', ['directory is a file', 'log is a directory'])
def test_a_log_that_cannot_be_opened_stops_the_run_before_any_task(tmp_path, where):
    (tmp_path / 'blocker').write_text('')
    log = tmp_path / 'blocker' / 'log.jsonl' if where == 'directory is a file' else tmp_path
    code, output = _finish(_run(tmp_path, log))
    assert code == 1, output
    assert 'cannot open the audit log for appending' in output and str(log) in output and 'fail_closed' in output
    assert not (tmp_path / 'marker').exists()


def test_without_fail_closed_the_run_goes_on_unaudited_and_says_so(tmp_path):
    (tmp_path / 'blocker').write_text('')
    code, output = _finish(_run(tmp_path, tmp_path / 'blocker' / 'log.jsonl', extra_env={'PATCHWISE_AUDIT_FAIL_CLOSED': 'false'}))
    assert code == 0, output
    assert 'UNAUDITED' in output and (tmp_path / 'marker').exists()


def test_an_altered_log_is_not_appended_to(tmp_path):
    log = _good_log(tmp_path)
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace('"Audited play"', '"Another play"')
    log.write_text('\n'.join(lines) + '\n')
    before = log.read_bytes()
    code, output = _finish(_run(tmp_path, log))
    assert code == 1 and 'does not verify: line 2 was altered' in output and 'Refusing to append' in output, output
    assert log.read_bytes() == before and not (tmp_path / 'marker').exists()


@pytest.mark.parametrize(('written_with', 'run_with'), [('k3y-one', 'k3y-two'), ('k3y-one', None), (None, 'k3y-one')])
def test_a_wrong_or_missing_key_is_named_and_nothing_is_appended(tmp_path, written_with, run_with):
    log = _good_log(tmp_path, written_with)
    before = log.read_bytes()
    code, output = _finish(_run(tmp_path, log, extra_env={'PATCHWISE_AUDIT_HMAC_KEY': run_with} if run_with else None))
    assert code == 1 and 'wrong or missing key' in output, output
    assert log.read_bytes() == before
    for key in (written_with, run_with):
        assert not key or key not in output


def test_a_truncated_last_line_is_not_continued(tmp_path):
    log = _good_log(tmp_path)
    log.write_bytes(log.read_bytes()[:-40])
    code, output = _finish(_run(tmp_path, log))
    assert code == 1 and 'is not valid JSON (truncated or edited)' in output, output


def test_new_segment_continues_after_a_chain_break_record(tmp_path):
    log = _good_log(tmp_path)
    first = log.read_text().splitlines()
    log.write_text('\n'.join([*first[:-1], first[-1].replace('"ok"', '"OK"')]) + '\n')
    code, output = _finish(_run(tmp_path, log, extra_env={'PATCHWISE_AUDIT_ON_BROKEN_CHAIN': 'new_segment'}))
    assert code == 0, output
    assert 'a chain_break record starts a new segment' in output
    lines = log.read_text().splitlines()
    record = json.loads(lines[len(first)])
    assert record['event'] == 'chain_break' and record['after_line'] == len(first) and 'line %d' % len(first) in record['reason']
    assert record['seq'] == len(first) + 1
    assert verify_lines(lines, since_last_break=True)['valid']
    whole = verify_lines(lines)
    assert not whole['valid'] and whole['breaks'][0]['line'] == len(first) + 1
    # The next run continues the new segment without another break.
    code, output = _finish(_run(tmp_path, log))
    assert code == 0 and 'chain_break' not in output, output


def test_an_existing_world_readable_log_becomes_owner_only(tmp_path):
    log = _good_log(tmp_path)
    os.chmod(log, 0o644)
    code, output = _finish(_run(tmp_path, log))
    assert code == 0, output
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_two_runs_at_once_write_one_chain(tmp_path):
    log = tmp_path / 'audit' / 'log.jsonl'
    processes = [_run(tmp_path, log, playbook=LONG_PLAYBOOK) for _run_number in range(2)]
    for process in processes:
        code, output = _finish(process)
        assert code == 0, output
    lines = log.read_text().splitlines()
    assert verify_lines(lines) == {'valid': True, 'records': len(lines), 'head': json.loads(lines[-1])['hash'],
                                   'first_bad_line': None, 'reason': '', 'breaks': []}
    runs = [json.loads(line)['run_id'] for line in lines]
    # One run's records, then the other's: the lock serialises whole runs.
    assert runs == sorted(runs, key=runs.index) and len(set(runs)) == 2 and runs.index(runs[-1]) == len(lines) // 2


def test_a_held_lock_refuses_after_the_timeout(tmp_path):
    log = _good_log(tmp_path)
    before = log.read_bytes()
    with open(log, 'ab') as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        code, output = _finish(_run(tmp_path, log, extra_env={'PATCHWISE_AUDIT_LOCK_TIMEOUT': '1'}))
    assert code == 1 and 'another run is writing this audit log; waited 1 s for it (lock_timeout)' in output, output
    assert log.read_bytes() == before and not (tmp_path / 'marker').exists()


def test_a_write_failure_mid_run_stops_the_run(tmp_path):
    log = tmp_path / 'audit' / 'log.jsonl'
    code, output = _finish(_run(tmp_path, log, playbook=LONG_PLAYBOOK, limit_file_size=6000))
    assert code == 1, output
    assert 'cannot append to the audit log' in output and 'The run stops here' in output
    assert 'Task 39' not in output
    # What was written before the failure still verifies.
    text = log.read_text()
    assert verify_lines(text.splitlines()[:-1] if not text.endswith('\n') else text.splitlines())['valid']


SECRETS_PLAYBOOK = """
- name: Play with secrets
  hosts: all
  gather_facts: false
  vars:
    api_token: play-t0ken-value
    derived_password: "{{ 'derived-' ~ 'passw0rd' }}"
  tasks:
    - name: Connect to db with {{ db_password }}
      ansible.builtin.debug:
        msg: "connecting with {{ db_password }} and {{ api_token }} and {{ derived_password }}"
    - name: Fetch a session secret
      ansible.builtin.set_fact:
        fetched: fetched-s3cret-value
      no_log: true
    - name: Print it by accident
      ansible.builtin.command: sh -c 'echo {{ fetched }} {{ host_secret }} >&2; exit 3'
      failed_when: false
"""


def test_secret_values_are_masked_in_names_messages_and_stderr(tmp_path):
    log = tmp_path / 'audit' / 'log.jsonl'
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ssh_key_passphrase: host-s3cret-passphrase\n'
                         '      host_secret: "{{ ssh_key_passphrase }}"\n')
    book = tmp_path / 'pb.yml'
    book.write_text(SECRETS_PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit',
               PATCHWISE_AUDIT_LOG=str(log), ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), ANSIBLE_NOCOLOR='1')
    process = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', str(inventory), '-e', 'db_password=extra-s3cret-value',
                              '-e', 'ansible_python_interpreter=%s' % sys.executable, str(book)],
                             env=env, capture_output=True, text=True, timeout=300, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    text = log.read_text()
    for secret in ('extra-s3cret-value', 'play-t0ken-value', 'derived-passw0rd', 'fetched-s3cret-value', 'host-s3cret-passphrase'):
        assert secret not in text, secret
    records = [json.loads(line) for line in text.splitlines()]
    names = {r.get('task') for r in records}
    assert 'Connect to db with ********' in names
    stderr = next(r['summary']['stderr'] for r in records if r.get('task') == 'Print it by accident' and r['event'] == 'host_result')
    assert stderr == '******** ********'
    assert verify_lines(text.splitlines())['valid']


@pytest.mark.parametrize('on_full', ['drop_oldest', 'refuse'])
def test_a_full_webhook_spool_drops_with_a_count_or_stops_the_run(tmp_path, on_full):
    log = tmp_path / 'audit' / 'log.jsonl'
    # Nothing listens on this port: every event stays in the spool.
    env = {'PATCHWISE_AUDIT_WEBHOOK_URL': 'http://127.0.0.1:%d/events' % free_port(), 'PATCHWISE_AUDIT_SPOOL_MAX_BYTES': '4096',
           'PATCHWISE_AUDIT_SPOOL_ON_FULL': on_full, 'PATCHWISE_AUDIT_WEBHOOK_FLUSH_TIMEOUT': '0'}
    code, output = _finish(_run(tmp_path, log, playbook=LONG_PLAYBOOK, extra_env=env))
    if on_full == 'drop_oldest':
        assert code == 0 and 'undelivered event(s) were dropped, oldest first' in output, output
        spooled = (tmp_path / 'audit' / 'log.jsonl.spool' / 'events.jsonl').read_text()
        assert '"type":"spool_dropped"' in spooled and '"type":"chain_head"' in spooled
    else:
        assert code == 1 and '(spool_max_bytes)' in output and 'The run stops here' in output, output
        assert 'Task 39' not in output
    assert verify_lines(log.read_text().splitlines())['valid']


def test_a_run_killed_mid_write_leaves_a_log_the_next_run_handles(tmp_path):
    log = tmp_path / 'audit' / 'log.jsonl'
    slow = LONG_PLAYBOOK.replace('ansible.builtin.debug:\n        msg: "%s"' % ('x' * 200), 'ansible.builtin.pause:\n        seconds: 1')
    process = _run(tmp_path, log, playbook=slow, own_group=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not log.exists() or log.read_text().count('\n') < 6):
        time.sleep(0.05)
    # The whole tree (workers leave the group): a worker left running would keep the output pipe open (and the run
    # half alive), and outlive the tests.
    kill_tree(process.pid)
    process.communicate(timeout=60)
    text = log.read_bytes()
    assert text.count(b'\n') >= 6
    # The kill released the lock: the workers the killed run forked never held the log, so the next run goes
    # ahead at once (a lock timeout of 2 s is plenty).
    code, output = _finish(_run(tmp_path, log, extra_env={'PATCHWISE_AUDIT_LOCK_TIMEOUT': '2'}))
    if text.endswith(b'\n'):
        assert code == 0, output
        assert verify_lines(log.read_text().splitlines())['valid']
    else:
        assert code == 1 and 'its last line is incomplete' in output, output
        assert log.read_bytes() == text

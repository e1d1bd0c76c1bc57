# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The audit callback keeps each run's final chain head in the asset database (SQLite and the test PostgreSQL), and
audit_verify's expected_head_db checks the log against it: a cut tail no longer matches."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_head_store import HeadStoreError, document_name, stored_head
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import COLLECTIONS_ROOT

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: one
    - ansible.builtin.debug:
        msg: two
"""

VERIFY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - patchwise.patching.audit_verify:
        path: "{{ log }}"
        expected_head_db: "{{ head_db }}"
        fail_on_invalid: false
      register: verified
    - ansible.builtin.copy:
        content: "{{ verified | to_json }}"
        dest: "{{ out }}"
"""


def _run(tmp_path, text, env, *extra):
    playbook = tmp_path / ('play-%d.yml' % len(list(tmp_path.glob('play-*.yml'))))
    playbook.write_text(text)
    return subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, *extra, str(playbook)],
                          env=env, capture_output=True, text=True, check=False)


def _env(tmp_path, **extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_NOCOLOR='1', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'))
    for name in ('PATCHWISE_RUN_ID', 'PATCHWISE_ASSET_DB', 'PATCHWISE_AUDIT_HEAD_DB', 'PATCHWISE_AUDIT_LOG'):
        env.pop(name, None)
    env.update(extra)
    return env


def _verify(tmp_path, log, head_db):
    out = tmp_path / 'verified.json'
    process = _run(tmp_path, VERIFY, _env(tmp_path), '-e', 'log=%s' % log, '-e', 'head_db=%s' % head_db, '-e', 'out=%s' % out)
    assert process.returncode == 0, process.stdout + process.stderr
    return json.loads(out.read_text())


def test_each_run_records_its_head_and_a_cut_tail_is_caught(tmp_path, asset_db):
    log = tmp_path / 'audit' / 'log.jsonl'
    # A PostgreSQL asset database is the head database by default; SQLite only when named.
    head_setting = {'PATCHWISE_ASSET_DB': asset_db} if '://' in asset_db else {'PATCHWISE_AUDIT_HEAD_DB': asset_db}
    env = _env(tmp_path, ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit', PATCHWISE_AUDIT_LOG=str(log), **head_setting)
    for run in ('run-1', 'run-2'):
        process = _run(tmp_path, PLAYBOOK, dict(env, PATCHWISE_RUN_ID=run))
        assert process.returncode == 0, process.stdout + process.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    head = stored_head(asset_db, str(log))
    assert (head['run_id'], head['seq'], head['hash']) == ('run-2', records[-1]['seq'], records[-1]['hash'])
    assert _verify(tmp_path, log, asset_db)['valid'] is True

    log.write_text(''.join(line + '\n' for line in log.read_text().splitlines()[:-2]))
    verified = _verify(tmp_path, log, asset_db)
    assert verified['valid'] is False and 'were cut from the end' in verified['reason'], verified


def test_an_sqlite_asset_database_alone_records_no_head(tmp_path):
    """Without head_db, only a PostgreSQL PATCHWISE_ASSET_DB is written to at the end of a run."""
    log, database = tmp_path / 'log.jsonl', tmp_path / 'assets.db'
    env = _env(tmp_path, ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit', PATCHWISE_AUDIT_LOG=str(log), PATCHWISE_ASSET_DB=str(database))
    assert _run(tmp_path, PLAYBOOK, env).returncode == 0
    assert not database.exists()
    with pytest.raises(HeadStoreError, match=r'no chain head of .* is recorded in'):
        stored_head(str(database), str(log))


def test_a_head_database_that_cannot_be_written_is_a_warning(tmp_path):
    log = tmp_path / 'log.jsonl'
    env = _env(tmp_path, ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit', PATCHWISE_AUDIT_LOG=str(log),
               PATCHWISE_AUDIT_HEAD_DB=str(log))   # the audit log itself: not a database
    process = _run(tmp_path, PLAYBOOK, env)
    assert process.returncode == 0, process.stdout + process.stderr
    assert 'the chain head was not stored in the head database' in process.stdout + process.stderr
    assert document_name('~/x.jsonl') == 'audit_head:%s' % os.path.join(os.path.expanduser('~'), 'x.jsonl')

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The audit callback hands the webhook events a run could not deliver to the asset database (spool_db), and the
next run - with a fresh local spool, as an AWX job in a new container has - sends them first (SQLite and the test
PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool_store import document_name
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import COLLECTIONS_ROOT
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.audit_receivers import deduplicated

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: hello
"""


def _run(tmp_path, job, env):
    """One job: its own audit log and local spool directory, as each AWX job container has."""
    job_dir = tmp_path / job
    job_dir.mkdir()
    playbook = job_dir / 'play.yml'
    playbook.write_text(PLAYBOOK)
    job_env = dict(env, PATCHWISE_RUN_ID=job, PATCHWISE_AUDIT_LOG=str(job_dir / 'audit.jsonl'), ANSIBLE_LOCAL_TEMP=str(job_dir / 'tmp'))
    process = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'h1,h2,', '-c', 'local',
                              '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)],
                             env=job_env, capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    records = [json.loads(line) for line in (job_dir / 'audit.jsonl').read_text().splitlines()]
    return ' '.join((process.stdout + process.stderr).split()), records


def _env(url, **extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit',
               ANSIBLE_NOCOLOR='1', no_proxy='127.0.0.1', PATCHWISE_AUDIT_WEBHOOK_URL=url, PATCHWISE_AUDIT_WEBHOOK_FLUSH_TIMEOUT='1',
               PATCHWISE_AUDIT_WEBHOOK_TIMEOUT='1')
    for name in ('PATCHWISE_ASSET_DB', 'PATCHWISE_AUDIT_SPOOL_DB', 'PATCHWISE_AUDIT_SPOOL_DIR', 'PATCHWISE_AUDIT_HEAD_DB'):
        env.pop(name, None)
    env.update(extra)
    return env


def _kept(asset_db, url):
    with AssetStore(asset_db, readonly=True) as store:
        return (store.state_document(document_name(url)) or {}).get('events')


def test_a_job_sends_first_what_an_earlier_job_kept_in_the_database(tmp_path, asset_db, webhook_receiver):
    # A PostgreSQL asset database is the spool database by default; SQLite only when named.
    setting = {'PATCHWISE_ASSET_DB': asset_db} if '://' in asset_db else {'PATCHWISE_AUDIT_SPOOL_DB': asset_db}
    env = _env(webhook_receiver.url, **setting)
    webhook_receiver.stop()
    output, first = _run(tmp_path, 'job-1', env)
    assert 'not yet delivered to the webhook' in output and 'they stay in the spool database' in output, output
    kept = _kept(asset_db, webhook_receiver.url)
    assert [json.loads(event)['event_id'] for event in kept] == ['job-1:%d' % r['seq'] for r in first] + ['job-1:head']
    # The webhook URL is kept by its digest only: a token in it never reaches the database.
    assert webhook_receiver.url not in json.dumps(kept)

    webhook_receiver.start()
    # The endpoint is up: the flush ends once everything is delivered, and a short timeout would only fail a loaded machine.
    output, second = _run(tmp_path, 'job-2', dict(env, PATCHWISE_AUDIT_WEBHOOK_FLUSH_TIMEOUT='60', PATCHWISE_AUDIT_WEBHOOK_TIMEOUT='30'))
    assert 'not yet delivered' not in output, output
    expected = ['job-1:%d' % r['seq'] for r in first] + ['job-1:head'] + ['job-2:%d' % r['seq'] for r in second] + ['job-2:head']
    assert [event['event_id'] for event in deduplicated(webhook_receiver.events())] == expected
    assert _kept(asset_db, webhook_receiver.url) == []


def test_without_a_spool_database_the_events_stay_in_the_local_spool(tmp_path, webhook_receiver):
    # An SQLite asset database is the job's own disk: it is not a spool database unless named.
    asset_db = tmp_path / 'assets.db'
    env = _env(webhook_receiver.url, PATCHWISE_ASSET_DB=str(asset_db))
    webhook_receiver.stop()
    output, _records = _run(tmp_path, 'job-1', env)
    assert 'they stay in the spool %s' % (tmp_path / 'job-1' / 'audit.jsonl.spool') in output, output
    assert not asset_db.exists()


def test_an_unreachable_spool_database_leaves_the_events_in_the_local_spool(tmp_path, webhook_receiver):
    (tmp_path / 'not-a-directory').write_text('')
    env = _env(webhook_receiver.url, PATCHWISE_AUDIT_SPOOL_DB=str(tmp_path / 'not-a-directory' / 'assets.db'))
    webhook_receiver.stop()
    output, _records = _run(tmp_path, 'job-1', env)
    assert 'could not be taken' in output and 'could not be kept in the spool database' in output, output
    assert 'they stay in the spool %s' % (tmp_path / 'job-1' / 'audit.jsonl.spool') in output, output

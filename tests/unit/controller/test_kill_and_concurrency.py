# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Killed processes and concurrent writers lose nothing: kill -9 in the middle of an advisory build (the process
and, through ansible-playbook, the worker that runs the action) and of an asset store transaction, and four
writers storing at once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from ansible_collections.patchwise.patching.plugins.plugin_utils import advisory_db
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import build
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record
from ansible_collections.patchwise.patching.tests.unit.process_tree import kill_tree

# tests/unit/controller -> the folder holding ansible_collections/
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 6)))
KEV = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'playbooks', 'files', 'feeds', 'cisa_kev_2025-08-25.json')
BUILD = ('import json, sys; sys.path.insert(0, sys.argv[1]); '
         'from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import build; '
         'build(sys.argv[2], json.loads(sys.argv[3]), force=True)')
STORE = ('import json, sys; sys.path.insert(0, sys.argv[1]); '
         'from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore; '
         'records = json.loads(open(sys.argv[3]).read()); '
         'store = AssetStore(sys.argv[2], busy_timeout=60); print(len(store.store_records(records)), flush=True)')


def _osv_feed(path, count=60000):
    """A SYNTHETIC OSV feed (generated here, not real advisories): one list document big enough to take seconds to build."""
    advisories = [{'schema_version': '1.6.0', 'id': 'PW-TEST-%06d' % number, 'modified': '2026-11-01T00:00:00Z',
                   'affected': [{'package': {'ecosystem': 'Debian:12', 'name': 'pkg%05d' % (number % 5000)},
                                 'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}, {'fixed': '1.%d-1' % number}]}]}]}
                  for number in range(count)]
    path.write_text(json.dumps(advisories))
    return str(path)


def _digest(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _scratch(directory):
    return [name for name in os.listdir(directory) if name.startswith('.advisory-db-')]


def _writing(directory):
    """The build has reached the new database file (written beside the old one, renamed over it at the end)."""
    return any(name.endswith('.sqlite') for name in _scratch(directory))


def test_a_build_killed_mid_way_leaves_the_previous_database_and_its_leftovers_go_next_time(tmp_path):
    path = str(tmp_path / 'advisories.db')
    build(path, [{'type': 'kev', 'src': KEV}])
    before = _digest(path)
    feeds = json.dumps([{'type': 'osv', 'src': _osv_feed(tmp_path / 'osv.json')}])
    process = subprocess.Popen([sys.executable, '-c', BUILD, COLLECTIONS_ROOT, path, feeds])
    try:
        assert _wait_for(lambda: _writing(str(tmp_path))), 'the build is writing'
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert _digest(path) == before, 'the previous database is untouched'
    assert _writing(str(tmp_path)), 'the killed build left its half-written database'
    result = build(path, [{'type': 'kev', 'src': KEV}], force=True)
    assert result['removed_leftovers'] and _scratch(str(tmp_path)) == []


def test_a_build_through_ansible_killed_with_its_worker_leaves_the_previous_database(tmp_path):
    path = str(tmp_path / 'advisories.db')
    build(path, [{'type': 'kev', 'src': KEV}])
    before = _digest(path)
    feed = _osv_feed(tmp_path / 'osv.json')
    (tmp_path / 'play.yml').write_text(
        '- hosts: localhost\n  gather_facts: false\n  tasks:\n'
        '    - patchwise.patching.advisory_db: {path: "%s", feeds: [{type: osv, src: "%s"}], force: true}\n' % (path, feed))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1')
    process = subprocess.Popen([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local', str(tmp_path / 'play.yml')],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert _wait_for(lambda: _writing(str(tmp_path)), timeout=120), 'the build is writing'
    finally:
        killed = kill_tree(process.pid)
        process.wait()
    # SIGKILL is delivered, not waited for: the worker is gone (or a zombie nobody reaps) a moment later.
    assert _wait_for(lambda: not any(advisory_db._owner_alive(pid) for pid in killed), timeout=10)
    assert len(killed) > 1, 'the worker that ran the action was found and killed too'
    assert _digest(path) == before, 'the previous database is untouched'
    assert _writing(str(tmp_path)), 'the killed worker left its half-written database'
    assert build(path, [{'type': 'kev', 'src': KEV}], force=True)['removed_leftovers']
    assert _scratch(str(tmp_path)) == []


def test_a_store_killed_in_its_transaction_leaves_the_database_as_it_was(tmp_path):
    path = str(tmp_path / 'assets.db')
    with AssetStore(path) as store:
        store.store_records({'web01': record()})
    packages = [{'name': 'pkg%05d' % number, 'version': '1.0-%d' % number, 'arch': 'amd64', 'source_name': 'pkg%05d' % number,
                 'source_version': '1.0-%d' % number} for number in range(3000)]
    records = {'host%04d' % number: record('host%04d' % number, packages=packages) for number in range(400)}
    (tmp_path / 'records.json').write_text(json.dumps(records))
    process = subprocess.Popen([sys.executable, '-c', STORE, COLLECTIONS_ROOT, path, str(tmp_path / 'records.json')],
                               stdout=subprocess.PIPE)
    try:
        # The transaction writes once the rollback journal appears beside the database: kill it then, mid-write (the
        # store works out every host's rows first and writes them in a few statements, which take a while here).
        assert _wait_for(lambda: os.path.exists(path + '-journal'), timeout=120)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    # A hot journal left behind: the kill did land inside the transaction, which the next connection rolls back.
    assert os.path.exists(path + '-journal'), 'the store committed before it was killed: the test proves nothing'
    with sqlite3.connect(path) as connection:
        assert connection.execute('PRAGMA integrity_check').fetchone() == ('ok',)
        assert connection.execute('SELECT name FROM hosts').fetchall() == [('web01',)], 'nothing of the killed transaction'
    with AssetStore(path) as store:
        assert store.store_records({'db01': record('db01')})['db01']['new'] is True


def test_four_writers_and_a_reader_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / 'assets.db')
    with AssetStore(path) as store:
        store.store_records({'seed': record('seed')})
    writers = []
    for writer in range(4):
        records = {'w%d-host%03d' % (writer, number): record('w%d-host%03d' % (writer, number)) for number in range(60)}
        (tmp_path / ('records-%d.json' % writer)).write_text(json.dumps(records))
        writers.append(subprocess.Popen([sys.executable, '-c', STORE, COLLECTIONS_ROOT, path, str(tmp_path / ('records-%d.json' % writer))],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    seen = []
    while any(writer.poll() is None for writer in writers):
        with AssetStore(path, readonly=True) as reader:
            seen.append(len(reader.hosts()))
        time.sleep(0.05)
    outputs = [writer.communicate() for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0, 0, 0], outputs
    assert all(out.strip() == '60' and 'locked' not in err for out, err in outputs)
    with AssetStore(path, readonly=True) as store:
        assert len(store.hosts()) == 241
    assert seen == sorted(seen), 'a reader only ever sees whole transactions, in order'

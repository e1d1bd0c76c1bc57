from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import package_locks

# A child that takes a whole-file fcntl write lock, as dpkg and apt do (F_SETLK), and keeps it until killed.
_HOLD = ('import fcntl, sys, time\n'
         'handle = open(sys.argv[1], "r+")\n'
         'fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)\n'
         'print("locked", flush=True)\n'
         'time.sleep(120)\n')


@pytest.fixture
def held_lock(tmp_path):
    """A child process holding an fcntl write lock on a file until the test ends."""
    path = tmp_path / 'lock-frontend'
    path.write_text('')
    child = subprocess.Popen([sys.executable, '-c', _HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == 'locked'
        yield str(path), child
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def test_a_held_lock_names_its_holder_and_command(held_lock):
    path, child = held_lock
    assert package_locks.fcntl_holder(path) == child.pid
    holders = package_locks.lock_holders([path, path + '-absent'])
    assert holders == [{'file': path, 'pid': child.pid, 'command': holders[0]['command'], 'kind': 'fcntl'}]
    assert holders[0]['command'].startswith(sys.executable) and path in holders[0]['command']
    assert package_locks.describe_holders(holders).startswith('%s held by pid %s (%s' % (path, child.pid, sys.executable))


def test_probing_takes_nothing(held_lock, tmp_path):
    free = tmp_path / 'free'
    free.write_text('')
    assert package_locks.lock_holders([str(free)]) == []
    # Right after the probe another process can take the free file: the probe left no lock behind.
    taker = subprocess.Popen([sys.executable, '-c', _HOLD, str(free)], stdout=subprocess.PIPE, text=True)
    try:
        assert taker.stdout.readline().strip() == 'locked'
    finally:
        taker.kill()
        taker.wait()
        taker.stdout.close()
    # The held file is still held by its child, not released by our open/close of it.
    path, child = held_lock
    package_locks.lock_holders([path])
    assert package_locks.fcntl_holder(path) == child.pid


def test_a_lock_of_this_process_is_not_a_conflict(tmp_path):
    path = tmp_path / 'own'
    path.write_text('')
    with open(path, 'r+') as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX)
        assert package_locks.fcntl_holder(str(path)) is None


def test_missing_files_are_free_and_unreadable_ones_are_reported(tmp_path):
    assert package_locks.fcntl_holder(str(tmp_path / 'none')) is None
    assert package_locks.pid_file_holder(str(tmp_path / 'none.pid')) is None
    # A symbolic link to itself cannot be opened (ELOOP), even by root: its lock state is unknown.
    unreadable = tmp_path / 'loop'
    os.symlink(str(unreadable), str(unreadable))
    holders = package_locks.lock_holders([str(unreadable)])
    assert holders[0]['kind'] == 'unknown' and holders[0]['error'].startswith('cannot read the lock: ')
    state = package_locks.wait_for_locks([str(unreadable)], 30, poll=0.05)
    assert not state['free'] and state['waited'] < 5, 'an unreadable lock fails at once instead of waiting'


def test_dnf_pid_files_are_held_while_their_process_runs(tmp_path):
    lock = tmp_path / 'rpmdb_lock.pid'
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; print("ready", flush=True); time.sleep(60)', 'dnf-stand-in'],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert sleeper.stdout.readline().strip() == 'ready'
        lock.write_text(str(sleeper.pid))
        holders = package_locks.lock_holders([str(lock)])
        assert [(h['file'], h['pid'], h['kind']) for h in holders] == [(str(lock), sleeper.pid, 'pid-file')]
        assert holders[0]['command'].endswith('dnf-stand-in')
    finally:
        sleeper.kill()
        sleeper.wait()
        sleeper.stdout.close()
    assert package_locks.lock_holders([str(lock)]) == [], 'a stale pid file (dead process) is free, as dnf treats it'
    lock.write_text('')
    assert package_locks.lock_holders([str(lock)]) == []


def test_wait_gives_up_after_the_timeout_and_names_the_holder(held_lock):
    path, child = held_lock
    start = time.monotonic()
    state = package_locks.wait_for_locks([path], 1, poll=0.2)
    elapsed = time.monotonic() - start
    assert not state['free'] and state['holders'][0]['pid'] == child.pid
    assert 1 <= elapsed < 5 and state['waited'] >= 1


def test_wait_returns_once_the_holder_lets_go(held_lock):
    path, child = held_lock
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        child.kill()
        child.wait()

    state = package_locks.wait_for_locks([path], 30, poll=0.1, sleep=sleep)
    assert state['free'] and state['holders'] == [] and len(calls) == 1


def test_describe_a_holder_without_pid():
    text = package_locks.describe_holders([{'file': '/var/lib/dpkg/lock', 'pid': None, 'command': None, 'kind': 'fcntl'}])
    assert text.startswith('/var/lib/dpkg/lock held by a process not visible from here')

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import package_locks

PROC_LOCKS = """1: POSIX  ADVISORY  WRITE 4242 fe:00:2613270 0 EOF
1: -> POSIX  ADVISORY  WRITE 4300 fe:00:2613270 0 EOF
2: OFDLCK ADVISORY  WRITE -1 00:2c:77 0 EOF
3: FLOCK  ADVISORY  WRITE 99 08:01:12 0 EOF
"""


def test_parse_proc_locks_skips_waiters_and_keeps_ofd_locks():
    assert package_locks.parse_proc_locks(PROC_LOCKS) == [
        ('fe:00', 2613270, 4242, 'POSIX'), ('00:2c', 77, -1, 'OFDLCK'), ('08:01', 12, 99, 'FLOCK')]


@pytest.fixture
def held_lock(tmp_path):
    """A child process holding an fcntl write lock on a file, as dpkg does, until the test ends."""
    path = tmp_path / 'lock-frontend'
    path.write_text('')
    child = subprocess.Popen([sys.executable, '-c', (
        'import fcntl, sys, time\n'
        'handle = open(sys.argv[1], "r+")\n'
        'fcntl.lockf(handle, fcntl.LOCK_EX)\n'
        'print("locked", flush=True)\n'
        'time.sleep(60)\n'), str(path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == 'locked'
    yield str(path), child
    child.kill()
    child.wait()


def test_a_held_lock_names_its_holder(held_lock):
    path, child = held_lock
    holders = package_locks.lock_holders([path, path + '-absent'], package_locks.read_proc_locks())
    assert len(holders) == 1
    assert holders[0]['file'] == path and holders[0]['pid'] == child.pid
    assert '-c' in holders[0]['command'] and path in holders[0]['command']
    assert package_locks.describe_holders(holders).startswith('%s held by pid %s (' % (path, child.pid))


@pytest.mark.usefixtures('held_lock')
def test_probing_does_not_take_the_lock(tmp_path):
    free = tmp_path / 'free'
    free.write_text('')
    assert package_locks.lock_holders([str(free)], package_locks.read_proc_locks()) == []
    # The free file can still be locked by someone else right after the probe: the probe held nothing.
    with open(free, 'r+') as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_wait_gives_up_after_the_timeout_and_names_the_holder(held_lock):
    path, child = held_lock
    start = time.monotonic()
    state = package_locks.wait_for_locks([path], 1, poll=0.2)
    assert not state['free'] and state['holders'][0]['pid'] == child.pid
    assert 1 <= time.monotonic() - start < 5


def test_wait_returns_once_the_holder_lets_go(held_lock):
    path, child = held_lock
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        child.kill()
        child.wait()

    state = package_locks.wait_for_locks([path], 30, poll=0.1, sleep=sleep)
    assert state['free'] and len(calls) == 1


def test_file_id_matches_the_kernels_notation(tmp_path):
    path = tmp_path / 'f'
    path.write_text('')
    device, inode = package_locks.file_id(str(path))
    stat = os.stat(path)
    assert inode == stat.st_ino and int(device.split(':')[0], 16) == os.major(stat.st_dev)
    assert package_locks.file_id(str(tmp_path / 'none')) is None

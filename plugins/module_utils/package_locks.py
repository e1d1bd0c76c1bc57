# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who holds the package manager's locks, found without taking them.

apt and dpkg lock their files with fcntl (POSIX or open-file-description
locks). Trying the lock to see whether it is free would, for an instant, make
a starting apt fail; the kernel's table in /proc/locks names the holder
without touching the lock, so that is what is read.
"""

from __future__ import annotations

import os
import time

APT_LOCK_FILES = ('/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock', '/var/lib/apt/lists/lock', '/var/cache/apt/archives/lock')
# dnf 4 keeps its own locks under /var/cache/dnf (metadata, download) and /var/lib/dnf (rpmdb access
# through dnf) as pid files it locks with fcntl; rpm locks /var/lib/rpm/.rpm.lock.
DNF_LOCK_FILES = ('/var/lib/rpm/.rpm.lock', '/var/cache/dnf/metadata_lock.pid', '/var/cache/dnf/download_lock.pid',
                  '/var/lib/dnf/rpmdb_lock.pid')


def parse_proc_locks(text):
    """[(device "MAJ:MIN" hex as the kernel prints it, inode, pid, kind)] of the locks in /proc/locks."""
    locks = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[1] == '->':  # a waiter blocked on the lock above it
            continue
        if len(fields) < 6:
            continue
        kind, pid, file_id = fields[1], fields[4], fields[5]
        parts = file_id.split(':')
        if len(parts) != 3 or not parts[2].isdigit():
            continue
        try:
            pid = int(pid)
        except ValueError:
            pid = -1  # OFD locks have no owning process: the kernel prints -1
        locks.append(('%s:%s' % (parts[0], parts[1]), int(parts[2]), pid, kind))
    return locks


def file_id(path):
    """(device as /proc/locks prints it, inode) of a file, or None when it does not exist."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return '%02x:%02x' % (os.major(stat.st_dev), os.minor(stat.st_dev)), stat.st_ino


def process_command(pid, proc='/proc'):
    """The command line of a process, or its name, or None."""
    try:
        with open(os.path.join(proc, str(pid), 'cmdline'), 'rb') as handle:
            command = handle.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
        if command:
            return command
        with open(os.path.join(proc, str(pid), 'comm'), encoding='utf-8', errors='replace') as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def lock_holders(paths, locks_text, proc='/proc'):
    """[{file, pid, command, kind}] for each lock file of ``paths`` that a process holds."""
    wanted = {}
    for path in paths:
        identity = file_id(path)
        if identity:
            wanted[identity] = path
    holders = []
    for device, inode, pid, kind in parse_proc_locks(locks_text):
        path = wanted.get((device, inode))
        if path:
            holders.append({'file': path, 'pid': pid if pid > 0 else None,
                            'command': process_command(pid, proc) if pid > 0 else None, 'kind': kind})
    return sorted(holders, key=lambda holder: holder['file'])


def read_proc_locks(path='/proc/locks'):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def wait_for_locks(paths, timeout, *, poll=2.0, read_locks=read_proc_locks, sleep=time.sleep, clock=time.monotonic):
    """Wait until no process holds any of ``paths``; returns {free, waited, holders} (holders when not free)."""
    start = clock()
    while True:
        holders = lock_holders(paths, read_locks())
        elapsed = clock() - start
        if not holders:
            return {'free': True, 'waited': round(elapsed, 1), 'holders': []}
        if elapsed >= timeout:
            return {'free': False, 'waited': round(elapsed, 1), 'holders': holders}
        sleep(min(poll, max(timeout - elapsed, 0.05)))


def describe_holders(holders):
    """'/var/lib/dpkg/lock-frontend held by pid 42 (apt-get install x)' for each holder."""
    return '; '.join('%s held by %s' % (holder['file'], 'pid %s (%s)' % (holder['pid'], holder['command'] or '?')
                                           if holder['pid'] else 'an open file description (no pid)') for holder in holders)

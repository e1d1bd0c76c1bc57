# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who holds the package manager's locks, found without taking them.

apt, dpkg and rpm lock their files with POSIX record locks (fcntl F_SETLK on
the whole file).  Taking such a lock to see whether it is free would, for an
instant, make a starting apt fail; ``F_GETLK`` asks the kernel which lock
would conflict and by which process, without taking anything.  That is how
dpkg and apt themselves name the holder in "locked by another process with
pid N".  The kernel answers for the file opened, so no device and inode
numbers have to be matched against /proc/locks (tried on an overlay mount too).

dnf 4 does not keep a record lock while it works: its ``ProcessLock`` writes
its pid into ``*.pid`` files (/var/lib/dnf/rpmdb_lock.pid,
/var/cache/dnf/metadata_lock.pid, /var/cache/dnf/download_lock.pid) and
deletes them when done; a file naming a running process is held, the rule
dnf applies itself.  rpm locks /var/lib/rpm/.rpm.lock with fcntl like dpkg.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import time

APT_LOCK_FILES = ('/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock', '/var/lib/apt/lists/lock', '/var/cache/apt/archives/lock')
DNF_LOCK_FILES = ('/var/lib/rpm/.rpm.lock', '/var/lib/dnf/rpmdb_lock.pid', '/var/cache/dnf/metadata_lock.pid',
                  '/var/cache/dnf/download_lock.pid')

# struct flock on 64-bit Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (+ padding).
_FLOCK = 'hhqqi'
_FLOCK_SIZE = 32


def fcntl_holder(path):
    """The pid holding a conflicting record lock on ``path``: None when free, 0 when the holder is not visible.

    Open file description locks and holders in another pid namespace report no pid (0).
    Raises OSError when the file exists but cannot be opened (not root).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_CLOEXEC', 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query + b'\0' * (_FLOCK_SIZE - len(query)))
    finally:
        os.close(fd)
    lock_type, _whence, _start, _length, pid = struct.unpack(_FLOCK, answer[:struct.calcsize(_FLOCK)])
    if lock_type == fcntl.F_UNLCK:
        return None
    return pid if pid > 0 else 0


def pid_file_holder(path, proc='/proc'):
    """The running process a dnf ``*.pid`` lock file names, or None when it is absent, empty or stale."""
    try:
        with open(path, encoding='ascii', errors='replace') as handle:
            content = handle.read(20).strip()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    if not content.isdigit():
        return None
    pid = int(content)
    return pid if os.path.exists(os.path.join(proc, str(pid))) else None


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


def lock_holders(paths, proc='/proc'):
    """[{file, pid, command, kind}] for each of ``paths`` held now; kind is V(fcntl) or V(pid-file).

    A file that cannot be read is reported with an ``error`` instead, since its state is unknown.
    """
    holders = []
    for path in paths:
        try:
            if path.endswith('.pid'):
                pid, kind = pid_file_holder(path, proc), 'pid-file'
            else:
                pid, kind = fcntl_holder(path), 'fcntl'
        except OSError as exc:
            holders.append({'file': path, 'pid': None, 'command': None, 'kind': 'unknown',
                            'error': 'cannot read the lock: %s' % (exc.strerror or exc)})
            continue
        if pid is not None:
            holders.append({'file': path, 'pid': pid or None, 'command': process_command(pid, proc) if pid else None,
                            'kind': kind})
    return holders


def wait_for_locks(paths, timeout, *, poll=2.0, probe=lock_holders, sleep=time.sleep, clock=time.monotonic):
    """Wait up to ``timeout`` seconds until none of ``paths`` is held; returns {free, waited, holders}."""
    start = clock()
    while True:
        holders = probe(paths)
        elapsed = clock() - start
        if not holders:
            return {'free': True, 'waited': round(elapsed, 1), 'holders': []}
        if elapsed >= timeout or any('error' in holder for holder in holders):
            return {'free': False, 'waited': round(elapsed, 1), 'holders': holders}
        sleep(min(poll, max(timeout - elapsed, 0.05)))


def describe_holders(holders):
    """'/var/lib/dpkg/lock-frontend held by pid 42 (apt-get install x)' for each holder."""
    parts = []
    for holder in holders:
        if 'error' in holder:
            parts.append('%s: %s' % (holder['file'], holder['error']))
        elif holder['pid']:
            parts.append('%s held by pid %s (%s)' % (holder['file'], holder['pid'], holder['command'] or 'command unknown'))
        else:
            parts.append('%s held by a process not visible from here (another pid namespace or an open file description lock)'
                         % holder['file'])
    return '; '.join(parts)

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kill a process and everything it started, for the tests that kill a run on purpose.

Ansible's workers leave the process group, so a group kill misses them, and a worker orphaned that way can
live on after the tests (blocked on the queue of its dead parent).
"""

from __future__ import annotations

import os
import signal
import time


def descendants(pid):
    """Every process below ``pid``."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry, encoding='utf-8') as handle:
                    parent = int(handle.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _signal(pid, number):
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _state(pid):
    """The one-letter state of ``pid`` (``T`` stopped, ``Z`` zombie ...), or None once it is gone."""
    try:
        with open('/proc/%d/stat' % pid, encoding='utf-8') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _wait_until_stopped(pids, timeout=5.0):
    """Return once every process in ``pids`` is stopped, a zombie or gone, or ``timeout`` seconds have passed.

    SIGSTOP is delivered asynchronously: a process signalled a moment ago may still be running on another core and
    fork a worker after the tree was listed. Only a stopped process has no child to come.  One may never stop: a
    parent waiting in ``vfork`` for a child that was stopped before its ``exec`` sleeps in the kernel until SIGKILL;
    such a process forks nothing more either, so the caller lists the tree again and kills it all.
    """
    deadline = time.monotonic() + timeout
    running = list(pids)
    while running and time.monotonic() < deadline:
        time.sleep(0.001)
        running = [pid for pid in running if _state(pid) not in (None, 'T', 't', 'Z', 'X')]


def kill_tree(pid):
    """SIGKILL ``pid`` and every process below it; returns their pids.

    The tree is stopped first (SIGSTOP), and listed again once every signalled process has stopped (or after
    ``_wait_until_stopped`` gave up on one that cannot stop), until no new process appears: a worker forked between
    listing the tree and killing its parent would otherwise be reparented out of reach, and live on after the tests.
    """
    stopped = []
    try:
        while True:
            pending = [child for child in [pid, *descendants(pid)] if child not in stopped]
            if not pending:
                break
            for child in pending:
                _signal(child, signal.SIGSTOP)
                stopped.append(child)
            _wait_until_stopped(pending)
    finally:
        # Whatever interrupts the listing, no stopped process is left behind.
        for child in stopped:
            _signal(child, signal.SIGKILL)
    return stopped

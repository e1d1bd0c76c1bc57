# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The audit log file: appended by one run at a time, 0600, and only when its tail still verifies.

A run takes an exclusive lock on the log before reading its head, so two runs never fork the chain;
it reads the head from a tail that verifies (the whole log when small), so it never chains onto an
altered or truncated record.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import GENESIS, PREV_FIELD, SEQ_FIELD, verify_lines

# Logs up to this size are verified whole before a run appends; larger ones from their last _TAIL_RECORDS records.
WHOLE_LOG_BYTES = 8 << 20
TAIL_RECORDS = 1000


class AuditLogError(Exception):
    """The log cannot be written or appended to; the message names the log and the reason."""


def _lock(fd, path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise AuditLogError('%s: cannot lock the audit log: %s' % (path, exc)) from exc
        if time.monotonic() >= deadline:
            raise AuditLogError('%s: another run is writing this audit log; waited %.0f s for it (lock_timeout)' % (path, timeout))
        time.sleep(0.2)


class FileSink:
    """The open, locked log; ``write`` appends one record line (one flush each, fsync on request)."""

    def __init__(self, path, fsync=False, lock_timeout=60.0):
        self.path = path
        self._fsync = fsync
        directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AuditLogError('%s: cannot open the audit log for appending: %s' % (path, exc)) from exc
        try:
            _lock(fd, path, lock_timeout)
            # A log created by hand or by an older version may be readable by others: the trail is the operator's alone.
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
        except OSError as exc:
            os.close(fd)
            raise AuditLogError('%s: cannot make the audit log owner-only (0600): %s' % (path, exc)) from exc
        except AuditLogError:
            os.close(fd)
            raise
        self._file = os.fdopen(fd, 'ab')

    def drop_in_child(self):
        """In a forked child (an ansible worker): let go of the log, so the lock ends with the run that took it.

        flock belongs to the open file, which a fork shares: a worker left running after its run was killed
        would otherwise hold the lock and refuse every later run.
        """
        try:
            os.close(self._file.fileno())
        except (OSError, ValueError):
            pass

    def write(self, line):
        # One write per record so a crash leaves whole lines; flush so readers and crashes see it at once.
        self._file.write(line + b'\n')
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def close(self):
        self._file.close()


def _count_records(handle):
    handle.seek(0)
    count = 0
    for line in handle:
        if line.strip():
            count += 1
    return count


def _tail_lines(handle, size):
    """The last TAIL_RECORDS lines of a large log, and (previous hash, records before) of the first of them."""
    block = min(size, 1 << 20)
    while True:
        handle.seek(size - block)
        data = handle.read(block)
        lines = data.split(b'\n')
        if len(lines) > TAIL_RECORDS + 2 or block == size:
            break
        block = min(size, block * 4)
    if block < size:
        lines = lines[1:]                # the first line is cut by the block boundary
    lines = lines[-(TAIL_RECORDS + 1):]  # the last element is '' when the log ends with a newline
    first = json.loads(lines[0])
    return [line.decode('utf-8') for line in lines], (first[PREV_FIELD], int(first[SEQ_FIELD]) - 1)


def tail_state(path, key=None):
    """``{head, records, problem, lines}`` of the log at ``path``: where a run continues its chain.

    ``problem`` names why the chain cannot be continued (an altered, truncated or foreign tail, a wrong or missing
    key), None when it can; ``records`` is then the position of the last verified record and ``lines`` the number
    of records in the log.  Only the last segment counts (see audit_chain.chain_break).
    """
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return {'head': GENESIS, 'records': 0, 'problem': None, 'lines': 0}
    with open(path, 'rb') as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(size - 1)
        complete = handle.read(1) == b'\n'
        try:
            if size <= WHOLE_LOG_BYTES:
                handle.seek(0)
                result = verify_lines((line.decode('utf-8') for line in handle), key, since_last_break=True)
            else:
                lines, start = _tail_lines(handle, size)
                result = verify_lines(lines, key, since_last_break=True, start=start)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            result = {'valid': False, 'head': None, 'records': 0, 'reason': 'its tail is not an audit chain (%s)' % exc}
        problem = None
        if not result['valid']:
            problem = result['reason']
        elif not complete:
            problem = 'its last line is incomplete (a run was stopped while writing it)'
        lines = _count_records(handle) if problem else result['records']
    return {'head': result['head'], 'records': result['records'], 'problem': problem, 'lines': lines}

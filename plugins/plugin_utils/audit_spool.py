# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Local spool of events awaiting delivery: an append-only JSON-lines file plus the byte offset delivered so far.

Every event is appended (and flushed) before any delivery is tried, and the offset only moves after the
receiver acknowledged, so a crash, a receiver outage or the end of a run loses nothing: the next sender
starts at the offset again (at least once, in order). Files are 0600 in a 0700 directory. One process uses
a spool at a time (as one process appends to an audit log at a time).
"""

from __future__ import annotations

import os
import threading

EVENTS_FILE = 'events.jsonl'
OFFSET_FILE = 'delivered'


class Spool:

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._events_path = os.path.join(directory, EVENTS_FILE)
        self._offset_path = os.path.join(directory, OFFSET_FILE)
        fd = os.open(self._events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._append = os.fdopen(fd, 'ab')
        self._read = open(self._events_path, 'rb')
        self._lock = threading.Lock()
        size = os.fstat(self._append.fileno()).st_size
        self.offset = self._load_offset()
        if self.offset > size:
            # The events file was emptied after everything was delivered but the offset not yet reset.
            self.offset = 0

    def _load_offset(self):
        try:
            with open(self._offset_path, encoding='ascii') as handle:
                return int(handle.read().strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError as exc:
            raise ValueError('spool offset file %s is corrupt: %s' % (self._offset_path, exc)) from None

    def _store_offset(self, offset):
        temp = self._offset_path + '.tmp'
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w', encoding='ascii') as handle:
            handle.write('%d\n' % offset)
        os.replace(temp, self._offset_path)

    def append(self, line):
        """Spool one event (bytes without newline)."""
        with self._lock:
            self._append.write(line + b'\n')
            self._append.flush()

    def pending(self, limit=100):
        """Up to ``limit`` undelivered events in order, as (end offset, line bytes)."""
        out = []
        with self._lock:
            self._read.seek(self.offset)
            position = self.offset
            while len(out) < limit:
                line = self._read.readline()
                if not line.endswith(b'\n'):
                    break
                position += len(line)
                out.append((position, line[:-1]))
        return out

    def ack(self, end_offset):
        """Mark everything before ``end_offset`` delivered."""
        with self._lock:
            self._store_offset(end_offset)
            self.offset = end_offset

    def backlog(self):
        """Number of undelivered events."""
        with self._lock:
            self._read.seek(self.offset)
            return sum(1 for line in self._read if line.endswith(b'\n'))

    def compact(self):
        """Empty the events file when everything in it was delivered (offset first, so a crash only redelivers)."""
        with self._lock:
            if self.offset and self.offset == os.fstat(self._append.fileno()).st_size:
                self._store_offset(0)
                os.ftruncate(self._append.fileno(), 0)
                self.offset = 0

    def close(self):
        self._append.close()
        self._read.close()

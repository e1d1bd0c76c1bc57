# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Local spool of events awaiting delivery: an append-only JSON-lines file plus the byte offset delivered so far.

Every event is appended (and flushed) before any delivery is tried, and the offset only moves after the
receiver acknowledged, so a crash, a receiver outage or the end of a run loses nothing: the next sender
starts at the offset again (at least once, in order). Files are 0600 in a 0700 directory. One process uses
a spool at a time (as one process appends to an audit log at a time).

A spool may be bounded (``max_bytes`` of undelivered events): when an event would not fit, either the oldest
undelivered events are dropped and a ``spool_dropped`` event counting them is spooled in their place, so the
receiver sees the gap, or the event is refused with ``SpoolFull`` (``on_full='refuse'``).  The dropped events'
bytes are reclaimed once they exceed ``max_bytes``, so the files stay under twice the bound.
"""

from __future__ import annotations

import json
import os
import threading
import time

EVENTS_FILE = 'events.jsonl'
OFFSET_FILE = 'delivered'


_MARKER = b'"type":"spool_dropped"'


class SpoolFull(Exception):
    """The bounded spool has no room for an event and is set to refuse it."""


class Spool:

    def __init__(self, directory, max_bytes=None, on_full='drop_oldest'):
        if on_full not in ('drop_oldest', 'refuse'):
            raise ValueError('spool_on_full %r: expected drop_oldest or refuse' % (on_full,))
        if max_bytes is not None and max_bytes < 4096:
            raise ValueError('spool_max_bytes %r: at least 4096 bytes' % (max_bytes,))
        self.max_bytes = max_bytes
        self.on_full = on_full
        self.dropped = 0
        # Offsets handed out by pending() are only valid for the file they were read from (see _reclaim).
        self._generation = 0
        self._pending_generation = 0
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
        """Spool one event (bytes without newline); SpoolFull when a bounded spool refuses it."""
        with self._lock:
            if self.max_bytes is not None:
                self._make_room(len(line) + 1)
            self._append.write(line + b'\n')
            self._append.flush()

    def _undelivered_bytes(self):
        return os.fstat(self._append.fileno()).st_size - self.offset

    def _make_room(self, needed):
        # Room for the event and, when dropping, for the spool_dropped event that says so.
        reserve = 256 if self.on_full == 'drop_oldest' else 0
        if self._undelivered_bytes() + needed + reserve <= self.max_bytes:
            return
        if self.on_full == 'refuse':
            raise SpoolFull('the webhook spool %s holds %d undelivered bytes and may hold %d (spool_max_bytes)'
                            % (self.directory, self._undelivered_bytes(), self.max_bytes))
        dropped = carried = 0
        self._read.seek(self.offset)
        position = self.offset
        while self._undelivered_bytes() - (position - self.offset) + needed + reserve > self.max_bytes:
            line = self._read.readline()
            if not line.endswith(b'\n'):
                break
            position += len(line)
            if _MARKER in line:
                # An earlier marker dropped in turn: its count moves to the new one, so none is lost.
                carried += json.loads(line).get('dropped', 0)
            else:
                dropped += 1
        self._store_offset(position)
        self.offset = position
        self.dropped += dropped
        marker = {'event_id': 'spool-dropped:%d:%d' % (os.getpid(), time.time_ns()), 'type': 'spool_dropped',
                  'dropped': dropped + carried,
                  'ts': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
        self._append.write(json.dumps(marker, separators=(',', ':')).encode('utf-8') + b'\n')
        if self.offset > self.max_bytes:
            self._reclaim()

    def _reclaim(self):
        """Rewrite the events file without its delivered or dropped head (see the module's note on crashes)."""
        self._append.flush()
        self._read.seek(self.offset)
        remainder = self._read.read()
        temp = self._events_path + '.tmp'
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(remainder)
            handle.flush()
            os.fsync(handle.fileno())
        # The new file is shorter than the old offset: should the process die before the offset is reset, the
        # next one finds the offset beyond the end and starts at 0, which is right.
        os.replace(temp, self._events_path)
        self._append.close()
        self._read.close()
        self._append = os.fdopen(os.open(self._events_path, os.O_WRONLY | os.O_APPEND, 0o600), 'ab')
        self._read = open(self._events_path, 'rb')
        self._store_offset(0)
        self.offset = 0
        self._generation += 1

    def pending(self, limit=100):
        """Up to ``limit`` undelivered events in order, as (end offset, line bytes)."""
        out = []
        with self._lock:
            self._pending_generation = self._generation
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
        """Mark everything before ``end_offset`` delivered (events dropped meanwhile stay dropped)."""
        with self._lock:
            if end_offset <= self.offset or self._pending_generation != self._generation:
                return
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

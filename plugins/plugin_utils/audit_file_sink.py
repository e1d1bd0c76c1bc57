# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Append-only JSON-lines file sink: created 0600, one flush per record, optional fsync."""

from __future__ import annotations

import os

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import GENESIS, verify_lines


class FileSink:

    def __init__(self, path, fsync=False):
        self.path = path
        self._fsync = fsync
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._file = os.fdopen(fd, 'ab')

    def write(self, line):
        # One write per record so a crash leaves whole lines; flush so readers and crashes see it at once.
        self._file.write(line + b'\n')
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def close(self):
        self._file.close()


def current_head(path, key=None):
    """(head hash, record count) of an existing log to continue its chain; (GENESIS, 0) for a new or empty file."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return GENESIS, 0
    with open(path, encoding='utf-8') as handle:
        result = verify_lines(handle, key)
    return result['head'], result['records']

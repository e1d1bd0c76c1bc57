# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files of one report: all written to temporary files beside their targets, then renamed into place together."""

from __future__ import annotations

import fcntl
import os
import tempfile

from ansible_collections.patchwise.patching.plugins.plugin_utils.forked_call import ForkedCall, ForkedCallFailed
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import ReportError

_NOTHING_WRITTEN = '; no report was written'


class OutputFiles:
    """The files of one report, each written to a temporary file beside its target, renamed into place together.

    Nothing is renamed until every file is written: a failure (a full disk, a bad row) leaves no partial
    report and the previous report's files as they were.  Use as a context manager, then ``commit()``.
    A file added with ``apart`` is written by a forked process while this one writes the next files.
    """

    def __init__(self, directory):
        self.directory = directory
        self._staged = []
        self._writers = []
        if not os.path.isdir(directory):
            raise ReportError('%s: the output directory does not exist%s' % (directory, _NOTHING_WRITTEN))
        if not os.access(directory, os.W_OK | os.X_OK):
            raise ReportError('%s: the output directory is not writable%s' % (directory, _NOTHING_WRITTEN))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc_info):
        self.discard()

    def add(self, name, write, apart=None):
        """Write ``<directory>/<name>`` through ``write(handle)`` (a UTF-8 text handle) into a temporary file.

        ``apart``: write it in a forked process instead, which first calls ``apart()`` to open what it reads on
        connections of its own; ``apart()`` returns the exception classes of the database it opened, so that an
        error reading it fails the file with the database named.  ``commit`` waits for it.  The largest table
        of a large fleet is written so, on the second core, while this process writes the rest.
        """
        target = os.path.join(self.directory, name)
        try:
            fd, temporary = tempfile.mkstemp(prefix='.%s.' % name, suffix='.tmp', dir=self.directory)
        except OSError as exc:
            raise ReportError('cannot write the report into %s: %s%s' % (self.directory, exc.strerror or exc, _NOTHING_WRITTEN)) from exc
        self._staged.append((temporary, target))
        if apart is not None:
            os.close(fd)
            call = ForkedCall(lambda: _write_apart(temporary, target, apart, write), name='patch_report ' + name, doing='writing it',
                              failures=(ReportError,))
            self._writers.append((call, target))
            return target
        try:
            _write_file(fd, target, write)
        except ReportError as exc:
            raise ReportError('%s%s' % (exc, _NOTHING_WRITTEN)) from exc
        return target

    def _wait(self):
        """Wait for the files written apart; raise the first failure."""
        failure = None
        for call, target in self._writers:
            try:
                call.result()
            except ForkedCallFailed as exc:
                if failure is None:
                    failure = str(exc) if exc.exitcode is None else 'cannot write %s: %s' % (target, exc)
        self._writers = []
        if failure is not None:
            raise ReportError(failure + _NOTHING_WRITTEN)

    def commit(self):
        """Rename every staged file into place, once those written apart are done; returns their paths."""
        self._wait()
        written = []
        directory = None
        try:
            # Two reports written into one directory at once (two jobs, a job and a person) move their files one set
            # after the other, under a lock on the directory: the files in it are always those of one report.
            directory = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(directory, fcntl.LOCK_EX)
            for temporary, target in self._staged:
                os.chmod(temporary, 0o640)
                os.replace(temporary, target)
                written.append(target)
        except OSError as exc:
            raise ReportError('cannot move the report into place (%s): %s' % (self.directory, exc.strerror or exc)) from exc
        finally:
            if directory is not None:
                os.close(directory)
        self._staged = [item for item in self._staged if item[1] not in written]
        return written

    def discard(self):
        for call, _target in self._writers:
            call.stop()
        self._writers = []
        for temporary, _target in self._staged:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        self._staged = []


def _write_file(fd, target, write):
    try:
        with os.fdopen(fd, 'w', encoding='utf-8', newline='') as handle:
            write(handle)
    except OSError as exc:
        raise ReportError('cannot write %s: %s' % (target, exc.strerror or exc)) from exc


def _write_apart(temporary, target, apart, write):
    """The forked writer of one file; its failures are ReportErrors naming the file or the database."""
    database_errors = apart()
    try:
        _write_file(os.open(temporary, os.O_WRONLY | os.O_TRUNC), target, write)
    except database_errors as exc:
        raise ReportError('cannot write %s: reading the asset database failed: %s' % (target, str(exc).strip())) from exc

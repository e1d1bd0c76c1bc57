"""report_files: a report's files appear together or not at all, whoever writes them and whatever fails."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import ReportError
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_files import OutputFiles


def test_a_failed_file_leaves_the_previous_report(tmp_path):
    (tmp_path / 'r.csv').write_text('old', encoding='utf-8')

    def full_disk(handle):
        handle.write('host,id\r\n')
        raise OSError(28, 'No space left on device')

    with pytest.raises(ReportError, match=r'^cannot write .*/r\.csv: No space left on device; no report was written$'), \
            OutputFiles(str(tmp_path)) as outputs:
        outputs.add('r.json', lambda handle: handle.write('{}'))
        outputs.add('r.csv', full_disk)
        outputs.commit()
    assert os.listdir(tmp_path) == ['r.csv'] and (tmp_path / 'r.csv').read_text() == 'old'


def _failing_apart(kind):
    def reconnect():
        if kind == 'reconnect':
            raise ReportError('assets.db: reading the asset database failed: unable to open database file')
        return (sqlite3.DatabaseError,)

    def write(handle):
        handle.write('host,id\r\n')
        if kind == 'disk':
            raise OSError(28, 'No space left on device')
        if kind == 'database':
            raise sqlite3.DatabaseError('database disk image is malformed')
        if kind == 'killed':
            os._exit(9)
        time.sleep(60)
    return reconnect, write


@pytest.mark.parametrize('kind, message', [
    ('reconnect', r'^assets\.db: reading the asset database failed: unable to open database file; no report was written$'),
    ('disk', r'^cannot write .*/overdue\.csv: No space left on device; no report was written$'),
    ('database', r'^cannot write .*/overdue\.csv: reading the asset database failed: database disk image is malformed; no report was written$'),
    ('killed', r'^cannot write .*/overdue\.csv: the process writing it ended without a result \(exit code 9\); no report was written$'),
])
def test_a_table_written_apart_fails_the_whole_report(tmp_path, kind, message):
    """A failure of the process writing a table apart is named and leaves the previous report as it was."""
    (tmp_path / 'overdue.csv').write_text('old', encoding='utf-8')
    reconnect, write = _failing_apart(kind)
    with pytest.raises(ReportError, match=message), OutputFiles(str(tmp_path)) as outputs:
        outputs.add('overdue.csv', write, apart=reconnect)
        outputs.add('r.json', lambda handle: handle.write('{}'))
        outputs.commit()
    assert os.listdir(tmp_path) == ['overdue.csv'] and (tmp_path / 'overdue.csv').read_text() == 'old'
    assert multiprocessing.active_children() == []


def test_a_report_abandoned_stops_the_table_written_apart(tmp_path):
    reconnect, write = _failing_apart('slow')
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), OutputFiles(str(tmp_path)) as outputs:
        outputs.add('overdue.csv', write, apart=reconnect)
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == [] and multiprocessing.active_children() == [] and time.monotonic() - started < 30


def test_two_reports_into_one_directory_move_their_files_one_set_after_the_other(tmp_path):
    """While another report moves its files into the directory (it holds the directory's lock), this one waits, then
    moves all of its own."""
    with OutputFiles(str(tmp_path)) as outputs:
        outputs.add('r.json', lambda handle: handle.write('{"report": 2}'))
        outputs.add('r.html', lambda handle: handle.write('<p>report 2</p>'))
        other = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(other, fcntl.LOCK_EX)
            committing = threading.Thread(target=outputs.commit)
            committing.start()
            committing.join(0.5)
            assert committing.is_alive() and not (tmp_path / 'r.json').exists(), 'nothing moved while the other report moves its files'
        finally:
            os.close(other)
        committing.join(10)
        assert not committing.is_alive()
    assert sorted(os.listdir(tmp_path)) == ['r.html', 'r.json'] and (tmp_path / 'r.json').read_text() == '{"report": 2}'

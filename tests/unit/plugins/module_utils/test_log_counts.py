# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Counting the error and warning lines of units over equal windows around a change."""

from __future__ import annotations

import datetime
import json

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import log_counts

START = log_counts.parse_utc('2026-12-05T12:00:00Z', 'start')


def _at(seconds):
    return START + datetime.timedelta(seconds=seconds)


def _journal(seconds, priority, **fields):
    entry = {'__REALTIME_TIMESTAMP': str(int(_at(seconds).timestamp() * 1e6)), 'PRIORITY': str(priority), 'MESSAGE': 'm'}
    entry.update(fields)
    return json.dumps(entry)


@pytest.mark.parametrize('end_seconds, min_window, before, after', [
    (30, 60, (-60, 0), (0, 60)),        # a quick change is judged over min_window
    (300, 60, (-300, 0), (0, 300)),     # a long one over its own length
    (0, 0, (0, 0), (0, 0)),
])
def test_windows_are_equal_and_meet_at_the_start(end_seconds, min_window, before, after):
    got_before, got_after, seconds = log_counts.windows(START, _at(end_seconds), min_window)
    assert got_before == (_at(before[0]), _at(before[1])) and got_after == (_at(after[0]), _at(after[1]))
    assert seconds == after[1] - after[0]


@pytest.mark.parametrize('call, message', [
    (lambda: log_counts.windows(START, _at(-1), 60), 'is before start'),
    (lambda: log_counts.windows(START, _at(1), -5), 'min_window: must be 0 or more'),
    (lambda: log_counts.parse_utc('yesterday', 'start'), "start: 'yesterday' is not a time"),
    (lambda: log_counts.parse_utc('2026-12-05T12:00:00', 'end'), 'has no time zone'),
    (lambda: log_counts.parse_utc(5, 'start'), 'start: 5 is not a time'),
])
def test_bad_times_are_refused_naming_the_option(call, message):
    with pytest.raises(log_counts.LogCountError, match=message):
        call()


@pytest.mark.parametrize('name, expected', [
    ('pw-demod', 'pw-demod.service'), ('pw-demod.service', 'pw-demod.service'), ('apt-daily.timer', 'apt-daily.timer'),
    ('getty@tty1', 'getty@tty1.service'), ('postgresql@15-main', 'postgresql@15-main.service'), ('var-lib.mount', 'var-lib.mount'),
])
def test_unit_names_get_their_suffix(name, expected):
    assert log_counts.unit_name(name) == expected


def test_the_units_a_package_ships():
    files = ['/usr/sbin/pw-noisyd', '/lib/systemd/system/pw-noisyd.service', '/lib/systemd/system/getty@.service',
             '/usr/lib/systemd/system/pw-noisyd.socket', '/etc/systemd/system/multi-user.target.wants/x.service',
             '/usr/share/doc/pw-noisyd/README.service', '/lib/systemd/system/pw-backup.timer']
    assert log_counts.units_of_package_files(files) == ['pw-backup.timer', 'pw-noisyd.service', 'pw-noisyd.socket', 'x.service']


def test_journal_lines_are_counted_per_unit_and_window():
    before, after, _seconds = log_counts.windows(START, _at(60), 60)
    lines = [
        _journal(-30, 3, _SYSTEMD_UNIT='pw-noisyd.service'),                  # an error before
        _journal(-61, 3, _SYSTEMD_UNIT='pw-noisyd.service'),                  # outside both windows
        _journal(0, 3, _SYSTEMD_UNIT='pw-noisyd.service'),                    # exactly at the start: after
        _journal(10, 2, _SYSTEMD_UNIT='pw-noisyd.service'),                   # critical is an error
        _journal(20, 4, _SYSTEMD_UNIT='pw-noisyd.service'),                   # a warning
        _journal(25, 6, _SYSTEMD_UNIT='pw-noisyd.service'),                   # info: not counted
        _journal(30, 4, _SYSTEMD_UNIT='init.scope', UNIT='pw-demod.service'),  # systemd about the unit
        _journal(40, 3, _SYSTEMD_UNIT='other.service'),                       # not asked for
        _journal(60, 3, _SYSTEMD_UNIT='pw-noisyd.service'),                   # the after-window's end is open
        'not json', json.dumps({'PRIORITY': '3'}),                            # malformed: skipped
    ]
    counts = log_counts.count_journal_lines(lines, ['pw-demod.service', 'pw-noisyd.service'], before, after)
    assert counts == {'pw-demod.service': {'before': {'errors': 0, 'warnings': 0}, 'after': {'errors': 0, 'warnings': 1}},
                      'pw-noisyd.service': {'before': {'errors': 1, 'warnings': 0}, 'after': {'errors': 2, 'warnings': 1}}}
    assert log_counts.summarise(counts, 0) == ['pw-noisyd.service']
    assert counts['pw-noisyd.service']['error_increase'] == 1
    assert log_counts.summarise(counts, 1) == [] and log_counts.summarise(counts, None) == []


def test_the_journal_command_covers_both_windows():
    before, after, _seconds = log_counts.windows(START, _at(10), 60)
    command = log_counts.journal_command(['a.service', 'b.service'], before[0], after[1], directory='/mnt/journal')
    assert command[:6] == ['journalctl', '-o', 'json', '--no-pager', '-q', '--utc']
    assert command[command.index('--since') + 1] == '@%d' % int(_at(-60).timestamp())
    assert command[command.index('--until') + 1] == '@%d' % (int(_at(60).timestamp()) + 1)
    assert command[-6:] == ['--directory', '/mnt/journal', '-u', 'a.service', '-u', 'b.service']


@pytest.mark.parametrize('message, severity', [
    ('cannot open /etc/x.conf: Error 13', 'errors'), ('Main process exited, status=1/FAILURE', 'errors'),
    ('fatal: out of memory', 'errors'), ('CRITICAL temperature', 'errors'), ('warning: deprecated option', 'warnings'),
    ('started', None), ('terrorist', None), ('errors=0', 'errors'),
])
def test_syslog_severity_from_words(message, severity):
    assert log_counts.severity_of(message) == severity


def test_syslog_lines_of_both_formats_and_across_new_year():
    start = log_counts.parse_utc('2027-01-01T00:00:30Z', 'start')
    before, after, _seconds = log_counts.windows(start, start, 60)
    identifiers = log_counts.syslog_identifiers(['pw-noisyd.service', 'pw-demod.service'],
                                                {'pw-demod.service': '[Service]\nSyslogIdentifier=demod\n'})
    assert identifiers == {'pw-noisyd': 'pw-noisyd.service', 'pw-demod': 'pw-demod.service', 'demod': 'pw-demod.service'}
    lines = [
        'Dec 31 23:59:50 web01 pw-noisyd[12]: warning: slow backend',        # classic, last year's line in this year's file
        '2027-01-01T00:00:40.120000+00:00 web01 pw-noisyd[12]: error: cannot open backend',
        '2027-01-01T01:00:40+01:00 web01 demod: connection failed',          # an offset, in the after-window
        'Jan  1 00:00:45 web01 cron[1]: error in crontab',                   # another program
        'garbage',
    ]
    counts = log_counts.count_syslog_lines(lines, identifiers, before, after, year=2027)
    assert counts['pw-noisyd.service'] == {'before': {'errors': 0, 'warnings': 1}, 'after': {'errors': 1, 'warnings': 0}}
    assert counts['pw-demod.service'] == {'before': {'errors': 0, 'warnings': 0}, 'after': {'errors': 1, 'warnings': 0}}

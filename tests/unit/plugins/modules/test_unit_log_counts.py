# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The unit_log_counts module on real syslog files (the build machine runs no journal)."""

from __future__ import annotations

import datetime

from ansible_collections.patchwise.patching.plugins.modules import unit_log_counts
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module


def _utc(seconds):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds))


def _line(seconds, program, message):
    return '%s web01 %s[42]: %s\n' % (_utc(seconds).isoformat(timespec='microseconds'), program, message)


def test_syslog_counts_mark_the_unit_whose_errors_rose(tmp_path):
    syslog = tmp_path / 'syslog'
    syslog.write_text(
        _line(-50, 'pw-noisyd', 'warning: slow start')
        + ''.join(_line(-10 + number, 'pw-noisyd', 'error: cannot open backend') for number in range(8))
        + _line(-40, 'pw-demod', 'error: one before'))
    start = _utc(-20).strftime('%Y-%m-%dT%H:%M:%SZ')
    for check_mode in (False, True):
        outcome = run_module(unit_log_counts.main, {'units': ['pw-noisyd', 'pw-demod.service'], 'start': start, 'source': 'syslog',
                                                    'syslog_files': [str(syslog)], 'max_error_increase': 5}, check_mode=check_mode)
        result = outcome.result
        assert not outcome.failed and result['changed'] is False
        assert result['source'] == 'syslog' and result['heuristic'] is True
        assert result['units']['pw-noisyd.service']['after']['errors'] == 8
        assert result['units']['pw-noisyd.service']['before'] == {'errors': 0, 'warnings': 1}
        assert result['units']['pw-demod.service']['error_increase'] == -1
        assert result['degraded'] == ['pw-noisyd.service']
        assert result['window']['seconds'] == 60


def test_no_readable_log_is_a_warning_not_a_failure(tmp_path):
    outcome = run_module(unit_log_counts.main, {'units': ['x'], 'start': '2026-12-05T12:00:00Z', 'source': 'syslog',
                                                'syslog_files': [str(tmp_path / 'missing')]})
    assert not outcome.failed and outcome.result['source'] == 'none' and outcome.result['degraded'] == []
    assert outcome.result['units'] == {'x.service': {'before': {'errors': 0, 'warnings': 0}, 'after': {'errors': 0, 'warnings': 0}}}


def test_bad_times_fail_naming_the_option():
    outcome = run_module(unit_log_counts.main, {'units': ['x'], 'start': '5 minutes ago'})
    assert outcome.failed and "start: '5 minutes ago' is not a time" in outcome.result['msg']
    outcome = run_module(unit_log_counts.main, {'units': ['x'], 'start': '2026-12-05T12:00:00Z', 'end': '2026-12-05T11:00:00Z'})
    assert outcome.failed and 'is before start' in outcome.result['msg']


def test_nothing_to_count_without_units():
    outcome = run_module(unit_log_counts.main, {'start': '2026-12-05T12:00:00Z', 'source': 'journal'})
    assert not outcome.failed and outcome.result['units'] == {} and outcome.result['source'] == 'none'

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import in_window, utc

NIGHTS = {'days': ['sat'], 'time': '22:00-04:00', 'timezone': 'Europe/Berlin'}
OFFICE = {'days': ['mon', 'tue'], 'time': '09:00-17:00', 'timezone': 'UTC'}


@pytest.mark.parametrize(('moment', 'expected'), [
    ('2026-11-28T21:30:00Z', True),    # Saturday 22:30 in Berlin (UTC+1)
    ('2026-11-28T20:59:00Z', False),   # Saturday 21:59 in Berlin
    ('2026-11-29T02:59:00Z', True),    # Sunday 03:59 in Berlin: Saturday's window crossing midnight
    ('2026-11-29T03:00:00Z', False),   # Sunday 04:00 in Berlin: closed
    ('2026-11-29T21:30:00Z', False),   # Sunday evening: no window starts on Sunday
])
def test_window_crossing_midnight_in_its_time_zone(moment, expected):
    assert in_window(NIGHTS, utc(moment)) is expected


def test_daytime_window_end_is_exclusive():
    assert in_window(OFFICE, utc('2026-11-30T09:00:00Z'))       # Monday
    assert not in_window(OFFICE, utc('2026-11-30T17:00:00Z'))
    assert not in_window(OFFICE, utc('2026-12-02T10:00:00Z'))   # Wednesday


def test_utc_parses_and_defaults_to_now():
    assert utc('2026-11-28T10:00:00Z').isoformat() == '2026-11-28T10:00:00+00:00'
    assert utc().tzinfo is not None

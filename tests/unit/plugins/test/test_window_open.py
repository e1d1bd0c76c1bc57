from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.test.window_open import TestModule as WindowOpenTestPlugin  # not Test*: pytest would collect it
from ansible_collections.patchwise.patching.plugins.test.window_open import window_open

WINDOWS = {'sat-night': {'days': ['sat'], 'time': '22:00-04:00', 'timezone': 'UTC'},
           'weekday-berlin': {'days': ['mon', 'tue', 'wed', 'thu', 'fri'], 'time': '06:00-07:00', 'timezone': 'Europe/Berlin'}}


def test_registered_as_a_test():
    assert WindowOpenTestPlugin().tests()['window_open'] is window_open


@pytest.mark.parametrize(('name', 'at', 'expected'), [
    ('sat-night', '2026-11-28T23:00:00Z', True),     # Saturday evening
    ('sat-night', '2026-11-29T03:59:00Z', True),     # Sunday morning: still Saturday's window
    ('sat-night', '2026-11-29T04:00:00Z', False),
    ('sat-night', '2026-11-28T03:00:00Z', False),    # Saturday morning belongs to Friday
    ('weekday-berlin', '2026-11-30T05:30:00Z', True),  # Monday 06:30 in Berlin (UTC+1)
    ('weekday-berlin', '2026-11-30T06:30:00Z', False),
    ('', '2026-11-30T06:30:00Z', True),               # no window: any time
    ('undefined', '2026-11-28T23:00:00Z', False),     # named but not defined: closed
])
def test_window_open(name, at, expected):
    assert window_open(name, WINDOWS, at=at) is expected


def test_errors_name_the_key_or_the_moment():
    with pytest.raises(AnsibleFilterError, match=r'windows\.bad\.time'):
        window_open('bad', {'bad': {'time': '25:00'}}, at='2026-11-28T23:00:00Z')
    with pytest.raises(AnsibleFilterError, match='not YYYY-MM-DD'):
        window_open('sat-night', WINDOWS, at='tomorrow')

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a moment falls inside a maintenance window of the policy.

A window is ``{days: [mon..sun], time: "HH:MM-HH:MM", timezone: IANA name}``
(validated by ``policy.load_policy``).  A range that ends before it starts
crosses midnight and belongs to the day it starts on: ``sat 22:00-04:00``
includes Sunday 03:00.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import WEEKDAYS


def _minutes(text):
    hours, minutes = text.split(':')
    return int(hours) * 60 + int(minutes)


def in_window(window, moment):
    """True when the aware datetime ``moment`` is inside ``window``."""
    local = moment.astimezone(ZoneInfo(window.get('timezone', 'UTC')))
    days = window.get('days') or list(WEEKDAYS)
    start_text, end_text = window['time'].split('-')
    start, end = _minutes(start_text), _minutes(end_text)
    now = local.hour * 60 + local.minute
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    if start < end:
        return today in days and start <= now < end
    # Crosses midnight: the evening part belongs to today, the morning part to yesterday's window.
    return (today in days and now >= start) or (yesterday in days and now < end)


def utc(moment_text=None):
    """An aware UTC datetime from ``YYYY-MM-DDTHH:MM:SSZ`` (now when None)."""
    if moment_text is None:
        return datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime.strptime(moment_text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)

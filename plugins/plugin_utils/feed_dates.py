# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How old a feed's data is, from the feed itself (controller side).

The staleness gate cannot trust the time a database was built: a month-old KEV file
built today is still a month old.  Each feed type carries its own date:

- CISA KEV: the catalog's ``dateReleased``;
- FIRST EPSS: the ``score_date`` of the CSV's first line;
- OSV: the newest ``modified`` of its records;
- the Debian Security Tracker JSON and CVE 5 records carry none: the time the
  file was fetched (a download's time, a local file's modification time).
"""

from __future__ import annotations

import datetime
import os
import re

_TIMESTAMP = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$')


def parse_feed_time(text):
    """An ISO 8601 date or date-time as an aware UTC datetime (no zone: UTC); ValueError when it is not one."""
    match = _TIMESTAMP.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError('%r is not an ISO 8601 date or date-time' % (text,))
    year, month, day, hour, minute, second, zone = match.groups()
    offset = datetime.timedelta(0)
    if zone and zone not in ('Z', 'z'):
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        offset = sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                                   tzinfo=datetime.timezone(offset))
    except ValueError as exc:
        raise ValueError('%r is not a valid date: %s' % (text, exc)) from exc
    return moment.astimezone(datetime.timezone.utc)


def format_time(moment):
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def fetched_time(path):
    """When a feed file (or the newest file of a feed directory) was written: its fetch time."""
    newest = os.stat(path).st_mtime
    if os.path.isdir(path):
        for directory, _dirs, files in os.walk(path):
            for name in files:
                try:
                    newest = max(newest, os.stat(os.path.join(directory, name)).st_mtime)
                except OSError:
                    continue
    return datetime.datetime.fromtimestamp(newest, datetime.timezone.utc).replace(microsecond=0)

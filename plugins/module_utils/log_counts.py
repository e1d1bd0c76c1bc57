# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Error and warning lines of systemd units over two equal windows around a change.

A patch run asks whether the services it touched got worse: the lines each
unit logged in the window before the change started are counted against the
same length of time after it.  The journal is read with ``journalctl -o json``
(priority 0-3 is an error, 4 a warning); a line counts for a unit when the
unit wrote it (``_SYSTEMD_UNIT``) or when systemd logged it about the unit
(``UNIT``/``OBJECT_SYSTEMD_UNIT``, such as "Main process exited,
status=1/FAILURE").  Where no journal runs, syslog files are read instead:
their lines carry no priority, so the severity is guessed from words (error,
fail, fatal, crit, emerg, alert; warn) - a heuristic, said so in the result.

Standard library only: it runs on managed hosts.
"""

from __future__ import annotations

import datetime
import json
import os
import re

UTC = datetime.timezone.utc
ERROR_PRIORITY, WARNING_PRIORITY = 3, 4
UNIT_DIRECTORIES = ('/lib/systemd/system/', '/usr/lib/systemd/system/', '/etc/systemd/system/')
UNIT_SUFFIXES = ('.service', '.socket', '.timer')
DEFAULT_SYSLOG_FILES = ('/var/log/syslog', '/var/log/daemon.log', '/var/log/messages')
_ERROR_WORDS = re.compile(r'\b(err(or)?s?|fail(ed|ure|s)?|fatal|crit(ical)?|emerg(ency)?|alert|panic)\b', re.IGNORECASE)
_WARNING_WORDS = re.compile(r'\bwarn(ing|ings|s)?\b', re.IGNORECASE)
# rsyslog's RFC 3339 format (Debian 12): 2026-12-05T12:00:00.123456+00:00 host prog[123]: message
_RFC3339_LINE = re.compile(r'^(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))\s+\S+\s+'
                           r'(?P<tag>[^:\[\s]+)(?:\[\d+\])?:\s?(?P<message>.*)$')
# The classic BSD format: Dec  5 12:00:00 host prog[123]: message (no year: the file's year is taken)
_CLASSIC_LINE = re.compile(r'^(?P<time>[A-Z][a-z]{2}\s+\d{1,2}\s\d{2}:\d{2}:\d{2})\s+\S+\s+(?P<tag>[^:\[\s]+)(?:\[\d+\])?:\s?(?P<message>.*)$')


class LogCountError(ValueError):
    """An option cannot be used (a time that is not UTC ISO 8601, a negative window)."""


def parse_utc(text, option):
    """An aware datetime from ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (or an explicit offset)."""
    if not isinstance(text, str):
        raise LogCountError('%s: %r is not a time like 2026-12-05T12:00:00Z' % (option, text))
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace('Z', '+00:00'))
    except ValueError:
        raise LogCountError('%s: %r is not a time like 2026-12-05T12:00:00Z' % (option, text)) from None
    if moment.tzinfo is None:
        raise LogCountError('%s: %r has no time zone; give UTC with a Z' % (option, text))
    return moment.astimezone(UTC)


def unit_name(name):
    """A unit name with its suffix: ``pw-demod`` is ``pw-demod.service``."""
    return name if name.endswith(UNIT_SUFFIXES) or '.' in name.rsplit('@', 1)[-1] else name + '.service'


def windows(start, end, min_window):
    """``(before, after, seconds)``: two equal windows, ``[start - w, start)`` and ``[start, start + w)``.

    ``w`` is the change's length (``end - start``) but at least ``min_window`` seconds, so a quick
    change is still judged over a useful stretch of log.
    """
    if min_window < 0:
        raise LogCountError('min_window: must be 0 or more seconds, got %s' % min_window)
    if end < start:
        raise LogCountError('end (%s) is before start (%s)' % (utc_text(end), utc_text(start)))
    seconds = max((end - start).total_seconds(), float(min_window))
    width = datetime.timedelta(seconds=seconds)
    return (start - width, start), (start, start + width), seconds


def utc_text(moment):
    return moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def units_of_package_files(paths):
    """The unit names among a package's files (templates such as ``getty@.service`` left out: they are not running units)."""
    units = set()
    for listed in paths:
        path = listed.strip()
        if not path.startswith(UNIT_DIRECTORIES) or not path.endswith(UNIT_SUFFIXES):
            continue
        name = os.path.basename(path)
        if '@.' not in name:
            units.add(name)
    return sorted(units)


def empty_counts(units):
    return {unit: {'before': {'errors': 0, 'warnings': 0}, 'after': {'errors': 0, 'warnings': 0}} for unit in units}


def _bucket(counts, line, before, after):
    """Count one ``(unit, moment, severity)`` line in the window it falls in, if any."""
    unit, moment, severity = line
    if unit not in counts or severity is None:
        return
    if before[0] <= moment < before[1]:
        counts[unit]['before'][severity] += 1
    elif after[0] <= moment < after[1]:
        counts[unit]['after'][severity] += 1


def count_journal_lines(lines, units, before, after):
    """Counts per unit from ``journalctl -o json`` lines (one JSON object per line; malformed ones skipped)."""
    counts = empty_counts(units)
    for line in lines:
        try:
            entry = json.loads(line)
            priority = int(entry.get('PRIORITY', 6))
            moment = datetime.datetime.fromtimestamp(int(entry['__REALTIME_TIMESTAMP']) / 1e6, UTC)
        except (ValueError, TypeError, KeyError):
            continue
        severity = 'errors' if priority <= ERROR_PRIORITY else ('warnings' if priority == WARNING_PRIORITY else None)
        seen = set()
        for field in ('_SYSTEMD_UNIT', 'UNIT', 'OBJECT_SYSTEMD_UNIT'):
            unit = entry.get(field)
            if isinstance(unit, str) and unit not in seen:
                seen.add(unit)
                _bucket(counts, (unit, moment, severity), before, after)
    return counts


def journal_command(units, since, until, directory=None):
    """The journalctl call that lists both windows' lines of ``units`` and systemd's lines about them."""
    command = ['journalctl', '-o', 'json', '--no-pager', '-q', '--utc',
               '--since', '@%d' % int(since.timestamp()), '--until', '@%d' % (int(until.timestamp()) + 1)]
    if directory:
        command += ['--directory', directory]
    for unit in units:
        command += ['-u', unit]
    return command


def severity_of(message):
    """``errors``, ``warnings`` or None for a syslog message without a priority (a word heuristic)."""
    if _ERROR_WORDS.search(message):
        return 'errors'
    if _WARNING_WORDS.search(message):
        return 'warnings'
    return None


def syslog_moment(line, year):
    """(moment, tag, message) of one syslog line in RFC 3339 or classic format, or None."""
    match = _RFC3339_LINE.match(line)
    if match:
        try:
            moment = datetime.datetime.fromisoformat(match.group('time').replace('Z', '+00:00')).astimezone(UTC)
        except ValueError:
            return None
        return moment, match.group('tag'), match.group('message')
    match = _CLASSIC_LINE.match(line)
    if match:
        try:
            moment = datetime.datetime.strptime('%d %s' % (year, ' '.join(match.group('time').split())), '%Y %b %d %H:%M:%S')
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC), match.group('tag'), match.group('message')
    return None


def count_syslog_lines(lines, identifiers, before, after, year):
    """Counts per unit from syslog lines; ``identifiers`` maps a syslog tag to its unit.

    Classic lines carry no year: ``year`` is the file's, and a line dated after the window's end
    by more than a day is taken as last year's (a file that spans New Year).
    """
    units = sorted(set(identifiers.values()))
    counts = empty_counts(units)
    for line in lines:
        parsed = syslog_moment(line.rstrip('\n'), year)
        if parsed is None:
            continue
        moment, tag, message = parsed
        if moment > after[1] + datetime.timedelta(days=1):
            moment = moment.replace(year=moment.year - 1)
        unit = identifiers.get(tag)
        if unit:
            _bucket(counts, (unit, moment, severity_of(message)), before, after)
    return counts


def syslog_identifiers(units, unit_file_text=None):
    """{syslog tag: unit}: the unit's name without its suffix, and its ``SyslogIdentifier=`` when the unit file sets one."""
    identifiers = {}
    for unit in units:
        identifiers[unit.rsplit('.', 1)[0]] = unit
        text = (unit_file_text or {}).get(unit) or ''
        for line in text.splitlines():
            key, _sep, value = line.partition('=')
            if key.strip() == 'SyslogIdentifier' and value.strip():
                identifiers[value.strip()] = unit
    return identifiers


def summarise(counts, max_error_increase):
    """Add each unit's ``error_increase``; return the units whose errors rose by more than ``max_error_increase``."""
    degraded = []
    for unit, count in sorted(counts.items()):
        count['error_increase'] = count['after']['errors'] - count['before']['errors']
        if max_error_increase is not None and count['error_increase'] > max_error_increase:
            degraded.append(unit)
    return degraded

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The patch baseline: which updates are approved, apart from when they are installed.

Policy key ``baseline`` (docs/policy.md)::

    baseline:
      approve_after_days: {critical: 0, high: 3, medium: 7, low: 14}
      bypass: [kev, critical]       # findings that skip the cooling-off period
      approved: [{package, version, advisory}]   # when given, only updates matching one are eligible
      rejected: [{package, version, advisory, reason}]   # never installed

An update is one package (or application) and the target version the plan would install, with
the findings it fixes.  It is *rejected* when a rejected entry matches it, *waiting* while it is
younger than the cooling-off period of its highest tier (counted from when discovery first saw the
update on any host, else from when its oldest finding was first seen), and *eligible* otherwise.
Entries match on a package name glob, a version constraint on the target (``>=1.2, <2``, in the
ecosystem's version order) and an advisory id (the finding's id or any alias); every key given
must match.
"""

from __future__ import annotations

import datetime
import fnmatch
import re

from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions, scheme_for_ecosystem

BYPASS_SELECTORS = ('kev', 'critical')
ENTRY_KEYS = ('package', 'version', 'advisory', 'reason')
_CONSTRAINT = re.compile(r'^\s*(<=|>=|==|!=|<|>|=)\s*([^\s<>=!]\S*)\s*$')
_TIER_RANK = {'critical': 4, 'high': 3, 'medium': 2, 'low': 1, 'none': 0}


class BaselineError(ValueError):
    """An entry cannot be applied (a version constraint that is not a version of the update's scheme)."""


def parse_constraint(text):
    """``[(operator, version)]`` of a constraint such as ``>=1.2, <2``; ValueError naming what is wrong."""
    parts = []
    for piece in str(text).split(','):
        match = _CONSTRAINT.match(piece)
        if not match:
            raise ValueError('%r is not a version constraint (use <, <=, ==, !=, >=, > and a version, comma-separated)' % piece.strip())
        operator, version = match.groups()
        parts.append(('==' if operator == '=' else operator, version))
    return parts


_SATISFIED = {'<': lambda c: c < 0, '<=': lambda c: c <= 0, '==': lambda c: c == 0, '!=': lambda c: c != 0,
              '>=': lambda c: c >= 0, '>': lambda c: c > 0}


def _scheme(ecosystem):
    try:
        return scheme_for_ecosystem(ecosystem)
    except ValueError:
        return 'generic'


def entry_matches(entry, update):
    """Whether a baseline entry matches ``update`` ({name, target, ecosystem, findings: [{id, aliases}]})."""
    if entry.get('package') and not fnmatch.fnmatchcase(update['name'], entry['package']):
        return False
    if entry.get('advisory'):
        names = {name for finding in update['findings'] for name in (finding['id'], *(finding.get('aliases') or []))}
        if entry['advisory'] not in names:
            return False
    if entry.get('version'):
        scheme = _scheme(update.get('ecosystem'))
        for operator, version in parse_constraint(entry['version']):
            try:
                outcome = compare_versions(update['target'], version, scheme)
            except ValueError as exc:
                raise BaselineError('version constraint %r for %s %s: %s' % (entry['version'], update['name'], update['target'], exc)) from exc
            if not _SATISFIED[operator](outcome):
                return False
    return True


def _describe(entry):
    return ', '.join('%s %s' % (key, entry[key]) for key in ('package', 'version', 'advisory') if entry.get(key))


def _tier(update):
    return max((finding.get('tier') or 'none' for finding in update['findings']), key=lambda tier: _TIER_RANK.get(tier, 0), default='none')


def _first_seen(update, sightings):
    seen = (sightings or {}).get((update.get('ecosystem') or '', update['name'], update['target']))
    dates = [seen] if seen else [finding['first_seen'] for finding in update['findings'] if finding.get('first_seen')]
    return datetime.date.fromisoformat(min(dates)[:10]) if dates else None


def verdict(baseline, update, today, sightings=None):
    """``(state, detail)`` of one update: ``('rejected', {rule, reason})``, ``('waiting', {eligible_on, since, days})``,
    ``('not_approved', {})`` or ``('eligible', {})``."""
    for entry in baseline.get('rejected') or []:
        if entry_matches(entry, update):
            return 'rejected', {'rule': _describe(entry), 'reason': entry.get('reason')}
    approved = baseline.get('approved') or []
    if approved and not any(entry_matches(entry, update) for entry in approved):
        return 'not_approved', {'rule': 'baseline.approved names none of it'}
    bypass = set(baseline.get('bypass') or [])
    if not bypass and not any((baseline.get('approve_after_days') or {}).values()):
        # Nothing bypasses and nothing waits (the default baseline): the tier need not be worked out.
        return 'eligible', {}
    tier = _tier(update)
    if ('kev' in bypass and any(finding.get('kev') for finding in update['findings'])) or ('critical' in bypass and tier == 'critical'):
        return 'eligible', {'bypass': 'kev' if any(finding.get('kev') for finding in update['findings']) and 'kev' in bypass else 'critical'}
    days = (baseline.get('approve_after_days') or {}).get(tier, 0) or 0
    if not days:
        return 'eligible', {}
    since = _first_seen(update, sightings)
    if since is None:
        return 'eligible', {}
    eligible_on = since + datetime.timedelta(days=days)
    if eligible_on > today:
        return 'waiting', {'since': since.isoformat(), 'days': days, 'eligible_on': eligible_on.isoformat(), 'tier': tier}
    return 'eligible', {}

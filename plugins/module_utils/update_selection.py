# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which pending OS updates a system patch run applies, by mode, holds and exclusions.

The same rules for apt and dnf: the backends list what is pending (name,
current, available, security) and this module decides.  Pure functions over
data, so every rule is tested without a package manager.
"""

from __future__ import annotations

import fnmatch
import re

from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

MODES = ('security', 'planned', 'all', 'packages')
_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}$')


class SelectionError(ValueError):
    """The request cannot be turned into a selection (an unknown mode, a malformed entry)."""


def parse_requested(entries, key):
    """{name: version or None} from ``name`` / ``name=version`` strings or ``{name, target}`` dicts."""
    requested = {}
    for entry in entries or []:
        if isinstance(entry, dict):
            name, version = entry.get('name'), entry.get('target') or entry.get('version')
        else:
            name, _eq, version = str(entry).partition('=')
            version = version or None
        if not name:
            raise SelectionError('%s: an entry has no package name: %r' % (key, entry))
        requested[name] = version
    return requested


def last_lines(text, lines=15):
    """The last lines of command output: where a package manager says what went wrong."""
    return '\n'.join(text.strip().splitlines()[-lines:])


def _excluded_by(name, patterns):
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern):
            return pattern
    return None


def parse_holds(entries, today, key='holds'):
    """The holds in force on ``today`` (``YYYY-MM-DD``): [{name, reason, until, finding, source}].

    ``entries`` are mappings with ``name`` (a package name or shell pattern) and ``reason``; ``until``
    (the last day of the hold, inclusive), ``finding`` and ``source`` are optional.  A hold whose
    ``until`` has passed is no longer in force and is dropped.
    """
    holds = []
    for index, entry in enumerate(entries or []):
        if not isinstance(entry, dict):
            raise SelectionError('%s[%d]: a hold must be a mapping with name and reason, got %r' % (key, index, entry))
        unknown = sorted(set(entry) - {'name', 'reason', 'until', 'finding', 'source'})
        if unknown:
            raise SelectionError('%s[%d].%s: unknown key (allowed: finding, name, reason, source, until)' % (key, index, unknown[0]))
        for field in ('name', 'reason'):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise SelectionError('%s[%d].%s: must be a non-empty string' % (key, index, field))
        until = entry.get('until')
        if until is not None:
            until = str(until)
            if not _DATE.match(until):
                raise SelectionError('%s[%d].until: %r is not a YYYY-MM-DD date' % (key, index, until))
            if until < today:
                continue
        holds.append({'name': entry['name'], 'reason': entry['reason'], 'until': until,
                      'finding': entry.get('finding'), 'source': entry.get('source') or 'policy'})
    return holds


def _held_by(name, holds):
    for hold in holds:
        if fnmatch.fnmatchcase(name, hold['name']):
            return hold
    return None


def _hold_note(hold):
    note = '%s hold: %s' % (hold['source'], hold['reason'])
    if hold.get('until'):
        note += ' (until %s)' % hold['until']
    return note


def nearest_version(candidates, lowest, above, scheme):
    """The oldest of ``candidates`` that is at least ``lowest`` and newer than ``above`` (the installed version), or None."""
    best = None
    for version in candidates:
        if compare_versions(version, lowest, scheme) < 0:
            continue
        if above is not None and compare_versions(version, above, scheme) <= 0:
            continue
        if best is None or compare_versions(version, best, scheme) < 0:
            best = version
    return best


def _offers_exactly(version, update, available, scheme):
    return any(compare_versions(offered, version, scheme) == 0 for offered in (update['available'], *available.get(update['name'], ())))


def select_updates(pending, mode, *, requested=None, holds=(), policy_holds=(), exclude=(), scheme='deb', available=None,
                   installed=None, manager_hold_reason='held by the package manager', exact=False):
    """Split pending updates into what to apply and what stays, with the reason for each.

    ``pending``: [{name, current, available, security, origin}]; ``requested``: {name: version or None}
    for the modes that name packages (``planned``, ``packages``; in ``security`` mode they are added
    to the host's own security updates, as a plan lists packages whose fix the host may not flag).
    ``holds``: names the package manager holds; ``policy_holds``: holds in force (``parse_holds``);
    ``available``: {name: [every version the sources offer]}, so a requested version is installed
    exactly, or the nearest one above it, instead of the newest; ``installed``: {name: version}, so a
    requested package already at its version is told apart from one that is not installed.
    Returns {selected, held, excluded, remaining, unavailable, reached}:

    - selected: the updates to apply, each with ``target`` (the version to install) and ``match``:
      ``exact`` (the requested version), ``nearest`` (the oldest offered version above the requested
      one, which the sources no longer carry) or ``newest`` (nothing requested: the candidate);
    - held: taken by the mode but held (by the package manager or a hold), with the ``reason``;
    - excluded: taken by the mode but matched by an exclusion pattern (the policy's), with the ``pattern``;
    - remaining: pending updates the mode does not take (a normal update in security mode);
    - unavailable: requested packages with no pending update that reaches the requested version
      (``reason`` says why; ``installed`` false for a package the host does not have);
    - reached: requested packages whose installed version is already the requested one or newer.

    With ``exact`` (a frozen patch set), a requested version the sources no longer offer is unavailable: the
    nearest newer one is never taken in its place.
    """
    if mode not in MODES:
        raise SelectionError('mode must be one of %s, got %r' % (', '.join(MODES), mode))
    requested = dict(requested or {})
    if mode == 'packages' and not requested:
        raise SelectionError('mode %s needs the packages to update' % mode)
    manager_holds, exclude, available = set(holds), list(exclude), available or {}
    result = {'selected': [], 'held': [], 'excluded': [], 'remaining': [], 'unavailable': [], 'reached': []}
    installed = installed or {}
    reached = {}
    for name, version in requested.items():
        current = installed.get(name)
        if version and current and compare_versions(current, version, scheme) >= 0:
            reached[name] = current
    by_name = {}
    for update in pending:
        by_name.setdefault(update['name'], update)

    for update in sorted(pending, key=lambda item: item['name']):
        name = update['name']
        # A plan entry already reached asks for nothing more; the mode may still want the update for itself.
        wanted = (mode == 'all' or (name in requested and name not in reached) or (mode == 'security' and update.get('security')))
        if not wanted:
            result['remaining'].append(dict(update))
            continue
        lowest = None if name in reached else requested.get(name)
        if lowest is None:
            target, match = update['available'], 'newest'
        else:
            # The sources do not carry the requested version yet: reported below, never guessed.
            target = nearest_version([update['available'], *available.get(name, ())], lowest, update.get('current'), scheme)
            if target is None:
                continue
            match = 'exact' if compare_versions(target, lowest, scheme) == 0 else 'nearest'
            if exact and match != 'exact':
                continue
        entry = dict(update, target=target, match=match, requested=lowest)
        if name in manager_holds:
            result['held'].append(dict(entry, reason=manager_hold_reason))
            continue
        hold = _held_by(name, policy_holds)
        if hold:
            result['held'].append(dict(entry, reason=_hold_note(hold), hold=hold))
            continue
        pattern = _excluded_by(name, exclude)
        if pattern:
            result['excluded'].append(dict(entry, pattern=pattern))
            continue
        result['selected'].append(entry)

    for name, version in sorted(requested.items()):
        update = by_name.get(name)
        if name in reached:
            result['reached'].append({'name': name, 'target': version, 'installed': reached[name]})
        elif update is None and installed and name not in installed:
            result['unavailable'].append({'name': name, 'target': version, 'installed': False, 'reason': 'the package is not installed'})
        elif update is None:
            result['unavailable'].append({'name': name, 'target': version, 'reason': 'no pending update for this package'})
        elif version and nearest_version([update['available'], *available.get(name, ())], version, update.get('current'), scheme) is None:
            result['unavailable'].append({'name': name, 'target': version, 'available': update['available'],
                                          'reason': 'the sources offer %s, older than %s' % (update['available'], version)})
        elif version and exact and not _offers_exactly(version, update, available, scheme):
            offered = sorted({update['available'], *available.get(name, ())})
            result['unavailable'].append({'name': name, 'target': version, 'available': update['available'],
                                          'reason': 'the sources no longer offer %s (they offer %s); only that exact version may be '
                                                    'installed' % (version, ', '.join(offered))})
    return result


def held_dependencies(changes, selected, policy_holds):
    """Holds the simulated ``changes`` would break: [{name, reason, hold}] of held packages the selection pulls in.

    The package manager does not know the policy's holds, so an update may bring a held package
    along as a dependency; such a selection is refused instead of installed.
    """
    chosen = {entry['name'] for entry in selected}
    broken = []
    for change in changes:
        if change['name'] in chosen or change.get('from') is None:
            continue
        hold = _held_by(change['name'], policy_holds)
        if hold:
            broken.append({'name': change['name'], 'from': change['from'], 'to': change.get('to'), 'reason': _hold_note(hold), 'hold': hold})
    return broken


def package_changes(before, after):
    """[{name, from, to}] between two {name: version} maps (None for installed/removed), sorted by name."""
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append({'name': name, 'from': old, 'to': new})
    return changes

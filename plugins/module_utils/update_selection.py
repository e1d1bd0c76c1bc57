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

from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

MODES = ('security', 'planned', 'all', 'packages')


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


def select_updates(pending, mode, *, requested=None, holds=(), exclude=(), scheme='deb'):
    """Split pending updates into what to apply and what stays, with the reason for each.

    ``pending``: [{name, current, available, security, origin}]; ``requested``: {name: version or None}
    for the modes that name packages (``planned``, ``packages``; in ``security`` mode they are added
    to the host's own security updates, as a plan lists packages whose fix the host may not flag).
    Returns {selected, held, excluded, remaining, unavailable}:

    - selected: the updates to apply, each with ``target`` (the version to install);
    - held: selected by the mode but held by the package manager (apt-mark hold, versionlock);
    - excluded: selected by the mode but matched by an exclusion pattern (the policy's);
    - remaining: pending updates the mode does not take (a normal update in security mode);
    - unavailable: requested packages with no pending update that reaches the requested version.
    """
    if mode not in MODES:
        raise SelectionError('mode must be one of %s, got %r' % (', '.join(MODES), mode))
    requested = dict(requested or {})
    if mode in ('planned', 'packages') and not requested:
        raise SelectionError('mode %s needs the packages to update' % mode)
    holds, exclude = set(holds), list(exclude)
    result = {'selected': [], 'held': [], 'excluded': [], 'remaining': [], 'unavailable': []}
    by_name = {}
    for update in pending:
        by_name.setdefault(update['name'], update)

    for update in sorted(pending, key=lambda item: item['name']):
        name = update['name']
        wanted = (mode == 'all' or name in requested or (mode == 'security' and update.get('security')))
        if not wanted:
            result['remaining'].append(dict(update))
            continue
        target = requested.get(name) or update['available']
        if compare_versions(update['available'], target, scheme) < 0:
            # The sources do not carry the requested version yet: reported, never guessed.
            continue
        if name in holds:
            result['held'].append(dict(update, target=target))
            continue
        pattern = _excluded_by(name, exclude)
        if pattern:
            result['excluded'].append(dict(update, target=target, pattern=pattern))
            continue
        # A plan's target is the lowest version that fixes; the newest available one is installed,
        # as a security archive carries only the newest fix.
        result['selected'].append(dict(update, target=update['available']))

    for name, version in sorted(requested.items()):
        update = by_name.get(name)
        if update is None:
            result['unavailable'].append({'name': name, 'target': version, 'reason': 'no pending update for this package'})
        elif version and compare_versions(update['available'], version, scheme) < 0:
            result['unavailable'].append({'name': name, 'target': version, 'available': update['available'],
                                          'reason': 'the sources offer %s, older than %s' % (update['available'], version)})
    return result


def package_changes(before, after):
    """[{name, from, to}] between two {name: version} maps (None for installed/removed), sorted by name."""
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append({'name': name, 'from': old, 'to': new})
    return changes

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The normalized advisory model, and OSV's rule for "is this version affected".

Every feed parser (feed_osv, feed_debian, ...) produces advisories of one shape:

    {'id', 'aliases': [...], 'summary', 'published', 'modified',
     'cvss': {'vector', 'score'} or None, 'references': [...], 'source',
     'affected': [{'ecosystem', 'package', 'ranges': [{'type', 'events': [...]}],
                   'versions': [...], 'fixed': [...], 'status', 'urgency'}]}

``ranges`` keep OSV's event lists (``introduced``/``fixed``/``last_affected``/
``limit``), so one evaluator, ``osv_affected``, serves every feed.  Standard
library only (Python 3.9+).
"""

from __future__ import annotations

import re
from functools import cmp_to_key

from ansible_collections.patchwise.patching.plugins.module_utils import osv_ecosystems
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions, scheme_for_ecosystem

EVALUATED_RANGE_TYPES = ('ECOSYSTEM', 'SEMVER')
_EVENT_KINDS = ('introduced', 'fixed', 'last_affected', 'limit')


class FeedError(ValueError):
    """A feed or one of its records cannot be used; the message names where."""


_PEP503_SEPARATORS = re.compile(r'[-_.]+')


def _pep503_name(name):
    # PEP 503: every run of '-', '_' and '.' is one '-', and case does not matter.
    return _PEP503_SEPARATORS.sub('-', name).lower()


def package_name_normalizer(ecosystem):
    """The function giving the compared form of ``ecosystem``'s package names, or None when they compare exactly.

    PyPI names compare after PEP 503 normalization; other ecosystems' names exactly.
    """
    return _pep503_name if ecosystem.split(':', 1)[0] == 'PyPI' else None


def normalize_package_name(ecosystem, name):
    normalize = package_name_normalizer(ecosystem)
    return normalize(name) if normalize else name


def ecosystem_applies(record_ecosystem, ecosystem):
    """Whether an affected entry's ecosystem covers the queried one (see ``osv_ecosystems.ecosystem_applies``).

    ``Debian:12`` covers ``Debian:12``; an unversioned ``Debian`` covers every
    Debian release; ``Red Hat:enterprise_linux:9::appstream`` covers a host of
    ``Red Hat:enterprise_linux:9``.
    """
    return osv_ecosystems.ecosystem_applies(record_ecosystem, ecosystem)


def osv_aliases(record):
    """The other ids of the vulnerability an OSV record describes, in order and without repeats.

    ``aliases`` are the same vulnerability under other ids.  ``upstream`` (OSV 1.7) names the
    vulnerabilities a distribution record derives from - Debian's DLA/DSA, Ubuntu's USN, Alpine's
    records put the CVE ids there and nowhere else.  ``related`` means "related, not the same"; but
    distribution errata written before ``upstream`` existed (AlmaLinux's ALSA, SUSE's SU) list
    the CVEs they fix there, so its CVE ids count when the record names no CVE otherwise.
    """
    names = []
    for field in ('aliases', 'upstream'):
        names.extend(name for name in record.get(field) or [] if isinstance(name, str) and name)
    if not any(name.startswith('CVE-') for name in [record.get('id') or '', *names]):
        names.extend(name for name in record.get('related') or [] if isinstance(name, str) and name.startswith('CVE-'))
    own = record.get('id')
    return [name for position, name in enumerate(names) if name != own and name not in names[:position]]


def event_shape_error(event):
    """Why ``event`` is not an OSV range event, a mapping with exactly one of the event kinds; None when it is."""
    if isinstance(event, dict):
        kinds = sorted(str(kind) for kind in event)
        if len(kinds) == 1 and kinds[0] in _EVENT_KINDS:
            return None
        got = ', '.join(kinds) or 'nothing'
    else:
        got = 'a %s' % type(event).__name__
    return 'an event must have exactly one of %s; got %s' % (', '.join(_EVENT_KINDS), got)


def _sort_events(events, scheme, record_id):
    keyed = []
    for event in events:
        problem = event_shape_error(event)
        if problem:
            raise FeedError('%s: %s' % (record_id, problem))
        kind, value = next(iter(event.items()))
        keyed.append((kind, str(value)))

    def order(left, right):
        # "introduced: 0" precedes every version.
        if left[1] == right[1]:
            return 0
        if left[0] == 'introduced' and left[1] == '0':
            return -1
        if right[0] == 'introduced' and right[1] == '0':
            return 1
        if left[1] == '*' or right[1] == '*':
            return 1 if left[1] == '*' else -1
        return compare_versions(left[1], right[1], scheme)

    try:
        return sorted(keyed, key=cmp_to_key(order))
    except ValueError as exc:
        raise FeedError('%s: %s' % (record_id, exc)) from exc


def range_affects(events, version, scheme, record_id='record'):
    """OSV's evaluation of one ECOSYSTEM or SEMVER range for ``version``."""
    vulnerable = False
    limits = []
    try:
        for kind, value in _sort_events(events, scheme, record_id):
            if kind == 'introduced':
                if value == '0' or compare_versions(version, value, scheme) >= 0:
                    vulnerable = True
            elif kind == 'fixed':
                if compare_versions(version, value, scheme) >= 0:
                    vulnerable = False
            elif kind == 'last_affected':
                if compare_versions(version, value, scheme) > 0:
                    vulnerable = False
            else:
                limits.append(value)
        if vulnerable and limits:
            vulnerable = any(limit == '*' or compare_versions(version, limit, scheme) < 0 for limit in limits)
    except ValueError as exc:
        if isinstance(exc, FeedError):
            raise
        raise FeedError('%s: %s' % (record_id, exc)) from exc
    return vulnerable


def osv_affected(record, ecosystem, name, version):
    """Whether OSV record ``record`` says ``name`` at ``version`` in ``ecosystem`` is affected.

    Follows the OSV schema: an affected entry applies when its package's
    ecosystem and name match; the version is affected when it is listed in
    ``versions`` or falls in an ECOSYSTEM/SEMVER range (events sorted by the
    ecosystem's version order).  GIT ranges cannot be evaluated against a
    package version and are ignored here.  An unknown ecosystem raises
    ValueError.
    """
    scheme = scheme_for_ecosystem(ecosystem)
    record_id = record.get('id', '<record without id>')
    wanted = normalize_package_name(ecosystem, name)
    for affected in record.get('affected') or []:
        package = affected.get('package') or {}
        record_ecosystem = package.get('ecosystem')
        if not record_ecosystem or not ecosystem_applies(record_ecosystem, ecosystem):
            continue
        if normalize_package_name(ecosystem, package.get('name', '')) != wanted:
            continue
        if version in (affected.get('versions') or []):
            return True
        for osv_range in affected.get('ranges') or []:
            if osv_range.get('type') in EVALUATED_RANGE_TYPES:
                range_scheme = 'semver' if osv_range.get('type') == 'SEMVER' else scheme
                if range_affects(osv_range.get('events') or [], version, range_scheme, record_id):
                    return True
    return False


def fixed_versions(ranges):
    """The ``fixed`` versions named in OSV ranges, in order of appearance."""
    found = []
    for osv_range in ranges:
        for event in osv_range.get('events') or []:
            fixed = event.get('fixed') if isinstance(event, dict) else None
            if fixed and fixed not in found:
                found.append(fixed)
    return found

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The raw findings of one asset record: what the advisory database says affects it.

``record_findings(record, advisories)`` matches

* each installed OS package, by source package and source version on Debian
  (the tracker and Debian's OSV records are filed per source package), by
  binary name elsewhere;
* each discovered application in its own ecosystem (PyPI, npm, ...);
* the pending updates the distribution marks as security fixes that no
  advisory names (one finding per source package), so a host is never
  "clean" only because no feed is loaded.

A raw finding carries the advisory facts; the risk engine (``risk.py``)
adds decisions, tiers and due dates.  ``advisories`` is an
``advisory_db.AdvisoryDB`` (or None: only distribution security updates).
"""

from __future__ import annotations

import re

from ansible_collections.patchwise.patching.plugins.module_utils.osv_ecosystems import SOURCE_NAMED
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions, scheme_for_ecosystem

# Application ecosystems without advisories: declared applications with a generic version.
_UNMATCHED_ECOSYSTEMS = ('generic', '', None)
# Version of the match_view layout; a stored view of another version is rebuilt from its record.
# 2: matched by source package wherever the ecosystem's advisories name source packages (not only on apt),
# every ecosystem of the host, and the states of packages that are not fully installed.
# 3: AlmaLinux hosts by binary package again (its advisories name binary RPMs).
MATCH_VIEW = 3


def _first_fix(fixed_versions, installed, scheme):
    """The lowest fixed version above the installed one, or None (no fix yet)."""
    candidates = []
    for version in fixed_versions or []:
        try:
            if compare_versions(version, installed, scheme) > 0:
                candidates.append(version)
        except ValueError:
            continue
    if not candidates:
        return None
    best = candidates[0]
    for version in candidates[1:]:
        if compare_versions(version, best, scheme) < 0:
            best = version
    return best


def _finding(match, kind, package, installed, *, binaries, scheme):
    return {
        'id': match['id'],
        'aliases': sorted(alias for alias in match['aliases'] if alias != match['id']),
        'kind': kind,
        'package': package,
        'binary_packages': binaries,
        'installed': installed,
        'fixed': _first_fix(match['fixed'], installed, scheme),
        'ecosystem': match['ecosystem'],
        'summary': match.get('summary'),
        'source': match.get('source'),
        'cvss': match.get('cvss'),
        'epss': match.get('epss'),
        'kev': match.get('kev'),
        'tracker_status': match.get('status'),
        'vulnrichment': match.get('vulnrichment'),
        'urgency': match.get('urgency'),
        'distribution_security_update': None,
    }


def _shared(cache, match, kind, package, installed, *, binaries, scheme):
    """The raw finding for this match, made once per pass and shared by every host that has it: never changed after."""
    key = (match['id'], match['ecosystem'], kind, package, installed, tuple(binaries))
    base = cache.get(key)
    if base is None:
        base = cache[key] = _finding(match, kind, package, installed, binaries=binaries, scheme=scheme)
    return base


def _escape(text):
    """``text`` made safe to join with tabs and newlines (a backslash escapes itself, tab and newline)."""
    if not isinstance(text, str):
        raise ValueError('asset record: package name or version %r is not a string' % (text,))
    if '\\' in text or '\t' in text or '\n' in text:
        return text.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n')
    return text


def _unescape(text):
    if '\\' not in text:
        return text
    return re.sub(r'\\(.)', lambda found: {'t': '\t', 'n': '\n'}.get(found.group(1), found.group(1)), text)


def _split_key(key):
    name, version = key.split('\t')
    return _unescape(name), _unescape(version)


def match_view(record):
    """The part of an asset record that matching reads, in a compact form the asset store keeps beside it.

    Parsing a whole record (thousands of package mappings) costs more than
    classifying it, so the fleet pass reads this instead:

    * ``keys``: the distinct (package, version) keys of the OS packages (by
      source package on apt), ``name<TAB>version`` joined by newlines;
    * ``binaries``: for each key in the same order, its binary package names
      (tab-joined, sorted), empty when the only binary has the key's name;
    * ``held``: {key: [held binaries]} for keys with held packages;
    * ``applications``: [ecosystem, name, version] of matchable applications;
    * ``updates``: the pending security updates, and ``update_sources``
      the source package of each (for grouping unnamed ones).

    ``record_findings`` gives the same findings for a record and its view.
    """
    os_facts = record.get('os') or {}
    packages = record.get('packages') or []
    # Debian, Ubuntu, Rocky, Red Hat, Alpine and SUSE file advisories under the source package; AlmaLinux under binaries.
    by_source = str(os_facts.get('ecosystem') or '').split(':', 1)[0] in SOURCE_NAMED
    keys, binaries, held, unfinished = {}, [], {}, {}
    for package in packages:
        if by_source:
            name, version = package.get('source_name') or package['name'], package.get('source_version') or package['version']
        else:
            name, version = package['name'], package['version']
        # _escape inlined for the usual plain strings (thousands of packages per record): one look at the joined key.
        if isinstance(name, str) and isinstance(version, str):
            key = name + '\t' + version
            if '\\' in key or '\n' in key or key.count('\t') != 1:
                key = _escape(name) + '\t' + _escape(version)
        else:
            key = _escape(name) + '\t' + _escape(version)
        index = keys.get(key)
        if index is None:
            index = keys[key] = len(binaries)
            binaries.append(set())
        binary = package['name']
        plain = isinstance(binary, str) and '\\' not in binary and '\t' not in binary and '\n' not in binary
        binaries[index].add(binary if plain else _escape(binary))
        if package.get('held'):
            held.setdefault(key, set()).add(package['name'])
        if package.get('state', 'installed') != 'installed':
            unfinished.setdefault(key, {})[package['name']] = package['state']
    names = [name.split('\t', 1)[0] for name in keys]
    source_of = None
    updates = [update for update in record.get('updates') or [] if update.get('security')]
    if updates:
        source_of = {p['name']: (p.get('source_name') or p['name']) for p in packages}
    return {
        'view': MATCH_VIEW,
        'schema': record.get('schema'),
        'os': os_facts,
        'has_packages': bool(packages),
        'keys': '\n'.join(keys),
        'binaries': '\n'.join('' if built == {name} else '\t'.join(sorted(built)) for name, built in zip(names, binaries)),
        'held': {key: sorted(names_held) for key, names_held in held.items()},
        'unfinished': unfinished,
        'applications': [[app['ecosystem'], app['name'], app['version']] for app in record.get('applications') or []
                         if app.get('ecosystem') not in _UNMATCHED_ECOSYSTEMS and app.get('version')],
        'updates': [{'name': u['name'], 'current': u.get('current'), 'available': u['available'], 'origin': u.get('origin')}
                    for u in updates],
        'update_sources': {u['name']: source_of[u['name']] for u in updates if u['name'] in source_of} if updates else {},
    }


def _os_findings(view, advisories, skipped, cache):
    os_facts = view['os']
    ecosystems = os_facts.get('ecosystems') or ([os_facts['ecosystem']] if os_facts.get('ecosystem') else [])
    if not view['has_packages']:
        return []
    if not ecosystems:
        skipped.append('OS packages not matched: %s' % (os_facts.get('ecosystem_reason') or 'the record names no OSV ecosystem for %s %s'
                                                        % (os_facts.get('distribution'), os_facts.get('version'))))
        return []
    if len(ecosystems) == 1:
        return _ecosystem_findings(view, ecosystems[0], advisories, skipped, cache)
    items, seen = [], {}
    for ecosystem in ecosystems:
        for base, extra in _ecosystem_findings(view, ecosystem, advisories, skipped, cache):
            key = (base['id'], base['package'], base['installed'])
            index = seen.get(key)
            if index is None:
                seen[key] = len(items)
                items.append((base, extra))
            else:
                # An Ubuntu Pro host: the ESM ecosystem may know the fix the release's does not.
                items[index] = (_with_fix(cache, items[index][0], base), items[index][1])
    return items


def _with_fix(cache, known, other):
    """``known``, or when only ``other`` (the same advisory for the same package) names a fix, the two merged.

    The merged finding is kept in the cache like the others, so hosts share it too.
    """
    if known['fixed'] is not None or other['fixed'] is None:
        return known
    merged = cache.get(('merged', id(known), id(other)))
    if merged is None:
        merged = cache[('merged', id(known), id(other))] = dict(known, fixed=other['fixed'], ecosystem=other['ecosystem'])
    return merged


def _distinct(cache, bases):
    """One raw finding per advisory of one package version (an advisory may list a package twice)."""
    distinct, index_of = [], {}
    for base in bases:
        index = index_of.get(base['id'])
        if index is None:
            index_of[base['id']] = len(distinct)
            distinct.append(base)
        else:
            distinct[index] = _with_fix(cache, distinct[index], base)
    return distinct


def _ecosystem_findings(view, ecosystem, advisories, skipped, cache):
    """The findings of the host's packages in one ecosystem: [(shared raw finding, host's own fields or None)]."""
    try:
        scheme = scheme_for_ecosystem(ecosystem)
    except ValueError:
        skipped.append('OS packages not matched: unknown ecosystem %s' % ecosystem)
        return []
    if advisories is None:
        return []
    keys = view['keys'].split('\n')
    wanted = set(keys)
    # Keys already matched in this pass (most of a fleet's) are decided by set operations:
    # Python-level work per host follows its new keys and its findings, not its packages.
    seen = cache.setdefault(('keys seen', ecosystem), set())
    hits = cache.setdefault(('keys matched', ecosystem), {})
    new = wanted - seen
    if new:
        for (name, version), found in advisories.match(ecosystem, [_split_key(key) for key in new]).items():
            if found:
                hits[_escape(name) + '\t' + _escape(version)] = found
        seen |= new
        cache[('hit keys', ecosystem)] = set(hits)
    found_keys = wanted & cache.get(('hit keys', ecosystem), set())
    if not found_keys:
        return []
    position = dict(zip(keys, range(len(keys))))
    binaries = view['binaries'].split('\n')
    held = set()
    for key in found_keys:
        held.update(view['held'].get(key, ()))
    unfinished_of = view.get('unfinished') or {}
    items = []
    for key in sorted(found_keys, key=_split_key):
        built = binaries[position[key]]
        # The key's raw findings for these binaries, made once per pass: hosts with the same package share them.
        bases = cache.get(('bases', ecosystem, key, built))
        if bases is None:
            name, version = _split_key(key)
            built_from = [_unescape(binary) for binary in built.split('\t')] if built else [name]
            bases = _distinct(cache, [_shared(cache, match, 'os', name, version, binaries=built_from, scheme=scheme) for match in hits[key]])
            cache[('bases', ecosystem, key, built)] = bases
            cache[('plain items', ecosystem, key, built)] = [(base, None) for base in bases]
        held_here = [binary for binary in bases[0]['binary_packages'] if binary in held] if held else []
        unfinished = unfinished_of.get(key)
        if held_here or unfinished:
            extra = {}
            if held_here:
                extra['held_binaries'] = held_here
            if unfinished:
                extra['unfinished_binaries'] = dict(unfinished)
            items.extend((base, dict(extra)) for base in bases)
        else:
            items.extend(cache[('plain items', ecosystem, key, built)])
    return items


def _app_findings(view, advisories, skipped, cache):
    if advisories is None:
        return []
    by_ecosystem = {}
    for ecosystem, name, version in view['applications']:
        by_ecosystem.setdefault(ecosystem, set()).add((name, version))
    items = []
    for ecosystem, wanted in sorted(by_ecosystem.items()):
        try:
            scheme = scheme_for_ecosystem(ecosystem)
        except ValueError:
            skipped.append('applications not matched: unknown ecosystem %s' % ecosystem)
            continue
        for (name, version), found in sorted(advisories.match(ecosystem, sorted(wanted)).items()):
            items.extend((_shared(cache, match, 'app', name, version, binaries=[], scheme=scheme), None) for match in found)
    return items


def _distribution_updates(view, items, cache):
    """Attach pending security updates to the findings of their packages; add one finding per source package no advisory fixes.

    ``fixed`` comes only from advisory data: a pending update is shown as the finding's
    ``candidate``, never as its fix - an advisory that names no fix (Debian's ``<unfixed>``) stays
    unfixed however new the package gets.  A security update that fixes none of its package's known
    findings fixes something the loaded feeds do not name: it gets a ``security-update:`` finding.
    ``items`` are (shared raw finding, host's fields) pairs; the host's fields of a covered finding
    are replaced in place.
    """
    covered = {}
    for index, (base, _extra) in enumerate(items):
        if base['kind'] == 'os':
            for binary in base['binary_packages']:
                covered.setdefault(binary, []).append(index)
    unnamed = {}
    for update in view['updates']:
        pending = {'name': update['name'], 'available': update['available'], 'origin': update['origin']}
        for index in covered.get(update['name'], ()):
            base, extra = items[index]
            extra = dict(extra or {})
            extra['distribution_security_update'] = [*(extra.get('distribution_security_update') or []), pending]
            extra['candidate'] = update['available']
            items[index] = (base, extra)
        if not any(items[index][0]['fixed'] is not None for index in covered.get(update['name'], ())):
            unnamed.setdefault(update['name'], []).append((update, pending))
    if unnamed:
        # Group the binaries no advisory names by their source package.
        source_of = view['update_sources']
        by_source = {}
        for binary, updates in unnamed.items():
            by_source.setdefault(source_of.get(binary, binary), []).extend(updates)
        unnamed = by_source
    extra_items = []
    for source, updates in sorted(unnamed.items()):
        first = updates[0][0]
        binary_packages = sorted(update['name'] for update, _pending in updates)
        # Shared like the advisories' findings; the pending updates themselves are the host's.
        key = ('security update', source, tuple(binary_packages), first.get('current'), first.get('available'), first.get('origin'),
               view['os'].get('ecosystem'))
        base = cache.get(key)
        if base is None:
            base = cache[key] = {
                'id': 'security-update:%s' % source,
                'aliases': [],
                'kind': 'os',
                'package': source,
                'binary_packages': binary_packages,
                'installed': first.get('current'),
                'fixed': first.get('available'),
                'ecosystem': view['os'].get('ecosystem'),
                'summary': 'pending update marked as a security fix by the distribution (%s)' % first.get('origin'),
                'source': 'distribution',
                'cvss': None, 'epss': None, 'kev': None, 'tracker_status': None, 'urgency': None,
                'distribution_security_update': None,
            }
        extra_items.append((base, {'distribution_security_update': [pending for _update, pending in updates]}))
    return extra_items


def is_match_view(record):
    """True when ``record`` is a ``match_view`` of the current layout rather than a full record."""
    return record.get('view') == MATCH_VIEW and 'keys' in record


def record_matches(record, advisories, cache):
    """Return ([(raw finding, host's own fields or None)], [reasons something was not matched]) for one record or view.

    The raw findings are shared through ``cache`` (a dict kept across the
    records of one pass) by every record that has them and must not be
    changed; the host's own fields (held and unfinished binaries, pending
    security updates and their candidate version) come apart.
    """
    view = record if is_match_view(record) else match_view(record)
    skipped = []
    items = _os_findings(view, advisories, skipped, cache) + _app_findings(view, advisories, skipped, cache)
    if view['updates']:
        items.extend(_distribution_updates(view, items, cache))
    return items, skipped


def record_findings(record, advisories, cache=None):
    """Return (raw findings, [reasons something was not matched]) for one asset record (or its ``match_view``).

    ``cache`` (a dict kept across the records of one pass) memoises the raw
    findings and which package keys match; each record gets its own copies.
    """
    items, skipped = record_matches(record, advisories, {} if cache is None else cache)
    return [dict(base, **extra) if extra else dict(base) for base, extra in items], skipped

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

from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions, scheme_for_ecosystem

# Application ecosystems without advisories: declared applications with a generic version.
_UNMATCHED_ECOSYSTEMS = ('generic', '', None)


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


def _memoised(cache, match, kind, package, installed, *, binaries, scheme):
    """A fresh copy of the raw finding for this match; the matching work is done once per pass."""
    key = (match['id'], match['ecosystem'], kind, package, installed, tuple(binaries))
    base = cache.get(key)
    if base is None:
        base = cache[key] = _finding(match, kind, package, installed, binaries=binaries, scheme=scheme)
    return dict(base)


def _os_findings(record, advisories, skipped, cache):
    ecosystem = (record.get('os') or {}).get('ecosystem')
    packages = record.get('packages') or []
    if not packages:
        return []
    if not ecosystem:
        skipped.append('OS packages not matched: the record names no OSV ecosystem for %s %s'
                       % ((record.get('os') or {}).get('distribution'), (record.get('os') or {}).get('version')))
        return []
    try:
        scheme = scheme_for_ecosystem(ecosystem)
    except ValueError:
        skipped.append('OS packages not matched: unknown ecosystem %s' % ecosystem)
        return []
    by_source = record.get('os', {}).get('pkg_mgr') == 'apt'

    if by_source:
        keys = [(p.get('source_name') or p['name'], p.get('source_version') or p['version']) for p in packages]
    else:
        keys = [(p['name'], p['version']) for p in packages]
    # One set of (package, version) to match; the binaries behind a key are gathered
    # only for the few keys an advisory names (a host has thousands of packages).
    matches = advisories.match(ecosystem, list(set(keys))) if advisories is not None else {}
    found_keys = {key for key, found in matches.items() if found}
    if not found_keys:
        return []
    binaries, held = {}, set()
    for package, key in zip(packages, keys):
        if key in found_keys:
            binaries.setdefault(key, set()).add(package['name'])
            if package.get('held'):
                held.add(package['name'])
    findings = []
    for name, version in sorted(found_keys):
        built_from = sorted(binaries[(name, version)])
        held_here = [binary for binary in built_from if binary in held]
        for match in matches[(name, version)]:
            finding = _memoised(cache, match, 'os', name, version, binaries=built_from, scheme=scheme)
            if held_here:
                finding['held_binaries'] = held_here
            findings.append(finding)
    return findings


def _app_findings(record, advisories, skipped, cache):
    if advisories is None:
        return []
    by_ecosystem = {}
    for app in record.get('applications') or []:
        if app.get('ecosystem') in _UNMATCHED_ECOSYSTEMS or not app.get('version'):
            continue
        by_ecosystem.setdefault(app['ecosystem'], set()).add((app['name'], app['version']))
    findings = []
    for ecosystem, wanted in sorted(by_ecosystem.items()):
        try:
            scheme = scheme_for_ecosystem(ecosystem)
        except ValueError:
            skipped.append('applications not matched: unknown ecosystem %s' % ecosystem)
            continue
        for (name, version), found in sorted(advisories.match(ecosystem, sorted(wanted)).items()):
            findings.extend(_memoised(cache, match, 'app', name, version, binaries=[], scheme=scheme) for match in found)
    return findings


def _distribution_updates(record, findings):
    """Mark findings fixed by pending security updates; add one finding per source package no advisory names."""
    covered = {}
    for finding in findings:
        if finding['kind'] == 'os':
            for binary in finding['binary_packages']:
                covered.setdefault(binary, []).append(finding)
    unnamed = {}
    for update in record.get('updates') or []:
        if not update.get('security'):
            continue
        pending = {'name': update['name'], 'available': update['available'], 'origin': update.get('origin')}
        if update['name'] in covered:
            for finding in covered[update['name']]:
                finding['distribution_security_update'] = [*(finding['distribution_security_update'] or []), pending]
                if finding['fixed'] is None:
                    # The advisory knows no fix yet (or no DSA), but the security archive has one for this host.
                    finding['fixed'] = update['available']
            continue
        unnamed.setdefault(update['name'], []).append((update, pending))
    if unnamed:
        # Group the binaries no advisory names by their source package (only built when there are some).
        source_of = {p['name']: (p.get('source_name') or p['name']) for p in record.get('packages') or []}
        by_source = {}
        for binary, updates in unnamed.items():
            by_source.setdefault(source_of.get(binary, binary), []).extend(updates)
        unnamed = by_source
    extra = []
    for source, updates in sorted(unnamed.items()):
        first = updates[0][0]
        extra.append({
            'id': 'security-update:%s' % source,
            'aliases': [],
            'kind': 'os',
            'package': source,
            'binary_packages': sorted(update['name'] for update, _pending in updates),
            'installed': first.get('current'),
            'fixed': first.get('available'),
            'ecosystem': (record.get('os') or {}).get('ecosystem'),
            'summary': 'pending update marked as a security fix by the distribution (%s)' % first.get('origin'),
            'source': 'distribution',
            'cvss': None, 'epss': None, 'kev': None, 'tracker_status': None, 'urgency': None,
            'distribution_security_update': [pending for _update, pending in updates],
        })
    return extra


def record_findings(record, advisories, cache=None):
    """Return (raw findings, [reasons something was not matched]) for one asset record.

    ``cache`` (a dict kept across the records of one pass) memoises the raw
    findings; each record gets its own copies.
    """
    cache = {} if cache is None else cache
    skipped = []
    findings = _os_findings(record, advisories, skipped, cache) + _app_findings(record, advisories, skipped, cache)
    findings.extend(_distribution_updates(record, findings))
    return findings, skipped

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Debian security tracker's own list files, converted to the tracker's JSON for one release (test data only).

The real advisories in tests/unit/plugins/fixtures/debian_advisories/ (README.md there) come as the tracker
keeps them in its repository - ``data/DSA/list``, ``data/DLA/list`` and entries of ``data/CVE/list`` - and as
a JSON-lines digest of later advisories. The collection reads the tracker's published JSON
(https://security-tracker.debian.org/tracker/data/json); this module writes that JSON from the lists, the
way the tracker derives it, for the packages and the release a test needs:

- a DSA or DLA line ``[bookworm] - curl 7.88.1-10+deb12u4`` fixes each CVE of the advisory in that version
  (the first advisory that fixes a CVE gives its fixed version);
- in the CVE list, a line of the release itself wins: a version, or ``<no-dsa>``, ``<ignored>`` or
  ``<postponed>`` (open, marked as left for a point release: the JSON's ``nodsa``), ``<not-affected>``
  (fixed version ``0``), ``<unfixed>`` (open);
- without a line of the release, the unstable line decides from the release's own version of the source
  package (bookworm-source-versions.tsv): a fix in unstable that the release already has is resolved,
  one it does not have is open; ``<unfixed>`` and ``<removed>`` are open; a part of the unstable note
  is the urgency when it is one (``unimportant``, ``low``, ...), else it is ``not yet assigned``.
"""

from __future__ import annotations

import json
import re

from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

_ADVISORY = re.compile(r'^\[(?P<date>[^\]]+)\] (?P<id>D[SL]A-\S+) (?P<package>\S+)')
_CVES = re.compile(r'^\s+\{(?P<ids>[^}]*)\}')
_RELEASE_FIX = re.compile(r'^\s+\[(?P<release>[a-z]+)\] - (?P<package>\S+) (?P<value>\S+)')
_CVE = re.compile(r'^(?P<id>CVE-\d+-\d+)\b')
_PACKAGE_LINE = re.compile(r'^\s+(?:\[(?P<release>[a-z]+)\] )?- (?P<package>\S+)(?: (?P<value>[^\s(]+))?(?: \((?P<note>[^)]*)\))?')
_URGENCIES = ('unimportant', 'low', 'medium', 'high')
_LEFT_FOR_A_POINT_RELEASE = ('<no-dsa>', '<ignored>', '<postponed>')


def advisory_fixes(text, release):
    """``[(advisory id, package, version, [CVE ids])]`` of a DSA or DLA list for ``release``, oldest first."""
    fixes, current, cves = [], None, []
    for line in text.splitlines():
        match = _ADVISORY.match(line)
        if match:
            current, cves = match.group('id'), []
            continue
        match = _CVES.match(line)
        if match and current:
            cves = match.group('ids').split()
            continue
        match = _RELEASE_FIX.match(line)
        if match and current and match.group('release') == release and not match.group('value').startswith('<'):
            fixes.append((current, match.group('package'), match.group('value'), list(cves)))
    return list(reversed(fixes))   # the lists are newest first


def digest_fixes(lines, release):
    """The same from the JSON-lines digest of later advisories (``package_version``: "<source> <version> ...")."""
    fixes = []
    for line in lines:
        entry = json.loads(line)
        if entry['suite'] == release:
            package, version = entry['package_version'].split()[:2]
            fixes.append((entry['id'], package, version, entry['cves']))
    return sorted(fixes, key=lambda fix: fix[0])


def cve_list_statuses(text, release, release_versions):
    """``{(source package, CVE): tracker JSON release entry}`` of CVE list entries for ``release``."""
    unstable, own, order = {}, {}, []
    cve = None
    for line in text.splitlines():
        if line.startswith('#'):
            continue
        match = _CVE.match(line)
        if match:
            cve = match.group('id')
            continue
        match = _PACKAGE_LINE.match(line)
        if not match or cve is None:
            continue
        key = (match.group('package'), cve)
        if key not in order:
            order.append(key)
        if match.group('release') is None:
            unstable[key] = (match.group('value'), match.group('note') or '')
        elif match.group('release') == release:
            own[key] = (match.group('value'), match.group('note') or '')
    statuses = {}
    for key in order:
        value, note = unstable.get(key, (None, ''))
        # The note's parts ("low; bug #816320", "bug #328228; unimportant"): one of them may be the urgency.
        urgency = next((part.strip() for part in note.split(';') if part.strip() in _URGENCIES), 'not yet assigned')
        if key in own:
            value, note = own[key]
            if value in _LEFT_FOR_A_POINT_RELEASE:
                statuses[key] = {'status': 'open', 'urgency': urgency, 'nodsa': note, 'nodsa_reason': value.strip('<>')}
            elif value == '<not-affected>':
                statuses[key] = {'status': 'resolved', 'fixed_version': '0', 'urgency': urgency}
            elif value == '<unfixed>':
                statuses[key] = {'status': 'open', 'urgency': urgency}
            elif value and not value.startswith('<'):
                statuses[key] = {'status': 'resolved', 'fixed_version': value, 'urgency': urgency}
            continue
        if key[0] not in release_versions or value is None:
            continue   # the release has no such source package: nothing to say about it
        if value == '<not-affected>':
            statuses[key] = {'status': 'resolved', 'fixed_version': '0', 'urgency': urgency}
        elif value.startswith('<'):   # <unfixed>, <removed>
            statuses[key] = {'status': 'open', 'urgency': urgency}
        elif compare_versions(release_versions[key[0]], value, 'deb') >= 0:
            statuses[key] = {'status': 'resolved', 'fixed_version': value, 'urgency': urgency}
        else:
            statuses[key] = {'status': 'open', 'urgency': urgency}
    return statuses


def release_versions(text, suite):
    """``{source package: version}`` of one suite in bookworm-source-versions.tsv."""
    versions = {}
    for line in text.splitlines():
        if line.startswith('#') or not line.strip():
            continue
        line_suite, package, version = line.split('\t')
        if line_suite == suite:
            versions[package] = version
    return versions


def tracker_json(release, fixes, statuses, packages):
    """The tracker's JSON (``{source: {CVE: {"releases": {release: entry}}}}``) for the source ``packages``.

    An advisory's fix is the CVE's entry unless the CVE list has an entry of the release for it.
    """
    data = {}
    for _advisory, package, version, cves in fixes:
        if package not in packages:
            continue
        for cve in cves:
            data.setdefault(package, {}).setdefault(cve, {'releases': {release: {'status': 'resolved', 'fixed_version': version,
                                                                                 'urgency': 'not yet assigned'}}})
    for (package, cve), entry in statuses.items():
        if package in packages:
            data.setdefault(package, {})[cve] = {'releases': {release: entry}}
    return data

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers from the public advisory feed formats to the model of ``advisories``.

- OSV schema 1.x records (one JSON/YAML document per advisory).
- The Debian Security Tracker's JSON (``{source: {CVE: {releases: {...}}}}``).
- The CISA Known Exploited Vulnerabilities catalog JSON.
- FIRST's EPSS CSV (``#model_version:...,score_date:...`` then ``cve,epss,percentile``).

Each raises ``FeedError`` naming the source and the record at fault.  Loading
files (directories, zips, YAML, downloads) is the controller's job
(plugin_utils.feed_files); these functions take parsed data.
"""

from __future__ import annotations

import csv
import io
import re

from ansible_collections.patchwise.patching.plugins.module_utils.advisories import (
    EVALUATED_RANGE_TYPES,
    FeedError,
    event_shape_error,
    fixed_versions,
    osv_aliases,
)
from ansible_collections.patchwise.patching.plugins.module_utils.cvss import base_score
from ansible_collections.patchwise.patching.plugins.module_utils.versions import scheme_for_ecosystem, validate_version

# Debian release codenames and the OSV ecosystem of each.
DEBIAN_RELEASES = {
    'stretch': 'Debian:9',
    'buster': 'Debian:10',
    'bullseye': 'Debian:11',
    'bookworm': 'Debian:12',
    'trixie': 'Debian:13',
    'forky': 'Debian:14',
}

_CVE = re.compile(r'CVE-\d{4}-\d{4,}\Z')


def _cvss_from_osv(record, source):
    for severity in record.get('severity') or []:
        kind = severity.get('type', '')
        vector = severity.get('score')
        if kind.startswith('CVSS_V') and vector:
            try:
                return {'vector': vector, 'score': base_score(vector)}
            except ValueError as exc:
                raise FeedError('%s: record %s: %s' % (source, record.get('id'), exc)) from exc
    return None


def parse_osv_record(record, source):
    """One OSV record to an advisory; returns (advisory, skipped_git_ranges)."""
    if not isinstance(record, dict):
        raise FeedError('%s: an OSV record must be a mapping, not %s' % (source, type(record).__name__))
    for field in ('id', 'modified'):
        if not isinstance(record.get(field), str) or not record.get(field):
            raise FeedError('%s: record %s: required field "%s" is missing' % (source, record.get('id', '<no id>'), field))
    record_id = record['id']
    skipped_git = 0
    affected_entries = []
    for position, affected in enumerate(record.get('affected') or []):
        package = affected.get('package') if isinstance(affected, dict) else None
        if not isinstance(package, dict) or not package.get('ecosystem') or not package.get('name'):
            raise FeedError('%s: record %s: affected[%d] needs package.ecosystem and package.name' % (source, record_id, position))
        ecosystem = package['ecosystem']
        try:
            scheme = scheme_for_ecosystem(ecosystem)
        except ValueError as exc:
            raise FeedError('%s: record %s: %s' % (source, record_id, exc)) from exc
        ranges = []
        for range_position, osv_range in enumerate(affected.get('ranges') or []):
            kind = osv_range.get('type')
            if kind == 'GIT':
                skipped_git += 1
                continue
            if kind not in EVALUATED_RANGE_TYPES:
                raise FeedError('%s: record %s: unknown range type %r' % (source, record_id, kind))
            range_scheme = 'semver' if kind == 'SEMVER' else scheme
            events = osv_range.get('events') or []
            for event_position, event in enumerate(events):
                # Refused here, not only when a range is evaluated: the database's SQL range check reads one
                # kind per event, so {"introduced": "0", "fixed": "1.2"} would make every version affected.
                problem = event_shape_error(event)
                if problem:
                    raise FeedError('%s: record %s: affected[%d].ranges[%d].events[%d]: %s'
                                    % (source, record_id, position, range_position, event_position, problem))
                ((event_kind, value),) = event.items()
                if value in ('0', '*') and event_kind in ('introduced', 'limit'):
                    continue
                try:
                    validate_version(str(value), range_scheme)
                except ValueError as exc:
                    raise FeedError('%s: record %s: %s event: %s' % (source, record_id, event_kind, exc)) from exc
            ranges.append({'type': kind, 'events': events})
        if not ranges and not affected.get('versions'):
            continue
        entry = {
            'ecosystem': ecosystem,
            'package': package['name'],
            'ranges': ranges,
            'versions': [str(v) for v in affected.get('versions') or []],
            'fixed': fixed_versions(ranges),
            'status': None,
            'urgency': None,
        }
        # Real records repeat entries (AlmaLinux's ALSA-2022:8637 names krb5-devel twice): one finding, not two.
        if entry not in affected_entries:
            affected_entries.append(entry)
    advisory = {
        'id': record_id,
        'aliases': osv_aliases(record),
        'summary': record.get('summary') or (record.get('details') or '')[:300],
        'published': record.get('published'),
        'modified': record['modified'],
        'cvss': _cvss_from_osv(record, source),
        'references': [ref.get('url') for ref in record.get('references') or [] if isinstance(ref, dict) and ref.get('url')],
        'source': 'osv',
        'affected': affected_entries,
    }
    return advisory, skipped_git


def parse_debian_tracker(data, source):
    """The tracker's JSON to advisories, one per CVE, with one affected entry per (source package, release).

    ``status`` (resolved/open/undetermined) and ``urgency`` (e.g. unimportant,
    low, not yet assigned) are kept; a ``fixed_version`` of ``0`` means the
    release was never affected, recorded as status ``not-affected``; a
    ``nodsa`` mark becomes status ``no-dsa``.  Releases not in DEBIAN_RELEASES
    (``sid``, ``experimental``) are left out.
    """
    if not isinstance(data, dict):
        raise FeedError('%s: the Debian tracker JSON must be a mapping of source packages' % source)
    by_cve = {}
    for package, cves in data.items():
        if not isinstance(cves, dict):
            raise FeedError('%s: package %s: expected a mapping of CVE ids' % (source, package))
        for cve, entry in cves.items():
            if not isinstance(entry, dict) or not isinstance(entry.get('releases'), dict):
                raise FeedError('%s: %s/%s: "releases" is missing' % (source, package, cve))
            advisory = by_cve.setdefault(cve, {
                'id': cve,
                'aliases': [],
                'summary': (entry.get('description') or '')[:300],
                'published': None,
                'modified': None,
                'cvss': None,
                'references': ['https://security-tracker.debian.org/tracker/%s' % cve],
                'source': 'debian',
                'affected': [],
            })
            for codename, release in entry['releases'].items():
                ecosystem = DEBIAN_RELEASES.get(codename)
                if ecosystem is None:
                    continue
                if not isinstance(release, dict) or 'status' not in release:
                    raise FeedError('%s: %s/%s/%s: "status" is missing' % (source, package, cve, codename))
                status = release['status']
                fixed = release.get('fixed_version')
                if fixed == '0':
                    status = 'not-affected'
                elif release.get('nodsa') is not None or release.get('nodsa_reason') is not None:
                    status = 'no-dsa' if status != 'resolved' else status
                events = [{'introduced': '0'}]
                if status == 'resolved' and fixed:
                    try:
                        validate_version(fixed, 'deb')
                    except ValueError as exc:
                        raise FeedError('%s: %s/%s/%s: %s' % (source, package, cve, codename, exc)) from exc
                    events.append({'fixed': fixed})
                advisory['affected'].append({
                    'ecosystem': ecosystem,
                    'package': package,
                    'ranges': [] if status == 'not-affected' else [{'type': 'ECOSYSTEM', 'events': events}],
                    'versions': [],
                    'fixed': [fixed] if status == 'resolved' and fixed else [],
                    'status': status,
                    'urgency': release.get('urgency'),
                })
    return list(by_cve.values())


def parse_kev(data, source):
    """The CISA KEV catalog to ``{cve: {added, due, ransomware, vendor, product, name}}``."""
    if not isinstance(data, dict) or not isinstance(data.get('vulnerabilities'), list):
        raise FeedError('%s: not a CISA KEV catalog (no "vulnerabilities" list)' % source)
    catalog = {}
    for position, entry in enumerate(data['vulnerabilities']):
        cve = entry.get('cveID') if isinstance(entry, dict) else None
        if not cve or not _CVE.match(cve) or not entry.get('dateAdded'):
            raise FeedError('%s: vulnerabilities[%d]: "cveID" and "dateAdded" are required' % (source, position))
        catalog[cve] = {
            'added': entry['dateAdded'],
            'due': entry.get('dueDate'),
            'ransomware': entry.get('knownRansomwareCampaignUse'),
            'vendor': entry.get('vendorProject'),
            'product': entry.get('product'),
            'name': entry.get('vulnerabilityName'),
        }
    return {'version': data.get('catalogVersion'), 'released': data.get('dateReleased'), 'entries': catalog}


def parse_epss(text, source):
    """EPSS CSV text to ``{'model_version', 'score_date', 'entries': {cve: (epss, percentile)}}``."""
    lines = io.StringIO(text)
    first = lines.readline()
    meta = {}
    if first.startswith('#'):
        for item in first[1:].strip().split(','):
            key, _sep, value = item.partition(':')
            meta[key.strip()] = value.strip()
        header = lines.readline()
    else:
        header = first
    if [column.strip() for column in header.split(',')] != ['cve', 'epss', 'percentile']:
        raise FeedError('%s: expected the EPSS header "cve,epss,percentile", found %r' % (source, header.strip()))
    entries = {}
    for number, row in enumerate(csv.reader(lines), start=3 if meta else 2):
        if not row:
            continue
        try:
            cve, epss, percentile = row
            score, rank = float(epss), float(percentile)
        except ValueError:
            raise FeedError('%s: line %d: expected cve,epss,percentile, found %r' % (source, number, ','.join(row))) from None
        if not _CVE.match(cve) or not 0 <= score <= 1 or not 0 <= rank <= 1:
            raise FeedError('%s: line %d: invalid EPSS row %r' % (source, number, ','.join(row)))
        entries[cve] = (score, rank)
    return {'model_version': meta.get('model_version'), 'score_date': meta.get('score_date'), 'entries': entries}


_SSVC_OPTIONS = {'exploitation': ('none', 'poc', 'active'), 'automatable': ('yes', 'no'), 'technical impact': ('partial', 'total')}


def _cve5_cvss(metrics):
    """The first CVSS v3.x vector and score among a container's metrics (v4.0 is not used: other metric names)."""
    for metric in metrics or []:
        for key in ('cvssV3_1', 'cvssV3_0'):
            cvss = metric.get(key) if isinstance(metric, dict) else None
            if isinstance(cvss, dict) and cvss.get('vectorString'):
                return {'vector': cvss['vectorString'], 'score': cvss.get('baseScore')}
    return None


def _cve5_ssvc(metrics):
    """CISA Vulnrichment's SSVC options ({exploitation, automatable, technical impact}) from an ADP container."""
    for metric in metrics or []:
        other = metric.get('other') if isinstance(metric, dict) else None
        if not isinstance(other, dict) or str(other.get('type', '')).lower() != 'ssvc':
            continue
        options = {}
        for option in (other.get('content') or {}).get('options') or []:
            for raw_name, raw_value in (option.items() if isinstance(option, dict) else ()):
                name, value = str(raw_name).lower(), str(raw_value).lower()
                if value in _SSVC_OPTIONS.get(name, ()):
                    options[name] = value
        return options or None
    return None


def parse_cve5_record(record, source):
    """One CVE JSON 5 record to ``{cve, cvss, ssvc}``, or None for a rejected or reserved CVE.

    CVSS comes from the CNA's v3.x metrics, else from an ADP container's (CISA adds
    them when the CNA gave none); ``ssvc`` holds CISA Vulnrichment's Exploitation,
    Automatable and Technical Impact, which the risk engine prefers to derived values.
    """
    if not isinstance(record, dict) or record.get('dataType') != 'CVE_RECORD':
        raise FeedError('%s: not a CVE JSON 5 record (dataType is not CVE_RECORD)' % source)
    metadata = record.get('cveMetadata') or {}
    cve = metadata.get('cveId')
    if not cve or not _CVE.match(cve):
        raise FeedError('%s: cveMetadata.cveId %r is not a CVE id' % (source, cve))
    if metadata.get('state') != 'PUBLISHED':
        return None
    containers = record.get('containers') or {}
    adp = [container for container in containers.get('adp') or [] if isinstance(container, dict)]
    cvss = _cve5_cvss((containers.get('cna') or {}).get('metrics'))
    for container in adp:
        cvss = cvss or _cve5_cvss(container.get('metrics'))
    ssvc = None
    for container in adp:
        ssvc = ssvc or _cve5_ssvc(container.get('metrics'))
    return {'cve': cve, 'cvss': cvss, 'ssvc': ssvc}

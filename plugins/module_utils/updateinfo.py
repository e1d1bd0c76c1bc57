# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The errata of an RPM repository (``repodata/*updateinfo.xml[.gz]``) as advisories of the ``advisories`` model.

One ``<update>`` is one advisory: its ``<id>`` (RHSA-, ALSA-, RLSA-...), ``<title>``, ``<severity>``,
``<issued>``/``<updated>`` dates, the CVE ids of its ``<references>`` as aliases, and one affected entry
per package of its ``<pkglist>``, fixed at that package's ``[epoch:]version-release`` (the epoch only
when set, as the asset record writes versions).

Choices, and why:

- The affected entries name what the engine matches for the ecosystem (``osv_ecosystems``): source RPMs
  (the package's ``src`` attribute) for Red Hat and Rocky Linux, binary RPMs for AlmaLinux, whose
  errata name binaries.  A package without ``src`` is named by its binary name there too.
- The ecosystem is the caller's (the feed's ``ecosystem`` option); without one it comes from the
  advisory id's prefix (RH*, AL*, RL*) and the ``.el<major>`` of the package releases.
- The severity (Low, Moderate, Important, Critical) is kept as the entries' ``urgency``, the field the
  Debian tracker's urgency uses; the advisory's ``type`` (security, bugfix, enhancement, newpackage) and
  ``severity`` are kept on the advisory, and the controller keeps only security advisories.
- Dates are ``YYYY-MM-DD[ HH:MM[:SS]]`` (Red Hat, AlmaLinux, Rocky Linux, createrepo_c) or seconds since
  the epoch (SUSE, older Fedora); both become ISO 8601 UTC.
- The document is read element by element (``iterparse``): a distribution's updateinfo.xml holds many
  thousand errata.

Standard library only: it runs wherever the module_utils run.
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET

from ansible_collections.patchwise.patching.plugins.module_utils.advisories import FeedError
from ansible_collections.patchwise.patching.plugins.module_utils.osv_ecosystems import SOURCE_NAMED
from ansible_collections.patchwise.patching.plugins.module_utils.versions import validate_version

# The advisory id's prefix -> the distribution's OSV ecosystem, the major release appended.
PREFIXES = {'RH': 'Red Hat:enterprise_linux:%s', 'AL': 'AlmaLinux:%s', 'RL': 'Rocky Linux:%s'}
_PREFIX = re.compile(r'^(?P<vendor>RH|AL|RL)[SBE]A-')
_MAJOR = re.compile(r'\.(?:module\+)?el(?P<major>\d+)')
_SOURCE_RPM = re.compile(r'(?P<name>.+)-(?P<version>[^-]+)-(?P<release>[^-]+)\.(?:no)?src\.rpm\Z')
_DATE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(?:\s*(?:UTC|Z))?$')
_CVE = re.compile(r'^CVE-\d{4}-\d{4,}$')


def iso_date(text):
    """An updateinfo date (``2023-05-09 00:00:00``, ``2023-05-09`` or epoch seconds) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    text = (text or '').strip()
    if text.isdigit():
        moment = datetime.datetime.fromtimestamp(int(text), datetime.timezone.utc)
    else:
        match = _DATE.match(text)
        if not match:
            raise ValueError('%r is not a date' % text)
        moment = datetime.datetime(*(int(part or 0) for part in match.groups()), tzinfo=datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _evr(epoch, version, release):
    return '%s%s-%s' % ('%s:' % epoch if epoch not in (None, '', '0') else '', version, release)


def _package(element, by_source):
    """(name, [epoch:]version-release) of one ``<package>`` as the ecosystem's advisories name it."""
    name, epoch = element.get('name'), element.get('epoch')
    version, release = element.get('version'), element.get('release')
    if by_source and element.get('arch') != 'src':
        source = _SOURCE_RPM.match(element.get('src') or '')
        if source:
            # The source RPM's file name has no epoch: it is the binary's.
            return source.group('name'), _evr(epoch, source.group('version'), source.group('release'))
    return name, _evr(epoch, version, release)


def ecosystem_of(advisory_id, releases):
    """The ecosystem named by the id's prefix and the ``el<major>`` of the releases, or None."""
    prefix = _PREFIX.match(advisory_id)
    majors = {match.group('major') for match in (_MAJOR.search(release or '') for release in releases) if match}
    if not prefix or len(majors) != 1:
        return None
    return PREFIXES[prefix.group('vendor')] % majors.pop()


def _date(element, tag, source, advisory_id):
    found = element.find(tag)
    if found is None or not found.get('date'):
        return None
    try:
        return iso_date(found.get('date'))
    except ValueError as exc:
        raise FeedError('%s: update %s: <%s date>: %s' % (source, advisory_id, tag, exc)) from exc


def update_dates(element, source):
    """(issued, updated) of one ``<update>`` as ISO 8601 UTC, each None when absent; FeedError when malformed."""
    advisory_id = (element.findtext('id') or '').strip() or '<no id>'
    return _date(element, 'issued', source, advisory_id), _date(element, 'updated', source, advisory_id)


def parse_update(element, source, ecosystem=None):
    """One ``<update>`` element to an advisory (with its ``type`` and ``severity``); FeedError names what is wrong."""
    advisory_id = (element.findtext('id') or '').strip()
    if not advisory_id:
        raise FeedError('%s: an <update> without an <id>' % source)
    packages = element.findall('pkglist/collection/package')
    if ecosystem is None:
        ecosystem = ecosystem_of(advisory_id, [package.get('release') for package in packages])
        if ecosystem is None:
            raise FeedError('%s: update %s: its ecosystem cannot be told from the id and the package releases; '
                            'give the feed an ecosystem (such as AlmaLinux:9)' % (source, advisory_id))
    by_source = ecosystem.split(':', 1)[0] in SOURCE_NAMED
    severity = (element.findtext('severity') or '').strip() or None
    affected = []
    for package in packages:
        if not package.get('name') or not package.get('version') or not package.get('release'):
            raise FeedError('%s: update %s: a <package> needs name, version and release' % (source, advisory_id))
        name, fixed = _package(package, by_source)
        try:
            validate_version(fixed, 'rpm')
        except ValueError as exc:
            raise FeedError('%s: update %s: package %s: %s' % (source, advisory_id, name, exc)) from exc
        entry = {'ecosystem': ecosystem, 'package': name, 'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}, {'fixed': fixed}]}],
                 'versions': [], 'fixed': [fixed], 'status': None, 'urgency': severity}
        # Every architecture of a package repeats its name and version: one entry.
        if entry not in affected:
            affected.append(entry)
    aliases, references = [], []
    for reference in element.findall('references/reference'):
        if reference.get('href') and reference.get('href') not in references:
            references.append(reference.get('href'))
        cve = (reference.get('id') or '').strip()
        if reference.get('type') == 'cve' and _CVE.match(cve) and cve not in aliases:
            aliases.append(cve)
    issued, updated = update_dates(element, source)
    return {
        'id': advisory_id,
        'aliases': aliases,
        'summary': (element.findtext('title') or element.findtext('description') or '').strip()[:300],
        'published': issued,
        'modified': updated or issued,
        'cvss': None,
        'references': references,
        'source': 'updateinfo',
        'type': element.get('type') or 'unknown',
        'severity': severity,
        'affected': affected,
    }


def iter_updates(handle, source):
    """Each ``<update>`` element of an updateinfo document read from the binary file ``handle``, one at a time."""
    try:
        root = None
        # S314: defusedxml is not in the standard library.  expat never loads external entities, and since 2.4
        # (and distributions' patched builds) it limits entity expansion, the attacks defusedxml guards against.
        for event, element in ET.iterparse(handle, events=('start', 'end')):  # noqa: S314
            if root is None:
                root = element
                if root.tag != 'updates':
                    raise FeedError('%s: not an updateinfo document (its root element is <%s>, not <updates>)' % (source, root.tag))
            elif event == 'end' and element.tag == 'update':
                yield element
                # What was read is dropped: the document is never all in memory.
                root.clear()
    except ET.ParseError as exc:
        raise FeedError('%s: not valid XML: %s' % (source, exc)) from exc

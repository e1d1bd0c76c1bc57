# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading advisory feeds from files, directories, zips and URLs (controller side).

A feed is ``{'type': osv|debian|kev|epss|cve5|updateinfo, 'src': path or URL, 'sha256': optional}``
(an ``updateinfo`` feed may add ``ecosystem``).
``fetch`` turns it into a local file (downloads are verified against the
checksum when one is given); ``read_feed`` yields the parsed content.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import zipfile
from urllib.parse import urlsplit

import yaml
from ansible.module_utils.urls import open_url
from ansible_collections.patchwise.patching.plugins.module_utils.advisories import FeedError
from ansible_collections.patchwise.patching.plugins.module_utils.feeds import parse_cve5_record, parse_debian_tracker, parse_epss, parse_kev, parse_osv_record
from ansible_collections.patchwise.patching.plugins.module_utils.updateinfo import iter_updates, parse_update, update_dates
from ansible_collections.patchwise.patching.plugins.module_utils.versions import scheme_for_ecosystem
from ansible_collections.patchwise.patching.plugins.plugin_utils.feed_dates import fetched_time, parse_feed_time

FEED_TYPES = ('osv', 'debian', 'kev', 'epss', 'cve5', 'updateinfo')


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


_LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1')


def fetch(feed, download_dir):
    """Return a local path for the feed's ``src``; download URLs into ``download_dir``."""
    src = feed['src']
    # Plain http is only accepted on loopback (a local mirror or a test server);
    # anywhere else the feed could be altered in transit.
    if src.startswith('http://') and urlsplit(src).hostname not in _LOOPBACK_HOSTS:
        raise FeedError('%s: plain http:// is refused except on loopback; use an https:// URL' % src.split('?')[0])
    if src.startswith(('https://', 'http://', 'file://')):
        target = tempfile.NamedTemporaryFile(dir=download_dir, delete=False, suffix=os.path.basename(src.split('?')[0]))
        try:
            response = open_url(src, timeout=60)
            for block in iter(lambda: response.read(1 << 20), b''):
                target.write(block)
        except Exception as exc:
            raise FeedError('%s: download failed: %s' % (src.split('?')[0], exc)) from exc
        finally:
            target.close()
        path = target.name
    else:
        path = os.path.expanduser(src)
        if not os.path.exists(path):
            raise FeedError('%s: no such file or directory' % src)
    expected = feed.get('sha256')
    if expected and not os.path.isdir(path):
        actual = sha256_of(path)
        if actual != expected.lower():
            raise FeedError('%s: SHA-256 mismatch: expected %s, got %s' % (src.split('?')[0], expected, actual))
    return path


def _load_document(name, data):
    try:
        if name.endswith(('.yaml', '.yml')):
            return yaml.safe_load(data)
        return json.loads(data)
    except (ValueError, yaml.YAMLError) as exc:
        raise FeedError('%s: not valid %s: %s' % (name, 'YAML' if name.endswith(('.yaml', '.yml')) else 'JSON', exc)) from exc


def _osv_documents(path):
    """(name, bytes) of every OSV document in a file, directory tree or zip."""
    if os.path.isdir(path):
        for directory, _dirs, files in sorted(os.walk(path)):
            for name in sorted(files):
                if name.endswith(('.json', '.yaml', '.yml')):
                    full = os.path.join(directory, name)
                    with open(full, 'rb') as handle:
                        yield full, handle.read()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if name.endswith(('.json', '.yaml', '.yml')):
                    yield '%s!%s' % (path, name), archive.read(name)
    else:
        with open(path, 'rb') as handle:
            yield path, handle.read()


def _read_text(path):
    with open(path, 'rb') as handle:
        data = handle.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    return data.decode('utf-8')


def _skip_or_raise(error, lenient, stats):
    if not lenient:
        raise error
    stats['skipped'] += 1
    stats['errors'].append(str(error))


def _record_time(advisory, name):
    try:
        return parse_feed_time(advisory['modified'])
    except ValueError as exc:
        raise FeedError('%s: record %s: "modified": %s' % (name, advisory['id'], exc)) from exc


def _feed_time(text, field, path):
    """A date the feed states about itself, or None when it states none; a malformed one names the field."""
    if text in (None, ''):
        return None
    try:
        return parse_feed_time(text)
    except ValueError as exc:
        raise FeedError('%s: "%s": %s' % (path, field, exc)) from exc


def _osv_advisories(path, lenient, stats):
    """Advisories of an OSV feed, one at a time, so a large feed is never all in memory.

    With ``lenient`` a bad record is skipped alone: the other records of its document (a JSON list) are kept.
    """
    produced = 0
    for name, data in _osv_documents(path):
        try:
            document = _load_document(name, data)
        except FeedError as exc:
            _skip_or_raise(exc, lenient, stats)
            continue
        for record in document if isinstance(document, list) else [document]:
            try:
                advisory, git_ranges = parse_osv_record(record, name)
                modified = _record_time(advisory, name)
            except FeedError as exc:
                _skip_or_raise(exc, lenient, stats)
                continue
            if stats['data_date'] is None or modified > stats['data_date']:
                stats['data_date'] = modified
            stats['skipped_git_ranges'] += git_ranges
            stats['records'] += 1
            produced += 1
            yield advisory
    if not produced and stats['skipped']:
        raise FeedError('%s: every OSV record was rejected; first error: %s' % (path, stats['errors'][0]))


def _cve5_records(path, lenient, stats):
    """CVE JSON 5 records of a file, directory tree (as cvelistV5) or zip, one at a time."""
    for name, data in _osv_documents(path):
        try:
            record = parse_cve5_record(_load_document(name, data), name)
        except FeedError as exc:
            _skip_or_raise(exc, lenient, stats)
            continue
        stats['records'] += 1
        if record is not None:
            yield record


def _scheme_or_none(ecosystem):
    try:
        return scheme_for_ecosystem(ecosystem)
    except ValueError:
        return None


def _open_binary(path):
    """The file, decompressed when it is gzip (``updateinfo.xml.gz``)."""
    with open(path, 'rb') as handle:
        compressed = handle.read(2) == b'\x1f\x8b'
    return gzip.open(path, 'rb') if compressed else open(path, 'rb')


def _updateinfo_advisories(path, ecosystem, lenient, stats):
    """The security advisories of a repository's updateinfo.xml, one at a time; the feed's date is the newest
    ``updated`` or ``issued`` of all its updates (bug fixes included: they date the repository too)."""
    produced = 0
    with _open_binary(path) as handle:
        for element in iter_updates(handle, path):
            # Bug fix and enhancement updates are no advisories: only their dates are read.
            security = element.get('type') == 'security'
            try:
                advisory = parse_update(element, path, ecosystem) if security else None
                dates = [_feed_time(text, 'issued/updated', path) for text in update_dates(element, path)]
            except FeedError as exc:
                _skip_or_raise(exc, lenient, stats)
                continue
            for moment in dates:
                if moment and (stats['data_date'] is None or moment > stats['data_date']):
                    stats['data_date'] = moment
            if not security:
                continue
            stats['records'] += 1
            produced += 1
            yield advisory
    if not produced and stats['skipped']:
        raise FeedError('%s: every update was rejected; first error: %s' % (path, stats['errors'][0]))
    if stats['data_date'] is None:
        # An updateinfo.xml whose updates carry no dates is dated by its fetch, like the feeds that state none.
        stats.update(data_date=fetched_time(path), date_source='fetched')


def read_feed(feed_type, path, lenient=False, ecosystem=None):
    """Parse a feed.  Returns ``(kind, payload, stats)``.

    kind 'advisories': payload is an iterable of advisories (OSV and updateinfo feeds are read
    lazily: ``stats`` is complete once it has been consumed); 'kev' and 'epss':
    the parsed catalog; 'cve5': an iterable of {cve, cvss, ssvc} (lazy too).  ``stats`` counts records, skipped records and GIT ranges.
    With ``lenient``, a bad OSV record (or updateinfo update) is skipped and counted instead of
    failing the whole feed.  ``ecosystem``: an updateinfo feed's ecosystem (else told by each advisory).
    """
    # data_date: the feed's own date (see feed_dates); date_source says where it comes from.  Feeds that state
    # none - and a KEV or EPSS file without its date - are dated by when they were fetched.
    stats = {'records': 0, 'skipped': 0, 'skipped_git_ranges': 0, 'errors': [], 'data_date': None, 'date_source': 'fetched'}
    if feed_type not in FEED_TYPES:
        raise FeedError('unknown feed type %r; use one of %s' % (feed_type, ', '.join(FEED_TYPES)))
    if ecosystem and feed_type != 'updateinfo':
        raise FeedError('ecosystem is an option of updateinfo feeds only; %s feeds name the ecosystem of each record' % feed_type)
    if ecosystem and _scheme_or_none(ecosystem) != 'rpm':
        raise FeedError('ecosystem %r is not an RPM distribution\'s (such as AlmaLinux:9, Rocky Linux:9 or '
                        'Red Hat:enterprise_linux:9)' % ecosystem)
    fetched = fetched_time(path)
    if feed_type == 'osv':
        stats['date_source'] = 'newest modified'
        return 'advisories', _osv_advisories(path, lenient, stats), stats
    if feed_type == 'debian':
        advisories = parse_debian_tracker(_load_document(path, _read_text(path)), path)
        stats.update(records=len(advisories), data_date=fetched)
        return 'advisories', advisories, stats
    if feed_type == 'kev':
        catalog = parse_kev(_load_document(path, _read_text(path)), path)
        released = _feed_time(catalog['released'], 'dateReleased', path)
        stats.update(records=len(catalog['entries']), data_date=released or fetched, date_source='dateReleased' if released else 'fetched')
        return 'kev', catalog, stats
    if feed_type == 'epss':
        scores = parse_epss(_read_text(path), path)
        score_date = _feed_time(scores['score_date'], 'score_date', path)
        stats.update(records=len(scores['entries']), data_date=score_date or fetched, date_source='score_date' if score_date else 'fetched')
        return 'epss', scores, stats
    if feed_type == 'cve5':
        stats['data_date'] = fetched
        return 'cve5', _cve5_records(path, lenient, stats), stats
    if feed_type == 'updateinfo':
        stats['date_source'] = 'newest updated or issued'
        return 'advisories', _updateinfo_advisories(path, ecosystem, lenient, stats), stats

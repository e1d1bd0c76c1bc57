# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The advisory database: an SQLite file built from feeds, and the matching API.

Build: ``build(path, feeds, ...)`` parses every feed, writes a new database
next to ``path`` and renames it over the old one, so a failed or interrupted
build leaves the previous database as it was.  A digest of the inputs is
stored; unchanged inputs mean no rebuild and ``changed: false``.

Match: ``AdvisoryDB(path).match(ecosystem, [(package, version), ...])`` returns
``{(package, version): [match, ...]}`` in one call: one indexed query for all packages, in which SQL decides
single-interval ranges by comparing stored version keys (versions.version_key),
and Python evaluates only the remaining ranges; memoised per (ecosystem, package, version) for the life of the
object.  A match is::

    {'id', 'aliases', 'summary', 'source', 'ecosystem', 'package', 'installed',
     'fixed': [versions] (empty: no fix yet), 'status', 'urgency',
     'cvss': {'vector', 'score'} or None (the CVE JSON 5 record's when the advisory has none),
     'kev': {'added', 'due', 'ransomware'} or None,
     'epss': {'score', 'percentile'} or None,
     'vulnrichment': {'exploitation', 'automatable', 'technical impact'} or None}

KEV, EPSS and CVE JSON 5 data attach through the advisory id or any CVE alias.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import time

from ansible_collections.patchwise.patching.plugins.module_utils.advisories import (
    FeedError,
    ecosystem_applies,
    normalize_package_name,
    package_name_normalizer,
    range_affects,
)
from ansible_collections.patchwise.patching.plugins.module_utils.versions import scheme_for_ecosystem, version_key, version_keys
from ansible_collections.patchwise.patching.plugins.plugin_utils.database_kind import ADVISORY, database_kind, describe
from ansible_collections.patchwise.patching.plugins.plugin_utils.feed_dates import format_time
from ansible_collections.patchwise.patching.plugins.plugin_utils.feed_files import fetch, read_feed, sha256_of

# Schema 5: the summary in meta records each feed's own date (data_date, date_source; see feed_dates).
# Schema 6: each affected entry keeps an exclusive upper key, so one range of the table finds the entries of a version.
SCHEMA = 6

_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisories (
    id TEXT PRIMARY KEY, aliases TEXT NOT NULL, summary TEXT, published TEXT, modified TEXT,
    cvss_vector TEXT, cvss_score REAL, refs TEXT NOT NULL, source TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE affected (
    advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,
    fixed TEXT NOT NULL, status TEXT, urgency TEXT,
    lo_key TEXT NOT NULL, upper_key TEXT NOT NULL, simple INTEGER NOT NULL, entry INTEGER NOT NULL,
    -- A version's entries are those with upper_key above its key: one range of the table per package,
    -- stored together, and lo_key rejects the rest in the same rows.  entry (the order read) keeps the key unique.
    PRIMARY KEY (ecosystem, package, upper_key, lo_key, entry)) WITHOUT ROWID;
-- The OSV ranges and explicit versions of each entry: read only for the entries that Python decides,
-- so that the rows matching reads stay small.
CREATE TABLE affected_ranges (entry INTEGER PRIMARY KEY, ranges TEXT NOT NULL, versions TEXT NOT NULL);
CREATE TABLE aliases (alias TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE INDEX aliases_by_alias ON aliases (alias);
CREATE TABLE kev (cve TEXT PRIMARY KEY, added TEXT NOT NULL, due TEXT, ransomware TEXT,
    vendor TEXT, product TEXT, name TEXT);
CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL);
-- CVE JSON 5 records: CVSS where the advisory has none, and CISA Vulnrichment's SSVC options.
CREATE TABLE cve_records (cve TEXT PRIMARY KEY, cvss_vector TEXT, cvss_score REAL, ssvc TEXT);
"""


# Above every version key of every scheme: a key starts with the length of a number, at most chr(0x10000).
_ABOVE_EVERY_KEY = chr(0x10FFFF)
# Keys never contain NUL, so no key lies between K and K + '\x01': "< K + '\x01'" is "<= K".
_JUST_ABOVE = '\x01'


def _range_keys(entry):
    """(lo_key, upper_key, simple) for SQL range checks.

    An installed version whose key is ``k`` can be affected by the entry only when
    ``lo_key <= k < upper_key``.  An entry is "simple" when it is one ECOSYSTEM range
    of a single interval (introduced, then fixed or last_affected or nothing) in a
    scheme with sort keys, and no explicit versions list: the two keys then decide
    it alone.  Anything else spans every key and is evaluated in Python by
    range_affects.
    """
    ranges = entry['ranges']
    if entry['versions'] or len(ranges) != 1 or ranges[0]['type'] != 'ECOSYSTEM':
        return '', _ABOVE_EVERY_KEY, 0
    events = ranges[0]['events']
    try:
        scheme = scheme_for_ecosystem(entry['ecosystem'])
        introduced = events[0].get('introduced') if events else None
        if introduced is None or len(events) > 2:
            return '', _ABOVE_EVERY_KEY, 0
        lo_key = '' if introduced == '0' else version_key(introduced, scheme)
        if len(events) == 1:
            return lo_key, _ABOVE_EVERY_KEY, 1
        upper = events[1]
        if 'fixed' in upper:
            limit_key = version_key(upper['fixed'], scheme)
            upper_key = limit_key
        elif 'last_affected' in upper:
            limit_key = version_key(upper['last_affected'], scheme)
            upper_key = limit_key + _JUST_ABOVE
        else:
            return '', _ABOVE_EVERY_KEY, 0
        if limit_key < lo_key:
            # OSV sorts the events: a limit below the introduced version comes first and ends
            # nothing, so every version from the introduced one up is affected.
            upper_key = _ABOVE_EVERY_KEY
        return lo_key, upper_key, 1
    except ValueError:
        pass
    return '', _ABOVE_EVERY_KEY, 0


class AdvisoryDBError(Exception):
    """The database cannot be built or read; the message names the file."""


def _input_digest(feeds, paths):
    digest = hashlib.sha256(b'schema=%d' % SCHEMA)
    for feed, path in zip(feeds, paths):
        digest.update(('\0%s\0' % feed['type']).encode())
        if feed.get('ecosystem'):
            # An updateinfo feed's ecosystem names its entries: another one is another database.
            digest.update(('ecosystem=%s\0' % feed['ecosystem']).encode())
        if os.path.isdir(path):
            for directory, _dirs, files in sorted(os.walk(path)):
                for name in sorted(files):
                    full = os.path.join(directory, name)
                    digest.update(('%s\0%s\0' % (os.path.relpath(full, path), sha256_of(full))).encode())
        else:
            digest.update(sha256_of(path).encode())
    return digest.hexdigest()


def read_meta(path):
    """The meta table of an existing database, or None when there is no file."""
    if not os.path.exists(path):
        return None
    try:
        connection = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
        try:
            return dict(connection.execute('SELECT key, value FROM meta'))
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise AdvisoryDBError('%s: not a patchwise advisory database (%s)' % (path, exc)) from exc


def _write(connection, parsed):
    """Write every feed; affected entries go to the database as each advisory is read."""
    headers = {}
    ecosystems = {}
    entries = itertools.count()
    for feed, kind, payload, _stats in parsed:
        if kind != 'advisories':
            continue
        try:
            for advisory in payload:
                known = headers.get(advisory['id'])
                if known is None:
                    headers[advisory['id']] = {key: value for key, value in advisory.items() if key != 'affected'}
                else:
                    # The same CVE from several feeds: one advisory, every affected entry.
                    known['aliases'] = sorted(set(known['aliases']) | set(advisory['aliases']))
                    known['cvss'] = known['cvss'] or advisory['cvss']
                rows, ranges = [], []
                for entry in advisory['affected']:
                    package = normalize_package_name(entry['ecosystem'], entry['package'])
                    number = next(entries)
                    rows.append((advisory['id'], entry['ecosystem'], package, json.dumps(entry['fixed']), entry['status'],
                                 entry['urgency'], *_range_keys(entry), number))
                    ranges.append((number, json.dumps(entry['ranges']), json.dumps(entry['versions'])))
                    ecosystems[entry['ecosystem']] = ecosystems.get(entry['ecosystem'], 0) + 1
                connection.executemany('INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)
                connection.executemany('INSERT INTO affected_ranges VALUES (?, ?, ?)', ranges)
        except FeedError as exc:
            raise AdvisoryDBError('%s feed %s: %s' % (feed['type'], feed['src'], exc)) from exc
    for advisory in headers.values():
        cvss = advisory['cvss'] or {}
        connection.execute(
            'INSERT INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (advisory['id'], json.dumps(advisory['aliases']), advisory['summary'], advisory['published'],
             advisory['modified'], cvss.get('vector'), cvss.get('score'), json.dumps(advisory['references']),
             advisory['source']),
        )
        connection.executemany('INSERT INTO aliases VALUES (?, ?)', [(alias, advisory['id']) for alias in advisory['aliases']])
    for _feed, kind, payload, _stats in parsed:
        if kind == 'kev':
            connection.executemany(
                'INSERT OR REPLACE INTO kev VALUES (?, ?, ?, ?, ?, ?, ?)',
                [(cve, e['added'], e['due'], e['ransomware'], e['vendor'], e['product'], e['name'])
                 for cve, e in payload['entries'].items()],
            )
        elif kind == 'epss':
            connection.executemany(
                'INSERT OR REPLACE INTO epss VALUES (?, ?, ?)',
                [(cve, score, percentile) for cve, (score, percentile) in payload['entries'].items()],
            )
        elif kind == 'cve5':
            connection.executemany(
                'INSERT OR REPLACE INTO cve_records VALUES (?, ?, ?, ?)',
                ((r['cve'], (r['cvss'] or {}).get('vector'), (r['cvss'] or {}).get('score'), json.dumps(r['ssvc']) if r['ssvc'] else None)
                 for r in payload),
            )
    return len(headers), ecosystems


_SCRATCH_PREFIX = '.advisory-db-'
_STALE_AFTER = 24 * 3600


def _scratch_prefix():
    """The prefix of this process's scratch files: the pid in the name tells a later build whether their owner still runs."""
    return '%s%d-' % (_SCRATCH_PREFIX, os.getpid())


def _owner_alive(pid):
    """Whether process ``pid`` still runs; a zombie (killed, not yet reaped by a parent that died too) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid, encoding='utf-8') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True  # no /proc to ask (not Linux): the process exists


def remove_stale_scratch(directory, now=None):
    """Remove the scratch files and directories a killed build left in ``directory``; return their names.

    A scratch entry is stale when the process named in it is gone, or - for an entry without a
    pid (written by an older version) - when it is older than a day.
    """
    now = now or time.time()
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(_SCRATCH_PREFIX):
            continue
        full = os.path.join(directory, name)
        owner = name[len(_SCRATCH_PREFIX):].split('-', 1)[0]
        try:
            stale = not _owner_alive(int(owner)) if owner.isdigit() else now - os.lstat(full).st_mtime > _STALE_AFTER
            if not stale:
                continue
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
        except OSError:
            continue  # another build removed it first, or it is not ours to remove
        removed.append(name)
    return sorted(removed)


def build(path, feeds, lenient=False, check_mode=False, force=False):
    """Build or update the database at ``path`` from ``feeds``; return the module result."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory) and not check_mode:
        # A fresh controller (an AWX job's container) has no state directory yet; owner-only, like the asset DB's.
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise AdvisoryDBError('%s: cannot create the directory %s: %s' % (path, directory, exc)) from exc
    kind = database_kind(path)
    if kind not in (None, 'empty', 'unreadable', ADVISORY):
        raise AdvisoryDBError('refusing to replace %s: it is %s, not an advisory database (check the path: is it the asset '
                              'database?); force never replaces a database of another kind' % (path, describe(kind)))
    if kind == 'unreadable' and not force:
        raise AdvisoryDBError('%s is not a readable SQLite database: refusing to replace it; set force: true to rebuild it' % path)
    existing = read_meta(path) if kind == ADVISORY else None
    leftovers = remove_stale_scratch(directory) if os.path.isdir(directory) and not check_mode else []
    # In check mode the feeds are still fetched and checked, in a scratch directory of their own when the target's is missing.
    with tempfile.TemporaryDirectory(dir=directory if os.path.isdir(directory) else None, prefix=_scratch_prefix()) as scratch:
        try:
            paths = [fetch(feed, scratch) for feed in feeds]
        except FeedError as exc:
            raise AdvisoryDBError(str(exc)) from exc
        digest = _input_digest(feeds, paths)
        if existing and existing.get('input_digest') == digest and not force:
            result = json.loads(existing['summary'])
            result.update(changed=False, schema=int(existing['schema']), path=path, removed_leftovers=leftovers)
            return result
        if check_mode:
            return {'changed': True, 'schema': SCHEMA, 'path': path, 'feeds': [], 'ecosystems': {}, 'advisories': None, 'removed_leftovers': []}
        parsed = []
        for feed, feed_path in zip(feeds, paths):
            try:
                kind, payload, stats = read_feed(feed['type'], feed_path, lenient=lenient, ecosystem=feed.get('ecosystem'))
            except FeedError as exc:
                raise AdvisoryDBError('%s feed %s: %s' % (feed['type'], feed['src'], exc)) from exc
            parsed.append((feed, kind, payload, stats))
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=_scratch_prefix(), suffix='.sqlite')
        os.close(handle)
        try:
            connection = sqlite3.connect(temporary)
            try:
                connection.executescript(_DDL)
                count, ecosystems = _write(connection, parsed)
                feed_counts = []
                for feed, _kind, _payload, stats in parsed:
                    if not stats['records']:
                        raise AdvisoryDBError('%s feed %s: no records found; refusing to build an empty database'
                                              % (feed['type'], feed['src']))
                    feed_counts.append({'type': feed['type'], 'src': feed['src'].split('?')[0], 'records': stats['records'],
                                        'skipped': stats['skipped'], 'skipped_git_ranges': stats['skipped_git_ranges'],
                                        'errors': stats['errors'][:20], 'data_date': format_time(stats['data_date']),
                                        'date_source': stats['date_source']})
                summary = {'feeds': feed_counts, 'ecosystems': ecosystems, 'advisories': count}
                built_at = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
                connection.executemany('INSERT INTO meta VALUES (?, ?)', [
                    ('kind', ADVISORY), ('schema', str(SCHEMA)), ('input_digest', digest), ('built_at', built_at),
                    ('summary', json.dumps(summary)),
                ])
                connection.commit()
            finally:
                connection.close()
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    summary.update(changed=True, schema=SCHEMA, path=path, built_at=built_at, removed_leftovers=leftovers)
    return summary


class AdvisoryDB:
    """Read access to a built database, with memoised matching."""

    def __init__(self, path):
        if not os.path.exists(path):
            raise AdvisoryDBError('%s: no advisory database (build it with patchwise.patching.advisory_db)' % path)
        kind = database_kind(path)
        if kind not in (ADVISORY, 'unreadable'):
            raise AdvisoryDBError('%s is %s, not an advisory database (check the advisory_db and asset_db paths)' % (path, describe(kind)))
        meta = read_meta(path)
        if int(meta.get('schema', 0)) != SCHEMA:
            raise AdvisoryDBError('%s: advisory database schema %s, this collection reads schema %d; rebuild it'
                                  % (path, meta.get('schema'), SCHEMA))
        self.path = path
        self.built_at = meta.get('built_at')
        summary = json.loads(meta.get('summary') or '{}')
        # Each feed's type, source and own date (data_date, date_source): what the staleness gate checks.
        self.feeds = summary.get('feeds') or []
        # What the database was built from: a pass compares it to skip hosts assessed against the same data.
        self.identity = '%s|%s' % (meta.get('input_digest'), meta.get('built_at'))
        self._connection = sqlite3.connect('file:%s?mode=ro' % path, uri=True, check_same_thread=False)
        self._memo = {}
        self._advisories = {}
        # The build counts the affected entries it writes per ecosystem: their names without a scan of the table.
        counted = summary.get('ecosystems')
        self._stored_ecosystems = sorted(counted) if isinstance(counted, dict) else None
        self._connection.execute('CREATE TEMP TABLE wanted (position INTEGER NOT NULL, name TEXT NOT NULL, key TEXT)')

    def close(self):
        self._connection.close()

    def _load_advisories(self, advisory_ids):
        """Read each advisory not read yet: its header, and its KEV, EPSS and CVE record in one join per table."""
        wanted = [advisory_id for advisory_id in advisory_ids if advisory_id not in self._advisories]
        if not wanted:
            return
        # Identifiers and CVE names go to SQLite as one JSON array each, which it unpacks
        # ~3 times faster than rows bound one by one.
        headers = self._connection.execute(
            'SELECT a.id, a.aliases, a.summary, a.source, a.cvss_vector, a.cvss_score '
            'FROM json_each(?) j JOIN advisories a ON a.id = j.value', (json.dumps(wanted),)).fetchall()
        # One JSON document for every advisory's aliases: one decoder call instead of one per advisory.
        aliases_of = json.loads('[%s]' % ','.join(row[1] for row in headers))
        cves = (json.dumps(sorted({name for row, aliases in zip(headers, aliases_of) for name in [row[0], *aliases] if name.startswith('CVE-')})),)
        kev_rows = {row[0]: row[1:] for row in self._connection.execute(
            'SELECT k.cve, k.added, k.due, k.ransomware FROM json_each(?) w JOIN kev k ON k.cve = w.value', cves)}
        epss_rows = {row[0]: row[1:] for row in self._connection.execute(
            'SELECT e.cve, e.score, e.percentile FROM json_each(?) w JOIN epss e ON e.cve = w.value', cves)}
        cve_rows = {row[0]: row[1:] for row in self._connection.execute(
            'SELECT c.cve, c.cvss_vector, c.cvss_score, c.ssvc FROM json_each(?) w JOIN cve_records c ON c.cve = w.value', cves)}
        for (advisory_id, _aliases, summary, source, vector, score), aliases in zip(headers, aliases_of):
            kev, epss, cve_record = self._combine([advisory_id, *aliases], kev_rows, epss_rows, cve_rows)
            # The advisory's own CVSS first, else the CVE record's.
            cvss = {'vector': vector, 'score': score} if vector else (cve_record or {}).get('cvss')
            self._advisories[advisory_id] = (aliases, summary, source, cvss, kev, epss, (cve_record or {}).get('ssvc'))

    def _ranges_of(self, entries):
        """{entry: (ranges, versions)} of the affected entries that Python decides."""
        if not entries:
            return {}
        rows = self._connection.execute('SELECT r.entry, r.ranges, r.versions FROM json_each(?) j '
                                        'JOIN affected_ranges r ON r.entry = j.value', (json.dumps(sorted(set(entries))),)).fetchall()
        return {entry: (json.loads(ranges), json.loads(versions)) for entry, ranges, versions in rows}

    @staticmethod
    def _combine(names, kev_rows, epss_rows, cve_rows):
        """(kev, epss, cve record) of an advisory from the rows found for its CVE names."""
        kev = epss = record = None
        for cve in names:
            row = kev_rows.get(cve)
            if row and kev is None:
                kev = {'cve': cve, 'added': row[0], 'due': row[1], 'ransomware': row[2]}
            row = epss_rows.get(cve)
            if row and (epss is None or row[0] > epss['score']):
                epss = {'cve': cve, 'score': row[0], 'percentile': row[1]}
            row = cve_rows.get(cve)
            if row and record is None:
                record = {'cve': cve, 'cvss': {'vector': row[0], 'score': row[1]} if row[0] else None,
                          'ssvc': json.loads(row[2]) if row[2] else None}
        return kev, epss, record

    def covering_ecosystems(self, ecosystem):
        """The ecosystems stored in the database whose advisories apply to a host of ``ecosystem``.

        Exact names, the distribution as a whole (``Debian``), and for Red Hat every repository
        stream of the release (``Red Hat:enterprise_linux:9::appstream``, ``...::baseos``).
        """
        if self._stored_ecosystems is None:
            self._stored_ecosystems = [row[0] for row in self._connection.execute('SELECT DISTINCT ecosystem FROM affected')]
        return sorted(stored for stored in self._stored_ecosystems if ecosystem_applies(stored, ecosystem)) or [ecosystem]

    def match(self, ecosystem, packages):
        """Applicable advisories for each (package, version) of one ecosystem."""
        memo = self._memo.setdefault(ecosystem, {})
        results = {}
        todo = []
        for name, version in packages:
            found = memo.get((name, version))
            if found is None:
                todo.append((name, version))
            else:
                results[(name, version)] = found
        if not todo:
            return results
        scheme = scheme_for_ecosystem(ecosystem)
        covering = self.covering_ecosystems(ecosystem)
        # Names as stored: PyPI names are compared after PEP 503 normalization.
        normalize = package_name_normalizer(ecosystem)
        stored_names = [normalize(name) if normalize else name for name, _version in todo]
        try:
            keys = version_keys([version for _name, version in todo], scheme)
        except ValueError:
            keys = None     # no sort keys for this scheme (or an odd version): Python decides every range
        # The installed packages go to a temporary table once, so the join reads each
        # name and key as a column; the position names the package in todo.
        self._connection.execute('DELETE FROM temp.wanted')
        self._connection.executemany('INSERT INTO temp.wanted VALUES (?, ?, ?)',
                                     zip(itertools.count(), stored_names, keys or itertools.repeat(None)))
        # SQL keeps the simple ranges that contain the installed version and every complex
        # entry (their keys span every version); Python then evaluates only the complex ones.
        # CROSS JOIN fixes the join order (installed packages first, then one range of
        # affected's primary key per package); SQLite would otherwise scan the whole
        # ecosystem per package.  Without keys every entry of the package is read and evaluated.
        condition = 'AND f.upper_key > w.key AND f.lo_key <= w.key' if keys is not None else ''
        # Only placeholders and the fixed condition above are joined into the text; every value is bound.
        query = (
            'SELECT w.position, CASE WHEN w.key IS NULL THEN 0 ELSE f.simple END, f.fixed, f.status, f.urgency, '  # noqa: S608
            'f.advisory_id, f.entry '
            'FROM temp.wanted w CROSS JOIN affected f ON f.ecosystem IN (%s) AND f.package = w.name %s' % (', '.join('?' * len(covering)), condition)
        )
        rows = self._connection.execute(query, covering).fetchall()
        # Each advisory is read once per database object, however many packages and hosts it applies to.
        self._load_advisories({row[5] for row in rows})
        advisories = self._advisories
        ranges_of = self._ranges_of([row[6] for row in rows if not row[1]])
        found_at = [[] for _package in todo]
        # One JSON document for every row's fixed versions: one decoder call instead of one per row.
        for row, fixed in zip(rows, json.loads('[%s]' % ','.join(row[2] for row in rows))):
            position, simple, _fixed, status, urgency, advisory_id, entry = row
            # The query read only the covering ecosystems' entries: each applies to the host.
            if status == 'not-affected' or advisory_id not in advisories:
                continue
            name, version = todo[position]
            if not simple:
                ranges, versions = ranges_of[entry]
                hit = version in versions or any(
                    range_affects(r['events'], version, 'semver' if r['type'] == 'SEMVER' else scheme, advisory_id)
                    for r in ranges
                )
                if not hit:
                    continue
            aliases, summary, source, cvss, kev, epss, vulnrichment = advisories[advisory_id]
            found_at[position].append({
                'id': advisory_id, 'aliases': list(aliases), 'summary': summary, 'source': source,
                'ecosystem': ecosystem, 'package': name, 'installed': version, 'fixed': fixed,
                'status': status, 'urgency': urgency, 'cvss': cvss, 'kev': kev, 'epss': epss,
                'vulnrichment': vulnrichment,
            })
        for package, found in zip(todo, found_at):
            memo[package] = results[package] = found
        return results

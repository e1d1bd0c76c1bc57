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
import json
import os
import shutil
import sqlite3
import tempfile
import time

from ansible_collections.patchwise.patching.plugins.module_utils.advisories import FeedError, ecosystem_applies, normalize_package_name, range_affects
from ansible_collections.patchwise.patching.plugins.module_utils.versions import scheme_for_ecosystem, version_key, version_keys
from ansible_collections.patchwise.patching.plugins.plugin_utils.database_kind import ADVISORY, database_kind, describe
from ansible_collections.patchwise.patching.plugins.plugin_utils.feed_dates import format_time
from ansible_collections.patchwise.patching.plugins.plugin_utils.feed_files import fetch, read_feed, sha256_of

# Schema 5: the summary in meta records each feed's own date (data_date, date_source; see feed_dates).
SCHEMA = 5

_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisories (
    id TEXT PRIMARY KEY, aliases TEXT NOT NULL, summary TEXT, published TEXT, modified TEXT,
    cvss_vector TEXT, cvss_score REAL, refs TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE affected (
    advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,
    ranges TEXT NOT NULL, versions TEXT NOT NULL, fixed TEXT NOT NULL, status TEXT, urgency TEXT,
    lo_key TEXT, hi_key TEXT, hi_inclusive INTEGER, simple INTEGER NOT NULL);
-- Covering the range keys lets SQLite reject non-matching ranges without reading the table.
CREATE INDEX affected_by_package ON affected (ecosystem, package, simple, lo_key, hi_key, hi_inclusive);
CREATE TABLE aliases (alias TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE INDEX aliases_by_alias ON aliases (alias);
CREATE TABLE kev (cve TEXT PRIMARY KEY, added TEXT NOT NULL, due TEXT, ransomware TEXT,
    vendor TEXT, product TEXT, name TEXT);
CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL);
-- CVE JSON 5 records: CVSS where the advisory has none, and CISA Vulnrichment's SSVC options.
CREATE TABLE cve_records (cve TEXT PRIMARY KEY, cvss_vector TEXT, cvss_score REAL, ssvc TEXT);
"""


def _range_keys(entry):
    """(lo_key, hi_key, hi_inclusive, simple) for SQL range checks.

    An entry is "simple" when it is one ECOSYSTEM range of a single interval
    (introduced, then fixed or last_affected or nothing) in a scheme with sort
    keys, and no explicit versions list: SQL then decides it alone by comparing
    version keys.  Anything else is evaluated in Python by range_affects.
    """
    ranges = entry['ranges']
    if entry['versions'] or len(ranges) != 1 or ranges[0]['type'] != 'ECOSYSTEM':
        return None, None, None, 0
    events = ranges[0]['events']
    try:
        scheme = scheme_for_ecosystem(entry['ecosystem'])
        introduced = events[0].get('introduced') if events else None
        if introduced is None or len(events) > 2:
            return None, None, None, 0
        lo_key = '' if introduced == '0' else version_key(introduced, scheme)
        if len(events) == 1:
            return lo_key, None, None, 1
        upper = events[1]
        if 'fixed' in upper:
            return lo_key, version_key(upper['fixed'], scheme), 0, 1
        if 'last_affected' in upper:
            return lo_key, version_key(upper['last_affected'], scheme), 1, 1
    except ValueError:
        pass
    return None, None, None, 0


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
                rows = []
                for entry in advisory['affected']:
                    package = normalize_package_name(entry['ecosystem'], entry['package'])
                    rows.append((advisory['id'], entry['ecosystem'], package, json.dumps(entry['ranges']),
                                 json.dumps(entry['versions']), json.dumps(entry['fixed']), entry['status'],
                                 entry['urgency'], *_range_keys(entry)))
                    ecosystems[entry['ecosystem']] = ecosystems.get(entry['ecosystem'], 0) + 1
                connection.executemany('INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)
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
        self._advisory_details = {}
        # The build counts the affected entries it writes per ecosystem: their names without a scan of the table.
        counted = summary.get('ecosystems')
        self._stored_ecosystems = sorted(counted) if isinstance(counted, dict) else None
        self._connection.execute('CREATE TEMP TABLE wanted (name TEXT NOT NULL, version TEXT NOT NULL, key TEXT)')
        self._connection.execute('CREATE TEMP TABLE wanted_cves (cve TEXT PRIMARY KEY)')

    def close(self):
        self._connection.close()

    def _details(self, advisory_id, aliases_json):
        """(aliases, kev, epss, CVE record) of an advisory, looked up once per advisory."""
        details = self._advisory_details.get(advisory_id)
        if details is None:
            aliases = json.loads(aliases_json)
            details = (aliases, *self._enrich(advisory_id, aliases))
            self._advisory_details[advisory_id] = details
        return details

    def _prefetch_details(self, advisories):
        """Load aliases, KEV and EPSS of many advisories in two joins instead of two queries per CVE."""
        wanted = {advisory_id: json.loads(aliases_json) for advisory_id, aliases_json in advisories.items()
                  if advisory_id not in self._advisory_details}
        cves = sorted({name for advisory_id, aliases in wanted.items() for name in [advisory_id, *aliases]
                       if name.startswith('CVE-')})
        if not wanted:
            return
        # The CVEs go to a temporary table so one join per enrichment table finds them all.
        self._connection.execute('DELETE FROM temp.wanted_cves')
        self._connection.executemany('INSERT INTO temp.wanted_cves VALUES (?)', [(cve,) for cve in cves])
        kev_rows = {row[0]: row[1:] for row in self._connection.execute(
            'SELECT k.cve, k.added, k.due, k.ransomware FROM temp.wanted_cves w JOIN kev k ON k.cve = w.cve')}
        epss_rows = {row[0]: row[1:] for row in self._connection.execute(
            'SELECT e.cve, e.score, e.percentile FROM temp.wanted_cves w JOIN epss e ON e.cve = w.cve')}
        cve_rows = {row[0]: row[1:] for row in self._connection.execute(
            'SELECT c.cve, c.cvss_vector, c.cvss_score, c.ssvc FROM temp.wanted_cves w JOIN cve_records c ON c.cve = w.cve')}
        for advisory_id, aliases in wanted.items():
            self._advisory_details[advisory_id] = (aliases, *self._combine([advisory_id, *aliases], kev_rows, epss_rows, cve_rows))

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

    def _enrich(self, advisory_id, aliases):
        cves = [name for name in [advisory_id, *aliases] if name.startswith('CVE-')]
        kev_rows, epss_rows, cve_rows = {}, {}, {}
        for cve in cves:
            for rows, query in ((kev_rows, 'SELECT added, due, ransomware FROM kev WHERE cve = ?'),
                                (epss_rows, 'SELECT score, percentile FROM epss WHERE cve = ?'),
                                (cve_rows, 'SELECT cvss_vector, cvss_score, ssvc FROM cve_records WHERE cve = ?')):
                row = self._connection.execute(query, (cve,)).fetchone()
                if row:
                    rows[cve] = row
        return self._combine(cves, kev_rows, epss_rows, cve_rows)

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
        scheme = scheme_for_ecosystem(ecosystem)
        covering = self.covering_ecosystems(ecosystem)
        results = {}
        todo = []
        for name, version in packages:
            key = (ecosystem, name, version)
            if key in self._memo:
                results[(name, version)] = self._memo[key]
            else:
                todo.append((name, version))
        # Names as stored: PyPI names are compared after PEP 503 normalization.
        stored_name = {name: normalize_package_name(ecosystem, name) for name, _version in todo}
        rows_by_name = {}
        try:
            keyed = [[stored_name[name], version, key] for (name, version), key in zip(todo, version_keys([version for _name, version in todo], scheme))]
        except ValueError:
            keyed = None    # no sort keys for this scheme (or an odd version): Python decides every range
        if todo:
            # The installed packages go to a temporary table once, so the join reads
            # each name, version and key as a column instead of parsing JSON per row.
            self._connection.execute('DELETE FROM temp.wanted')
            if keyed:
                self._connection.executemany('INSERT INTO temp.wanted VALUES (?, ?, ?)', keyed)
                # SQL keeps the simple ranges that contain the installed version and every
                # complex entry; Python then evaluates only the complex ones.  CROSS JOIN
                # fixes the join order (installed packages first, then the index on
                # affected); SQLite would otherwise scan the whole ecosystem per package.
                condition = ('WHERE f.simple = 0 OR (w.key >= f.lo_key AND (f.hi_key IS NULL OR w.key < f.hi_key '
                             'OR (f.hi_inclusive = 1 AND w.key = f.hi_key)))')
            else:
                self._connection.executemany('INSERT INTO temp.wanted VALUES (?, ?, NULL)',
                                             [(stored_name[name], version) for name, version in todo])
                condition = ''
            # Only placeholders and the fixed condition above are joined into the text; every value is bound.
            query = (
                'SELECT w.name, w.version, CASE WHEN w.key IS NULL THEN 0 ELSE f.simple END, f.ranges, '  # noqa: S608
                'f.versions, f.fixed, f.status, f.urgency, a.id, a.aliases, a.summary, a.source, a.cvss_vector, a.cvss_score '
                'FROM temp.wanted w CROSS JOIN affected f ON f.ecosystem IN (%s) AND f.package = w.name '
                'JOIN advisories a ON a.id = f.advisory_id %s' % (', '.join('?' * len(covering)), condition)
            )
            for row in self._connection.execute(query, covering):
                rows_by_name.setdefault((row[0], row[1]), []).append(row[2:])
        self._prefetch_details({row[6]: row[7] for rows in rows_by_name.values() for row in rows})
        for name, version in todo:
            found = []
            for (simple, ranges, versions, fixed, status, urgency, advisory_id, aliases, summary,
                 source, vector, score) in rows_by_name.get((stored_name[name], version), []):
                # The query read only the covering ecosystems' entries: each applies to the host.
                if status == 'not-affected':
                    continue
                if not simple:
                    hit = version in json.loads(versions) or any(
                        range_affects(r['events'], version, 'semver' if r['type'] == 'SEMVER' else scheme, advisory_id)
                        for r in json.loads(ranges)
                    )
                    if not hit:
                        continue
                alias_list, kev, epss, cve_record = self._details(advisory_id, aliases)
                cvss = {'vector': vector, 'score': score} if vector else (cve_record or {}).get('cvss')
                found.append({
                    'id': advisory_id, 'aliases': list(alias_list), 'summary': summary, 'source': source,
                    'ecosystem': ecosystem, 'package': name, 'installed': version, 'fixed': json.loads(fixed),
                    'status': status, 'urgency': urgency, 'cvss': cvss, 'kev': kev, 'epss': epss,
                    'vulnrichment': (cve_record or {}).get('ssvc'),
                })
            self._memo[(ecosystem, name, version)] = found
            results[(name, version)] = found
        return results

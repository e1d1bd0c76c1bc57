# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The asset database: the one API through which every part of the collection reads and writes it.

An SQLite file, or a PostgreSQL database given as a ``postgresql://`` URL
(``asset_db_connection``), holding, per host, the latest asset record,
the history of what changed, the asset register as last loaded, risk results
and findings, plans and patch outcomes.  ``AssetStore`` owns the schema
(``asset_store_schema``) and brings older databases forward on open.

Every write is one transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: row
locks, and an advisory lock around a fleet-wide risk pass), so two runs writing
at once wait for each other (up to ``busy_timeout`` seconds) instead of losing
rows, and a failure leaves the database as it was.  Check mode computes the
same answers and rolls back.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_changes import record_changes, record_digest, record_summary
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import ConnectionProblem, connect, display_location, is_url
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_inventory_summary import fleet_summary
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_record_check import host_name_problem, record_problem
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import SCHEMA, migration_statements
from ansible_collections.patchwise.patching.plugins.plugin_utils.database_kind import ASSET, database_kind, describe
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_counts import FindingCounts
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_details import (
    DETAIL_COLUMNS,
    PARTS_JOIN,
    DetailRows,
    delete_unnamed_parts,
    stored_detail,
)
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_rows import rows_to_write
from ansible_collections.patchwise.patching.plugins.plugin_utils.plan_texts import PlanTexts, plan_text, with_run_id
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_findings import is_match_view, match_view
from ansible_collections.patchwise.patching.plugins.plugin_utils.stored_json import dumps

# Hosts per IN (...) query: within SQLite's oldest parameter limit (999).
_CHUNK = 500
# Findings lists of hosts alike whose rows one pass keeps for the hosts that share them (a host's rows each): past
# this many it starts again.  As many as the risk pass shares results (risk_pass._SHARED_LIMIT).
_ALIKE_LIMIT = 32
_TABLES = ('meta', 'hosts', 'history', 'register', 'runs', 'risk_results', 'findings', 'plans', 'patch_outcomes', 'match_views',
           'update_sightings')


class AssetStoreError(Exception):
    """The asset database is missing, corrupt, too new, or was given bad data."""


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _parse_time(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)


def is_stale(last_seen, stale_after_days, now):
    """True when ``last_seen`` is more than ``stale_after_days`` before ``now`` (ISO 8601 UTC strings)."""
    if not stale_after_days:
        return False
    return _parse_time(now) - _parse_time(last_seen) > datetime.timedelta(days=stale_after_days)


# A whole record (thousands of package mappings) as stored: its digest is computed apart (record_digest), so the
# stored text need not sort keys, and a record from JSON has no cycles to look for.
_RECORD_ENCODER = json.JSONEncoder(separators=(',', ':'), ensure_ascii=False, default=str, check_circular=False)


def _record_text(record):
    return _RECORD_ENCODER.encode(record)


def _loaded(text, fallback):
    """A stored JSON column, or ``fallback`` when the row is damaged: one bad row must not stop a fleet-wide read."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return fallback


def _stored_view(record):
    """The record's match view as stored beside it, or None when the record cannot have one.

    A record the matcher cannot read (a package without a name, a version that
    is not a string) is still stored, as before; the risk pass then reads the
    record itself and reports what is wrong with it.
    """
    try:
        return dumps(match_view(record))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _write_results(db, rows, plan_rows):
    if rows:
        db.executemany('INSERT OR REPLACE INTO risk_results (host, run_id, assessed_at, tier, score, decision, due, result, inputs, '
                       'match_inputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)
    _write_plans(db, plan_rows)


def _write_plans(db, rows):
    if rows:
        db.executemany('INSERT OR REPLACE INTO plans (host, run_id, created_at, plan, brief) VALUES (?, ?, ?, ?, ?)', rows)


def _write_views(db, views):
    """Store ``[(host, view or None)]``: a host whose record cannot have a view has none."""
    gone = [(host,) for host, view in views if view is None]
    if gone:
        db.executemany('DELETE FROM match_views WHERE host = ?', gone)
    kept = [(host, view) for host, view in views if view is not None]
    if kept:
        db.executemany('INSERT OR REPLACE INTO match_views (host, view) VALUES (?, ?)', kept)


def _sightings(record):
    """``{(ecosystem, package, version)}`` of the pending updates of ``record``, whose first sighting the store keeps."""
    ecosystem = (record.get('os') or {}).get('ecosystem') or ''
    return {(ecosystem, update['name'], update['available']) for update in record.get('updates') or []
            if isinstance(update, dict) and isinstance(update.get('name'), str) and isinstance(update.get('available'), str)}


def _rows_in(db, select, values):
    """The rows of ``select``, a statement ending in ``IN``, for ``values`` (a list of host names or keys): a query per
    _CHUNK values, not one per value."""
    for start in range(0, len(values), _CHUNK):
        part = values[start:start + _CHUNK]
        # Only placeholders are joined into the statement; the values go as parameters.
        yield from db.execute('%s (%s)' % (select, ', '.join('?' * len(part))), part)


def _stored_details(db, context):
    """``(decided, parted)``: the keys of the finding details stored under the decision ``context`` (none for no
    context), and of those stored as parts under another.

    The same context decides the same detail for a key, so the risk pass need not write the first again; writing
    one of the others may leave parts that no detail names (``finding_details.delete_unnamed_parts``).
    """
    decided, parted = set(), set()
    for key, stored_under, has_parts in db.execute('SELECT detail_key, decided_under, advisory_key IS NOT NULL FROM finding_details'):
        if context is not None and stored_under == context:
            decided.add(key)
        elif has_parts:
            parted.add(key)
    return decided, parted


def _write_details(db, detail_rows, advisory_rows, decision_rows):
    """Write finding details, after the parts they name that are new to this pass (a part stored before stays)."""
    if advisory_rows:
        db.executemany('INSERT OR IGNORE INTO finding_advisories (advisory_key, part) VALUES (?, ?)', advisory_rows)
    if decision_rows:
        db.executemany('INSERT OR IGNORE INTO finding_decisions (decision_key, part) VALUES (?, ?)', decision_rows)
    db.executemany('INSERT OR REPLACE INTO finding_details (detail_key, detail, decided_under, advisory_key, decision_key) '
                   'VALUES (?, ?, ?, ?, ?)', detail_rows)


def _delete_unnamed_details(db, keys):
    """Delete the finding details among ``keys`` that no finding row names any more; returns how many went.

    A row's detail key moves when its host installs another version that is still vulnerable, or changes register
    class: the detail it named would stay behind for good unless another row names it.  The finding counts, kept in
    this transaction and keyed by detail first, say at an index look-up which keys are still named; the keys they
    say are not are confirmed against the rows themselves (counts changed by hand must not cost a detail), in one
    scan of the findings and only when there are any.
    """
    counted = {key for (key,) in _rows_in(db, 'SELECT DISTINCT detail_key FROM finding_counts WHERE detail_key IN', sorted(keys))}
    unnamed = set(keys).difference(counted)
    if not unnamed:
        return 0
    # The keys go in a table of their own, so that one scan of the findings looks each row's key up in it: a list of
    # keys in the statement would take a scan per few hundred keys (a register class changed moves thousands).
    # Made and dropped in the pass's transaction: a pass that fails rolls it back with the rest.
    db.execute('CREATE TEMPORARY TABLE unnamed_details (detail_key TEXT PRIMARY KEY)')
    db.executemany('INSERT INTO unnamed_details (detail_key) VALUES (?)', [(key,) for key in unnamed])
    unnamed.difference_update(key for (key,) in db.execute(
        'SELECT DISTINCT detail_key FROM findings WHERE detail_key IN (SELECT detail_key FROM unnamed_details)'))
    db.execute('DROP TABLE unnamed_details')
    if unnamed:
        db.executemany('DELETE FROM finding_details WHERE detail_key = ?', [(key,) for key in unnamed])
    return len(unnamed)


def _known_digests(db, names):
    """``{host: (digest, has a match view)}`` of the stored hosts among ``names``."""
    rows = _rows_in(db, 'SELECT name, digest, (SELECT count(*) FROM match_views WHERE host = name) FROM hosts WHERE name IN', names)
    return {name: (digest, views) for name, digest, views in rows}


def validate_record(host, record):
    """Refuse anything that is not an asset record this collection wrote, naming the host and the field."""
    problem = record_problem(host, record)
    if problem:
        raise AssetStoreError('host %s: %s' % (host, problem))


def _changes_since(db, host, record):
    """History entries from the stored record of ``host`` to ``record``.

    A stored record written by an older version may not have the shape this one reads: it is
    replaced whole (one ``record`` entry saying why), so a bad row never blocks the host.
    """
    stored = db.execute('SELECT record FROM hosts WHERE name = ?', (host,)).fetchone()[0]
    try:
        return record_changes(json.loads(stored), record)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return [('record', {'replaced': 'the stored record could not be compared (%s: %s); replaced whole' % (type(exc).__name__, exc)})]


def asset_db_exists(location, busy_timeout=30.0):
    """Whether an asset database is at ``location``: the file exists, or the PostgreSQL database has its tables.

    What a check run asks before it would create one (a check never creates state).  A server that cannot be
    reached is an AssetStoreError, not a missing database.
    """
    if not is_url(location):
        return os.path.exists(location)
    try:
        connection = connect(location, readonly=True, busy_timeout=busy_timeout)
    except ConnectionProblem as exc:
        raise AssetStoreError(str(exc)) from exc
    try:
        return 'meta' in connection.tables()
    finally:
        connection.close()


class AssetStore:
    """An open asset database.  Use as a context manager, or call ``close()``."""

    def __init__(self, path, readonly=False, busy_timeout=30.0, create=True):
        """Open the database at ``path`` (a file, or a ``postgresql://`` URL); ``create`` False refuses a missing
        file, or a PostgreSQL database without the asset tables, instead of making an empty one."""
        self.path = display_location(path)
        self.readonly = readonly
        if is_url(path):
            self._open_url(path, readonly, busy_timeout, create)
            return
        if (readonly or not create) and not os.path.exists(path):
            raise AssetStoreError('%s: the asset database does not exist (run the discover playbook or asset_store first)' % path)
        kind = database_kind(path)
        if kind not in (None, 'empty', 'unreadable', ASSET):
            raise AssetStoreError('%s is %s, not an asset database: refusing to %s it (check the asset_db and advisory_db paths)'
                                  % (path, describe(kind), 'read' if readonly else 'use or migrate'))
        if not readonly and not os.path.exists(path):
            parent = os.path.dirname(os.path.abspath(path))
            try:
                os.makedirs(parent, mode=0o700, exist_ok=True)
                # Package lists and exposure say where a fleet is weak: readable by its owner only.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as exc:
                raise AssetStoreError('%s: cannot create the asset database: %s' % (path, exc)) from exc
        self._db = None
        try:
            self._db = connect(path, readonly, busy_timeout)
            self._open_schema()
        except self._errors() as exc:
            self._close_quietly()
            raise AssetStoreError('%s: not a usable asset database: %s' % (path, exc)) from exc

    def _open_url(self, url, readonly, busy_timeout, create):
        self._db = None
        try:
            self._db = connect(url, readonly, busy_timeout)
            tables = self._db.tables()
            if tables and 'meta' in tables:
                kind = dict(self._db.execute("SELECT key, value FROM meta WHERE key = 'kind'").fetchall()).get('kind')
                if kind not in (None, ASSET):
                    raise AssetStoreError('%s is %s, not an asset database: refusing to use it' % (self.path, describe(kind)))
            elif tables:
                raise AssetStoreError('%s holds tables but is not a patchwise asset database (it has no meta table); give the asset '
                                      'database its own database or schema' % self.path)
            elif readonly or not create:
                raise AssetStoreError('%s: the asset database has no tables yet (run the discover playbook or asset_store first)' % self.path)
            self._open_schema()
        except ConnectionProblem as exc:
            self._close_quietly()
            raise AssetStoreError(str(exc)) from exc
        except AssetStoreError:
            self._close_quietly()
            raise
        except self._errors() as exc:
            self._close_quietly()
            raise AssetStoreError('%s: not a usable asset database: %s' % (self.path, str(exc).strip())) from exc

    def _errors(self):
        """The exception classes a database failure raises (both backends' when no connection is open yet)."""
        if self._db is not None:
            return self._db.errors
        import sqlite3  # noqa: PLC0415 - the fallback before a connection exists
        return (sqlite3.DatabaseError,)

    def _close_quietly(self):
        if self._db is not None:
            try:
                self._db.close()
            except Exception:  # noqa: S110 - the connection is already broken; the error that got here is the one to report
                pass
            self._db = None

    @property
    def dialect(self):
        return self._db.dialect

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self._db.close()

    # -- schema -----------------------------------------------------------------

    def _schema_version(self):
        tables = self._db.tables()
        if not tables:
            return 0
        if 'meta' not in tables:
            raise AssetStoreError('%s: this SQLite file is not a patchwise asset database (it has no meta table)' % self.path)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            raise AssetStoreError('%s: the asset database has no schema version' % self.path)
        return int(row[0])

    def _open_schema(self):
        version = self._schema_version()
        if version == SCHEMA:
            return
        if version > SCHEMA:
            raise AssetStoreError('%s: asset database schema %d is newer than this collection supports (%d); upgrade patchwise.patching'
                                  % (self.path, version, SCHEMA))
        if self.readonly:
            raise AssetStoreError('%s: asset database schema %d is older than %d; run asset_store once to migrate it'
                                  % (self.path, version, SCHEMA))
        self._db.begin_write()
        try:
            if self._db.dialect == 'postgresql':
                # Two jobs opening a new database at once: one migrates, the other waits and finds it done.
                self._db.advisory_lock('patchwise asset schema')
            version = self._schema_version()  # another writer may have migrated while we waited
            for number in range(version + 1, SCHEMA + 1):
                for statement in migration_statements(number, self._db.dialect):
                    self._db.script(statement)
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA),))
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

    def _write(self, work, check_mode=False):
        """Run ``work(cursor)`` in one immediate transaction; roll back in check mode or on error."""
        if self.readonly:
            raise AssetStoreError('%s: opened read-only' % self.path)
        try:
            self._db.begin_write()
        except self._db.busy_errors as exc:
            raise AssetStoreError('%s: cannot lock the asset database for writing: %s' % (self.path, exc)) from exc
        try:
            answer = work(self._db)
        except self._db.errors as exc:
            self._db.rollback()
            raise AssetStoreError('%s: %s (nothing was written)' % (self.path, str(exc).strip())) from exc
        except BaseException:
            self._db.rollback()
            raise
        if check_mode:
            self._db.rollback()
        else:
            self._db.commit()
        return answer

    # -- asset records ------------------------------------------------------------

    def store_records(self, records, run_id=None, now=None, check_mode=False):
        """Store the latest record of each host: ``{host: record}``.

        Returns ``{host: {'changed': bool, 'new': bool, 'changes': [kind, ...]}}``; a record that
        cannot be stored is refused alone, ``{'changed': False, 'refused': reason}``, and the
        others are stored.  A host whose record is the same as the stored one (collection time and
        process ids aside) only has its ``last_seen`` moved, and is not changed.
        """
        return self._write(self._records_work(records, run_id, now or utc_now()), check_mode)

    def _records_work(self, records, run_id, now):
        """The transaction body of ``store_records``, to run alone or in ``store_run``."""
        refused = {}
        for host, record in records.items():
            problem = record_problem(host, record)
            if problem:
                refused[host] = problem

        def work(db):
            outcome = {host: {'changed': False, 'new': False, 'changes': [], 'refused': reason} for host, reason in refused.items()}
            names = sorted(host for host in records if host not in refused)
            known = _known_digests(db, names)
            # The statements are gathered and run per kind, once for the whole call: on PostgreSQL each statement
            # is a round trip, and a batch of hosts would otherwise cost several per host.
            inserted, rewritten, touched, views, history, sightings = [], [], [], [], [], set()
            for host in names:
                record = records[host]
                digest = record_digest(record)
                row = known.get(host)
                if row is not None and row[0] == digest:
                    if not row[1]:
                        # Stored before schema 3: the view is built from the record that stays stored.
                        views.append((host, _stored_view(record)))
                    touched.append((record['collected_at'], record['collected_at'], record['collected_at'], run_id, host))
                    outcome[host] = {'changed': False, 'new': False, 'changes': []}
                    continue
                summary = dumps(record_summary(record))
                if row is None:
                    inserted.append((host, record['collected_at'], record['collected_at'], now, record['collected_at'], run_id, digest, summary,
                                     _record_text(record)))
                    views.append((host, _stored_view(record)))
                    sightings.update(_sightings(record))
                    history.append((host, now, run_id, 'first_seen', summary))
                    outcome[host] = {'changed': True, 'new': True, 'changes': ['first_seen']}
                    continue
                # Read before the record is replaced below.
                changes = _changes_since(db, host, record)
                history.extend((host, now, run_id, kind, dumps(detail)) for kind, detail in changes)
                rewritten.append((record['collected_at'], record['collected_at'], now, record['collected_at'], run_id, digest, summary,
                                  _record_text(record), host))
                views.append((host, _stored_view(record)))
                sightings.update(_sightings(record))
                outcome[host] = {'changed': True, 'new': False, 'changes': [kind for kind, _detail in changes]}
            if inserted:
                db.executemany('INSERT INTO hosts (name, first_seen, last_seen, last_changed, collected_at, run_id, digest, summary, record) '
                               'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', inserted)
            if rewritten:
                db.executemany('UPDATE hosts SET last_seen = CASE WHEN last_seen > ? THEN last_seen ELSE ? END, last_changed = ?, '
                               'collected_at = ?, run_id = ?, digest = ?, summary = ?, record = ? WHERE name = ?', rewritten)
            if touched:
                db.executemany('UPDATE hosts SET last_seen = CASE WHEN last_seen > ? THEN last_seen ELSE ? END, collected_at = ?, run_id = ? '
                               'WHERE name = ?', touched)
            # After the records: replacing one dropped its old view (trigger match_view_dropped_on_update).
            _write_views(db, views)
            if history:
                db.executemany('INSERT INTO history (host, at, run_id, kind, detail) VALUES (?, ?, ?, ?, ?)', history)
            if sightings:
                db.executemany('INSERT OR IGNORE INTO update_sightings (ecosystem, package, version, first_seen) VALUES (?, ?, ?, ?)',
                               [(*row, now) for row in sorted(sightings)])
            stored = [item for item in outcome.values() if 'refused' not in item]
            db.execute('INSERT OR REPLACE INTO runs (run_id, stage, at, hosts, changed) VALUES (?, ?, ?, ?, ?)',
                       (run_id or '', 'discover', now, len(stored), sum(1 for item in stored if item['changed'])))
            return outcome

        return work

    def iter_hosts(self, stale_after_days=None, now=None):
        """Yield every stored host, sorted by name: ``{name, first_seen, last_seen, stale, summary, tier, due}``.

        One row at a time, so a large fleet is never held twice in memory.
        """
        now = now or utc_now()
        rows = self._db.execute(
            'SELECT h.name, h.first_seen, h.last_seen, h.summary, r.tier, r.due FROM hosts h '
            'LEFT JOIN risk_results r ON r.host = h.name ORDER BY h.name')
        for name, first, last, summary, tier, due in rows:
            yield {'name': name, 'first_seen': first, 'last_seen': last, 'stale': is_stale(last, stale_after_days, now),
                   'summary': _loaded(summary, {}), 'tier': tier, 'due': due}

    def hosts(self, stale_after_days=None, now=None):
        """Every stored host, sorted by name (see ``iter_hosts``), as a list."""
        return list(self.iter_hosts(stale_after_days, now))

    def record(self, host):
        """The latest full record of ``host``, or None."""
        row = self._db.execute('SELECT record FROM hosts WHERE name = ?', (host,)).fetchone()
        return json.loads(row[0]) if row else None

    def matching_input(self, host):
        """What the risk engine matches for ``host``: its stored match view, else its full record; None for an unknown host."""
        row = self._db.execute('SELECT view FROM match_views WHERE host = ?', (host,)).fetchone()
        if row is not None:
            view = json.loads(row[0])
            if is_match_view(view):
                return view
        return self.record(host)

    def matching_inputs(self, hosts, *, parsed=None):
        """``{host: matching_input(host)}`` for ``hosts``, their match views read a few queries for the lot.

        ``parsed``: ``{view text: view}``, kept by the caller across calls: a view whose text is in it is that
        same object, so hosts alike (the same view) can be told by identity; each view parsed is added to it.
        Read the views, never change them.
        """
        views = dict(_rows_in(self._db, 'SELECT host, view FROM match_views WHERE host IN', hosts))
        parsed = {} if parsed is None else parsed
        inputs = {}
        for host in hosts:
            text = views.get(host)
            # Only match views go into ``parsed``: a view found there is one.
            view = None if text is None else parsed.get(text)
            if view is None and text is not None:
                view = json.loads(text)
                if is_match_view(view):
                    parsed[text] = view
                else:
                    view = None
            # No view (or one of an older form): the full record, as matching_input reads it.
            inputs[host] = view if view is not None else self.record(host)
        return inputs

    def history(self, host=None, kind=None, since=None, run_id=None):
        """History entries, oldest first: ``[{host, at, run_id, kind, detail}]``, filtered by what is given."""
        rows = self._db.execute(
            'SELECT host, at, run_id, kind, detail FROM history WHERE (CAST(? AS TEXT) IS NULL OR host = ?) AND (CAST(? AS TEXT) IS NULL OR kind = ?) '
            'AND (CAST(? AS TEXT) IS NULL OR run_id = ?) AND (CAST(? AS TEXT) IS NULL OR at >= ?) ORDER BY id',
            (host, host, kind, kind, run_id, run_id, since, since))
        return [{'host': h, 'at': at, 'run_id': run, 'kind': k, 'detail': json.loads(detail)} for h, at, run, k, detail in rows]

    # -- register -------------------------------------------------------------------

    def replace_register(self, register, source, now=None, check_mode=False):
        """Make ``register`` ({host: entry}) the stored register.  Returns the hosts whose entry changed."""
        return self._write(self._register_work(register, source, now or utc_now()), check_mode)

    def store_run(self, records, *, register=None, register_source=None, outcomes=(), run_id=None, stale_after_days=None,
                  now=None, check_mode=False):
        """One discovery or patch run's writes in one transaction, and the fleet summary read inside it.

        Returns ``(register_changed, stored, summary)`` as ``replace_register``, ``store_records`` and
        ``fleet_summary`` of ``hosts()`` give them; a failure anywhere leaves the database as it was.
        ``outcomes``: ``[(host, kind, status, detail)]``.
        """
        now = now or utc_now()
        records_work = self._records_work(records, run_id, now)
        register_work = self._register_work(register, register_source, now) if register is not None else None

        def work(db):
            register_changed = register_work(db) if register_work else []
            stored = records_work(db)
            for host, kind, status, detail in outcomes:
                self._outcome_work(host, kind, status, detail, run_id=run_id, now=now)(db)
            return register_changed, stored, fleet_summary(self.iter_hosts(stale_after_days, now))

        return self._write(work, check_mode)

    def _register_work(self, register, source, now):
        """The transaction body of ``replace_register``."""

        def work(db):
            stored = {host: json.loads(entry) for host, entry in db.execute('SELECT host, entry FROM register')}
            changed = sorted(host for host in set(stored) | set(register) if stored.get(host) != register.get(host))
            if changed:
                db.execute('DELETE FROM register')
                db.executemany('INSERT INTO register (host, entry, source, loaded_at) VALUES (?, ?, ?, ?)',
                               [(host, dumps(entry), source, now) for host, entry in sorted(register.items())])
            return changed

        return work

    def register(self):
        """The stored register, ``{host: entry}``."""
        return {host: json.loads(entry) for host, entry in self._db.execute('SELECT host, entry FROM register')}

    # -- risk results, findings and plans (written by the risk pass) ------------------

    def store_risk_results(self, results, run_id=None, now=None, check_mode=False, *, details=None, detail_parts=None, decided_under=None):
        """Store ``{host: risk_result}`` (or an iterable of ``(host, risk_result)``) and keep each finding's lifecycle.

        An iterable is consumed inside the transaction, one host at a time, so
        a fleet's findings never have to be in memory at once; it may read
        this store while it is consumed.

        An item may carry the host's finding rows as a third element (as
        ``finding_rows`` returned them, read in this transaction) so they are
        not read twice, and its plan and the plan's brief as a fourth
        (``(plan, brief)``): the plan is stored with the result, in the same
        transaction, as ``store_plans`` stores it, so a fleet's plans never have
        to be in memory at once either.

        A finding (host, id, package) not known, or known as ``fixed``, is
        (re)opened with ``first_seen`` now; a known one keeps its ``first_seen``;
        its status (``open`` or ``accepted``) is the one the risk engine gave.
        One no longer reported becomes ``fixed``, ``closed`` now.  The shared
        part of each finding (``details``: detail_key -> detail, as the risk
        engine keeps them) is written once, with the engine's ``decided_under``
        (its decision context), as the two parts the engine made it of
        (``detail_parts``: detail_key -> (advisory, decision); see
        ``finding_details``) or whole when it has none; a detail already stored
        under the same context is not written again (the same context decides
        the same detail for a key).  A detail no row names any more once a pass
        moved its rows to other keys is deleted with it, and so is a part no
        detail names.  Returns ``{host: {'opened': n,
        'closed': n}}`` and sets each finding's stored ``first_seen`` and
        ``status`` in ``results``.  A finding dict met again in one call (the
        engine shares one between hosts) is taken to be unchanged since, and
        so is a findings list (the risk pass gives hosts alike one): a host
        whose stored rows are those of the first host with that list writes
        that host's rows under its own name, without going through its findings.
        Likewise a plan's parts and a brief met again (the copies of one plan
        the risk pass gives hosts alike) are encoded once.
        """
        now = now or utc_now()
        # The engine's dicts, empty until the first host is classified.
        details = {} if details is None else details
        detail_parts = {} if detail_parts is None else detail_parts

        pairs = sorted(results.items()) if isinstance(results, dict) else results

        def work(db):
            if db.dialect == 'postgresql':
                # Row locks alone would let two passes interleave host by host; one pass at a time, as SQLite's single writer.
                db.advisory_lock('patchwise risk pass')
            outcome = {}
            detail_writer = None
            counts = FindingCounts()
            # Each kind of row goes in one statement per host (results: per hundred hosts) - a round trip on PostgreSQL.
            results_rows, plan_rows = [], []
            # The engine shares one finding dict between the hosts that have it alike (risk.RiskEngine.classify): what is
            # stored of it besides status and first seen is worked out once per dict, not once per host.
            stored_parts = {}
            # The detail keys rows of this pass named before and name no more: their details may be left unnamed.
            moved_from = set()
            # {id(findings list): HostRows}: what the first of the hosts alike that share a findings list wrote.
            alike = {}
            plan_texts = PlanTexts()
            for item in pairs:
                if detail_writer is None:
                    # Read with the first host: a pass that skips every host pays nothing for it.
                    detail_writer = DetailRows(details, detail_parts, decided_under, *_stored_details(db, decided_under))
                host, result = item[:2]
                known = item[2] if len(item) > 2 and item[2] is not None else self.finding_rows(host)
                if len(item) > 3:
                    plan, brief = item[3]
                    plan_rows.append((host, run_id, now, plan_texts.plan(plan), plan_texts.brief(brief)))
                findings = result.get('findings') or []
                copied = alike.get(id(findings)) if findings else None
                copy_from = None
                if copied is not None and copied.known == known:
                    # Hosts alike (risk_pass) share one findings list: with the same stored rows, this host's rows are
                    # the first one's under its own name, and its details are written already.
                    gone, opened = copied.gone, copied.opened
                    if len(copied.rows) >= len(known):
                        # The first one rewrote as many rows as it had (a first pass: all of them): the database copies
                        # every row it has now, fixed ones included, in one statement, 2.4x faster than sending them
                        # row by row (measured on the million rows of a fleet of images' first pass).
                        copy_from, rows = copied.host, ()
                    else:
                        rows = [(host, *row[1:]) for row in copied.rows]
                    if copied.tally is None:
                        copied.tally = FindingCounts.tally(copied.before, copied.after)
                    counts.count_tally(host, copied.tally)
                else:
                    written_rows, detail_rows, decided = rows_to_write(
                        host, findings, known, now=now, details=detail_writer, stored_parts=stored_parts, moved_from=moved_from)
                    rows, gone, opened = written_rows.rows, written_rows.gone, written_rows.opened
                    if detail_rows:
                        _write_details(db, detail_rows, *detail_writer.take_parts())
                    counts.count(host, written_rows.before, written_rows.after)
                    if decided and findings:
                        # Only rows whose every detail an engine decided: another host's undecided details have keys of its own.
                        if len(alike) >= _ALIKE_LIMIT:
                            alike.clear()
                        alike[id(findings)] = written_rows
                if copy_from is not None:
                    db.execute('INSERT OR REPLACE INTO findings (host, finding_id, package, status, first_seen, kind, tier, due, '
                               'detail_key, extra, closed) SELECT ?, finding_id, package, status, first_seen, kind, tier, due, '
                               'detail_key, extra, closed FROM findings WHERE host = ?', (host, copy_from))
                elif rows:
                    db.executemany('INSERT OR REPLACE INTO findings (host, finding_id, package, status, first_seen, kind, tier, due, '
                                   'detail_key, extra, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)', rows)
                if gone and copy_from is None:
                    db.executemany("UPDATE findings SET status = 'fixed', closed = ? WHERE host = ? AND finding_id = ? AND package = ?",
                                   [(now, host, fid, pkg) for fid, pkg in gone])
                summary = {name: value for name, value in result.items() if name not in ('findings', 'inputs', 'match_inputs')}
                results_rows.append((host, run_id, now, result.get('tier', 'none'), result.get('score'), result.get('decision'),
                                     result.get('due'), dumps(summary), result.get('inputs'), result.get('match_inputs')))
                if len(results_rows) >= 100:
                    _write_results(db, results_rows, plan_rows)
                    results_rows, plan_rows = [], []
                outcome[host] = {'opened': opened, 'closed': len(gone)}
            _write_results(db, results_rows, plan_rows)
            counts.write(db)
            deleted = 0
            if moved_from:
                # After the counts are written: they then count every row this pass wrote.
                deleted = _delete_unnamed_details(db, moved_from)
            if deleted or (detail_writer is not None and detail_writer.replaced):
                # A detail written again under another context may name other parts than it did.
                delete_unnamed_parts(db)
            db.execute('INSERT OR REPLACE INTO runs (run_id, stage, at, hosts, changed) VALUES (?, ?, ?, ?, ?)',
                       (run_id or '', 'assess', now, len(outcome), sum(1 for item in outcome.values() if item['opened'] or item['closed'])))
            return outcome

        return self._write(work, check_mode)

    def risk_result(self, host, with_findings=True):
        """The stored risk result of ``host`` (its findings from ``findings()`` when asked), or None."""
        row = self._db.execute('SELECT result FROM risk_results WHERE host = ?', (host,)).fetchone()
        if row is None:
            return None
        result = json.loads(row[0])
        if with_findings:
            result['findings'] = [f for f in self.findings(host=host) if f['status'] != 'fixed']
        return result

    def finding_rows(self, host):
        """``{(finding id, package): (status, first_seen, kind, tier, due, detail_key, extra, closed)}``: ``host``'s stored finding rows.

        ``store_risk_results`` takes them back (items ``(host, result, rows)``)
        instead of reading them again.
        """
        return {(row[0], row[1]): row[2:] for row in self._db.execute(
            'SELECT finding_id, package, status, first_seen, kind, tier, due, detail_key, extra, closed FROM findings WHERE host = ?', (host,))}

    def finding_rows_of(self, hosts):
        """``{host: finding_rows(host)}`` for ``hosts``, read a few queries for the lot (every host has an entry)."""
        rows = {host: {} for host in hosts}
        for row in _rows_in(self._db, 'SELECT host, finding_id, package, status, first_seen, kind, tier, due, detail_key, extra, closed '
                            'FROM findings WHERE host IN', hosts):
            rows[row[0]][(row[1], row[2])] = row[3:]
        return rows

    def assessment_state(self):
        """``{host: (record digest, inputs of its last assessment, its match inputs)}``, in one query for the fleet.

        The inputs (of the record, of what the record's findings were matched as: see ``risk_pass``) are None when the
        host has no stored result or no plan with its brief: it is assessed again.
        """
        return {host: (digest, inputs, match_inputs) for host, digest, inputs, match_inputs in self._db.execute(
            'SELECT h.name, h.digest, CASE WHEN p.brief IS NULL THEN NULL ELSE r.inputs END, '
            'CASE WHEN p.brief IS NULL THEN NULL ELSE r.match_inputs END FROM hosts h '
            'LEFT JOIN risk_results r ON r.host = h.name LEFT JOIN plans p ON p.host = h.name')}

    def kept_assessments(self, hosts):
        """``{host: (risk summary, plan brief)}`` of ``hosts`` with a stored result and a plan with its brief."""
        kept = {}
        hosts = list(hosts)
        for start in range(0, len(hosts), _CHUNK):
            chunk = hosts[start:start + _CHUNK]
            # Only placeholders are joined into the statement; the host names go as parameters.
            query = ('SELECT r.host, r.result, p.brief FROM risk_results r JOIN plans p ON p.host = r.host '  # noqa: S608
                     'WHERE p.brief IS NOT NULL AND r.host IN (%s)' % ', '.join('?' * len(chunk)))
            kept.update({host: (json.loads(result), json.loads(brief)) for host, result, brief in self._db.execute(query, chunk)})
        return kept

    def update_sightings(self):
        """``{(ecosystem, package, version): first_seen}`` of every pending update discovery has seen."""
        return {(ecosystem, package, version): first_seen for ecosystem, package, version, first_seen in self._db.execute(
            'SELECT ecosystem, package, version, first_seen FROM update_sightings')}

    def risk_tiers(self):
        """``{host: (tier, due)}`` of every stored risk result (as ``risk_result`` gives them), in one query."""
        return {host: (tier, due) for host, tier, due in self._db.execute(
            'SELECT host, tier, due FROM risk_results')}

    def finding_lifecycle(self, host):
        """``{(finding id, package): (status, first_seen)}`` of ``host``'s stored findings, without their details."""
        return {(fid, pkg): (status, first_seen) for fid, pkg, status, first_seen in
                self._db.execute('SELECT finding_id, package, status, first_seen FROM findings WHERE host = ?', (host,))}

    def findings(self, host=None, status=None):
        """Findings with their lifecycle: the shared detail plus host, status, tier, due, first_seen, closed and host extras."""
        rows = self._db.execute(
            'SELECT f.host, f.status, f.tier, f.due, f.first_seen, f.closed, f.extra, f.detail_key, %s FROM findings f '  # noqa: S608
            'LEFT JOIN finding_details d ON d.detail_key = f.detail_key %s '
            'WHERE (CAST(? AS TEXT) IS NULL OR f.host = ?) AND (CAST(? AS TEXT) IS NULL OR f.status = ?) ORDER BY f.host, f.finding_id, f.package'
            % (DETAIL_COLUMNS, PARTS_JOIN), (host, host, status, status))
        found = []
        for h, s, tier, due, first, closed, extra, detail_key, *detail in rows:
            item = stored_detail(detail_key, *detail, json.loads)
            item.update(json.loads(extra) if extra else {})
            item.update(host=h, status=s, tier=tier, due=due, first_seen=first, closed=closed)
            found.append(item)
        return found

    def finding_details(self):
        """``{detail_key: (detail, decided_under)}``: every stored shared detail, whole (see ``finding_details``)."""
        return {key: (stored_detail(key, *detail, json.loads), context) for key, context, *detail in self._db.execute(
            'SELECT d.detail_key, d.decided_under, %s FROM finding_details d %s' % (DETAIL_COLUMNS, PARTS_JOIN))}  # noqa: S608

    def store_plans(self, plans, run_id=None, now=None, check_mode=False, briefs=None):
        """Store ``{host: plan}``, replacing each host's previous plan; ``briefs``: ``{host: brief}`` kept beside them."""
        now = now or utc_now()
        briefs = briefs or {}

        def work(db):
            _write_plans(db, [(host, run_id, now, plan_text(plan), dumps(briefs[host]) if host in briefs else None)
                              for host, plan in sorted(plans.items())])
            return len(plans)

        return self._write(work, check_mode)

    def confirm_assessments(self, hosts, run_id=None, assessed_on=None, now=None, check_mode=False, *, inputs=None):
        """Mark the stored results and plans of ``hosts`` as confirmed by this pass (nothing they depend on changed).

        Their time and run id move on, so a plan that still describes its host does not age out of
        ``plan_max_age_days`` while incremental passes keep skipping the host.  ``assessed_on``: the
        pass's date (as the engine writes it into a result), today by default.  ``inputs``: {host: the
        inputs its result now stands for}, of the hosts whose record changed in nothing the result depends on.
        """
        now = now or utc_now()
        assessed_on = assessed_on or now[:10]
        inputs = inputs or {}

        def work(db):
            rows = [(now, run_id, run_id, assessed_on, inputs.get(host), host) for host in hosts]
            if db.dialect == 'postgresql':
                db.executemany("UPDATE risk_results SET assessed_at = ?, run_id = ?, result = jsonb_set(jsonb_set(result::jsonb, "
                               "'{run_id}', coalesce(to_jsonb(?::text), 'null')), '{assessed_on}', to_jsonb(?::text))::text, "
                               'inputs = coalesce(?, inputs) WHERE host = ?', rows)
            else:
                # json_set rewrites the stored documents inside SQLite: a fleet's results are not parsed and dumped again.
                db.executemany("UPDATE risk_results SET assessed_at = ?, run_id = ?, result = json_set(result, '$.run_id', ?, '$.assessed_on', ?), "
                               'inputs = coalesce(?, inputs) WHERE host = ?', rows)
            # A plan's run id is its row's (plan_texts.plan_text): the plan itself stays as it is.
            db.executemany('UPDATE plans SET created_at = ?, run_id = ? WHERE host = ?', [(now, run_id, host) for host in hosts])
            return len(hosts)

        return self._write(work, check_mode)

    def plan(self, host):
        row = self._db.execute('SELECT plan, run_id FROM plans WHERE host = ?', (host,)).fetchone()
        return with_run_id(*row) if row else None

    # -- frozen patch sets (patch_sets.py) ------------------------------------------------

    def freeze_patch_set(self, set_id, *, stage, content, digest, run_id=None, policy_fingerprint=None, now=None, check_mode=False):
        """Store a new patch set; ``False`` when the same set is already stored, AssetStoreError when another one has the id."""
        now = now or utc_now()

        def work(db):
            row = db.execute('SELECT digest FROM patch_sets WHERE id = ?', (set_id,)).fetchone()
            if row is not None:
                if row[0] == digest:
                    return False
                raise AssetStoreError('patch set %s already exists with other content: a frozen set never changes; freeze under a new id'
                                      % set_id)
            db.execute('INSERT INTO patch_sets (id, stage, created_at, run_id, policy_fingerprint, digest, content) VALUES (?, ?, ?, ?, ?, ?, ?)',
                       (set_id, stage, now, run_id, policy_fingerprint, digest, dumps(content)))
            return True

        return self._write(work, check_mode)

    def patch_set(self, set_id):
        """The stored set ``{id, stage, created_at, run_id, policy_fingerprint, digest, content, promotions}``, or None."""
        row = self._db.execute('SELECT id, stage, created_at, run_id, policy_fingerprint, digest, content FROM patch_sets WHERE id = ?',
                               (set_id,)).fetchone()
        if row is None:
            return None
        stored = dict(zip(('id', 'stage', 'created_at', 'run_id', 'policy_fingerprint', 'digest'), row[:6]))
        stored['content'] = _loaded(row[6], None)
        stored['promotions'] = [dict(zip(('from_stage', 'to_stage', 'at', 'run_id', 'operator', 'change_ref', 'gates'), (*r[:6], _loaded(r[6], {}))))
                                for r in self._db.execute('SELECT from_stage, to_stage, at, run_id, operator, change_ref, gates '
                                                          'FROM patch_set_promotions WHERE set_id = ? ORDER BY id', (set_id,))]
        return stored

    def record_promotion(self, set_id, *, from_stage, to_stage, gates, run_id=None, operator=None, change_ref=None, now=None,
                         check_mode=False):
        """Record that ``set_id`` was promoted from one stage to the next, with the gates it passed."""
        now = now or utc_now()

        def work(db):
            db.execute('INSERT INTO patch_set_promotions (set_id, from_stage, to_stage, at, run_id, operator, change_ref, gates) '
                       'VALUES (?, ?, ?, ?, ?, ?, ?, ?)', (set_id, from_stage, to_stage, now, run_id, operator, change_ref, dumps(gates)))
            return True

        return self._write(work, check_mode)

    # -- controller-side state documents (controller_state.py) -------------------------------

    def state_document(self, name):
        """The named controller state document, or None when there is none."""
        row = self._db.execute('SELECT value FROM controller_state WHERE name = ?', (name,)).fetchone()
        return _loaded(row[0], None) if row else None

    def update_state_document(self, name, change, now=None):
        """``change(value)`` -> ``(answer, new value or None)`` on the named document, in one transaction that holds the
        document's row (PostgreSQL: a row lock; SQLite: the database's write lock) until the new value is written, so
        two jobs never both read the old value.  Returns the answer."""
        now = now or utc_now()

        def work(db):
            db.execute('INSERT OR IGNORE INTO controller_state (name, value, updated_at) VALUES (?, ?, ?)', (name, 'null', now))
            # PostgreSQL holds the row until commit; SQLite's write transaction already holds the whole database.
            statement = 'SELECT value FROM controller_state WHERE name = ? FOR UPDATE' if db.dialect == 'postgresql' else \
                'SELECT value FROM controller_state WHERE name = ?'
            row = db.execute(statement, (name,)).fetchone()
            answer, value = change(_loaded(row[0], None))
            if value is not None:
                db.execute('UPDATE controller_state SET value = ?, updated_at = ? WHERE name = ?', (dumps(value), now, name))
            return answer

        return self._write(work)

    def stored_plan(self, host):
        """``{plan, created_at, run_id}`` of ``host``'s latest plan, or None; a plan that is not JSON is returned as its text."""
        row = self._db.execute('SELECT plan, created_at, run_id FROM plans WHERE host = ?', (host,)).fetchone()
        if row is None:
            return None
        try:
            plan = with_run_id(row[0], row[2])
        except (TypeError, ValueError):
            plan = row[0]
        return {'plan': plan, 'created_at': row[1], 'run_id': row[2]}

    def discovered(self, host):
        """``{collected_at, last_seen, last_changed}`` of ``host``'s stored record, or None: when discovery last saw and last changed it."""
        row = self._db.execute('SELECT collected_at, last_seen, last_changed FROM hosts WHERE name = ?', (host,)).fetchone()
        return {'collected_at': row[0], 'last_seen': row[1], 'last_changed': row[2]} if row else None

    # -- patch outcomes (written by system_patch and app_patch) -------------------------

    def add_patch_outcome(self, host, kind, status, detail, *, run_id=None, now=None, check_mode=False):
        """Append one patch outcome (``kind`` system or app) and return its id."""
        return self._write(self._outcome_work(host, kind, status, detail, run_id=run_id, now=now or utc_now()), check_mode)

    @staticmethod
    def _outcome_work(host, kind, status, detail, *, run_id, now):
        """The transaction body of ``add_patch_outcome``."""
        problem = host_name_problem(host)
        if problem:
            raise AssetStoreError('patch outcome: %s' % problem)
        if kind not in ('system', 'app'):
            raise AssetStoreError('host %s: patch outcome kind must be system or app, got %r' % (host, kind))

        def work(db):
            values = (host, run_id, kind, now, status, dumps(detail))
            insert = 'INSERT INTO patch_outcomes (host, run_id, kind, at, status, detail) VALUES (?, ?, ?, ?, ?, ?)'
            if db.dialect == 'postgresql':
                outcome_id = db.execute(insert + ' RETURNING id', values).fetchone()[0]
            else:
                # RETURNING needs SQLite 3.35; lastrowid works with every version a controller may have.
                outcome_id = db.execute(insert, values).lastrowid
            db.execute('INSERT INTO history (host, at, run_id, kind, detail) VALUES (?, ?, ?, ?, ?)',
                       (host, now, run_id, 'patch_' + kind, dumps(dict(detail, status=status))))
            return outcome_id

        return work

    def patch_outcomes(self, host=None, run_id=None):
        rows = self._db.execute(
            'SELECT id, host, run_id, kind, at, status, detail FROM patch_outcomes '
            'WHERE (CAST(? AS TEXT) IS NULL OR host = ?) AND (CAST(? AS TEXT) IS NULL OR run_id = ?) '
            'ORDER BY id', (host, host, run_id, run_id))
        return [{'id': i, 'host': h, 'run_id': r, 'kind': k, 'at': at, 'status': s, 'detail': json.loads(d)} for i, h, r, k, at, s, d in rows]

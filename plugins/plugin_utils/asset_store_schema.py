# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The asset database's schema, as an ordered list of migrations.

Migration N brings a database from schema N-1 to N.  A new table or column is
a new migration appended here; released migrations are never edited, so
every database can be brought forward in one transaction by
``asset_store.AssetStore``.
"""

from __future__ import annotations

import re
import sqlite3

_SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- The latest asset record per host.  ``summary`` holds the small part that
-- the inventory plugin needs, so it never parses a full record.
CREATE TABLE hosts (
    name TEXT PRIMARY KEY,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    last_changed TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    run_id TEXT,
    digest TEXT NOT NULL,
    summary TEXT NOT NULL,
    record TEXT NOT NULL);

-- What changed on a host between two stored records (drift and patch history).
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL,
    at TEXT NOT NULL,
    run_id TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE INDEX history_by_host ON history (host, at);
CREATE INDEX history_by_run ON history (run_id);

-- The asset register as last loaded (owner, criticality, exposure, ...).
CREATE TABLE register (
    host TEXT PRIMARY KEY,
    entry TEXT NOT NULL,
    source TEXT NOT NULL,
    loaded_at TEXT NOT NULL);

CREATE TABLE runs (
    run_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    at TEXT NOT NULL,
    hosts INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    PRIMARY KEY (run_id, stage, at));

-- Written by the risk pass: one result per host, and every finding with its lifecycle.
CREATE TABLE risk_results (
    host TEXT PRIMARY KEY,
    run_id TEXT,
    assessed_at TEXT NOT NULL,
    tier TEXT NOT NULL,
    score REAL,
    decision TEXT,
    due TEXT,
    result TEXT NOT NULL);
CREATE TABLE findings (
    host TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    package TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    tier TEXT,
    due TEXT,
    first_seen TEXT NOT NULL,
    closed TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (host, finding_id, package));
CREATE INDEX findings_by_status ON findings (status, tier);

-- Written by the risk pass, read by the patch playbooks.
CREATE TABLE plans (
    host TEXT PRIMARY KEY,
    run_id TEXT,
    created_at TEXT NOT NULL,
    plan TEXT NOT NULL);

-- Written by system_patch and app_patch: one row per host per patch run.
CREATE TABLE patch_outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL,
    run_id TEXT,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE INDEX patch_outcomes_by_host ON patch_outcomes (host, at);
"""

# Schema 2: each distinct finding detail is stored once and shared by the hosts
# that have it; the per-host rows keep only the lifecycle (the old per-row JSON
# made a fleet pass write the same detail thousands of times).
_SCHEMA_2 = """
ALTER TABLE findings RENAME TO findings_v1;
CREATE TABLE findings (
    host TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    package TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    tier TEXT,
    due TEXT,
    first_seen TEXT NOT NULL,
    closed TEXT,
    detail_key TEXT,
    extra TEXT,
    PRIMARY KEY (host, finding_id, package));
CREATE TABLE finding_details (
    detail_key TEXT PRIMARY KEY,
    detail TEXT NOT NULL);
INSERT INTO finding_details (detail_key, detail)
    SELECT host || '|' || finding_id || '|' || package, detail FROM findings_v1;
INSERT INTO findings (host, finding_id, package, kind, status, tier, due, first_seen, closed, detail_key, extra)
    SELECT host, finding_id, package, kind, status, tier, due, first_seen, closed, host || '|' || finding_id || '|' || package, NULL
    FROM findings_v1;
DROP TABLE findings_v1;
CREATE INDEX findings_by_status ON findings (status, tier);
"""

# Schema 3: beside each record, the compact part the risk pass matches
# (risk_findings.match_view), so a pass need not parse whole records.  Hosts
# stored before have none until their record is stored again; the pass then
# reads the record itself.  The triggers drop a view whenever its record is
# rewritten or removed by anything (the store writes the new view after the
# record), so a view never outlives the record it was built from.
_SCHEMA_3 = """
CREATE TABLE match_views (
    host TEXT PRIMARY KEY,
    view TEXT NOT NULL);
CREATE TRIGGER match_view_dropped_on_update AFTER UPDATE OF record ON hosts
BEGIN
    DELETE FROM match_views WHERE host = OLD.name;
END;
CREATE TRIGGER match_view_dropped_on_delete AFTER DELETE ON hosts
BEGIN
    DELETE FROM match_views WHERE host = OLD.name;
END;
"""


# Schema 4: the database says what it is, so an advisory database given as the asset database (or the other
# way round) is refused instead of read, migrated or replaced (database_kind).
_SCHEMA_4 = """
INSERT OR REPLACE INTO meta (key, value) VALUES ('kind', 'asset');
"""


# Schema 5: what each host's last assessment was made from (a digest of its record, register entry, the
# policy, the advisory database and the planning moment's window), so a pass skips the hosts for which
# none of it changed.  Null for results stored before: those hosts are assessed again once.
# Each plan keeps its brief (what a host's summary shows of it), so a skipped host is reported without
# parsing its plan.
_SCHEMA_5 = """
ALTER TABLE risk_results ADD COLUMN inputs TEXT;
ALTER TABLE plans ADD COLUMN brief TEXT;
"""


# Schema 6: when discovery first saw each pending update (ecosystem, package, version) on any host, which the
# patch baseline's cooling-off period counts from (patch_baseline).
_SCHEMA_6 = """
CREATE TABLE update_sightings (
    ecosystem TEXT NOT NULL,
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (ecosystem, package, version));
"""


# Schema 7: frozen patch sets (patch_sets), immutable once written, and their promotions from stage to stage.
_SCHEMA_7 = """
CREATE TABLE patch_sets (
    id TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    created_at TEXT NOT NULL,
    run_id TEXT,
    policy_fingerprint TEXT,
    digest TEXT NOT NULL,
    content TEXT NOT NULL);
CREATE TABLE patch_set_promotions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    set_id TEXT NOT NULL,
    from_stage TEXT NOT NULL,
    to_stage TEXT NOT NULL,
    at TEXT NOT NULL,
    run_id TEXT,
    operator TEXT,
    change_ref TEXT,
    gates TEXT NOT NULL);
"""


# Schema 8: controller-side state that must outlive a job's container when the asset database is shared (AWX
# with PostgreSQL): named JSON documents, each changed in one transaction under a row lock (controller_state.py).
_SCHEMA_8 = """
CREATE TABLE controller_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL);
"""

# Schema 9: PostgreSQL compresses the large JSON columns with lz4 where the server has it (PostgreSQL 14 or later
# built with lz4, as Debian's is): its default, pglz, compressing each stored record took a third of storing it.
# Values written before keep their compression until rewritten.  Nothing changes on SQLite, which compresses nothing.
_SCHEMA_9 = ''

# Recount the finding counts from the findings themselves (schema 10; a fleet written straight into the tables).
RECOUNT_FINDINGS = """
DELETE FROM finding_counts;
DELETE FROM host_finding_counts;
INSERT INTO finding_counts (detail_key, tier, status, due, first_seen, closed, findings)
    SELECT coalesce(detail_key, ''), coalesce(tier, ''), status, coalesce(due, ''), first_seen, coalesce(closed, ''), count(*)
    FROM findings GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO host_finding_counts (host, status, due, closed, findings)
    SELECT host, status, coalesce(due, ''), coalesce(closed, ''), count(*) FROM findings GROUP BY 1, 2, 3, 4;
"""

# Schema 10: the risk pass keeps the findings counted as it writes them, by what the compliance report groups
# them by, so the report of a whole fleet reads a few hundred thousand counts instead of ten million finding rows:
# per shared detail (finding_counts) and per host (host_finding_counts).  A column the finding leaves empty
# (no detail key, tier, due date or closing time) is '' there: a key column is never NULL, so that the
# store's upsert finds the row it adds to.  The store changes a count in the transaction that changes the
# findings it counts (asset_store.store_risk_results); a count that drops to zero is deleted.
_SCHEMA_10 = """
CREATE TABLE finding_counts (
    detail_key TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    due TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    closed TEXT NOT NULL,
    findings INTEGER NOT NULL,
    PRIMARY KEY (detail_key, tier, status, due, first_seen, closed));
CREATE TABLE host_finding_counts (
    host TEXT NOT NULL,
    status TEXT NOT NULL,
    due TEXT NOT NULL,
    closed TEXT NOT NULL,
    findings INTEGER NOT NULL,
    PRIMARY KEY (host, status, due, closed));
""" + RECOUNT_FINDINGS

# Schema 11: beside each finding detail, the decision context it was decided under (risk.decision_context: the
# policy, its decision tables and the advisory database), so a pass under the same context writes only the details
# it has not written yet - rewriting every detail made a pass over a steady fleet whose hosts were assessed again
# (forced, or after a few records changed) write ~100,000 unchanged JSON texts.  Null for details stored before:
# each is written again the next time a pass decides it.
_SCHEMA_11 = """
ALTER TABLE finding_details ADD COLUMN decided_under TEXT;
CREATE INDEX finding_details_by_context ON finding_details (decided_under, detail_key);
"""

# Schema 12: beside each result's inputs, the same digest with what the host's record was matched as (its findings'
# raw parts, OS facts and what could not be matched) in place of the whole record: a record that changed in nothing
# its findings are made from (a package no advisory names, a service) keeps its result without being classified again.
# Null for results stored before: those hosts are classified again once their record changes.
_SCHEMA_12 = """
ALTER TABLE risk_results ADD COLUMN match_inputs TEXT;
"""

# Schema 13: the findings' status index holds only the findings that are not open (fixed, accepted): the few rows the
# readers look up by status.  Open findings are most rows (a thousand per host), read by scans or by host, never
# through this index; indexing them made each row the risk pass writes update a second b-tree (the 1.03 million open
# rows of a first pass over 1,000 hosts lagging updates, inserted a host at a time as the pass does: 4.8-4.9 s instead
# of 5.9-6.0 s, and 44 MB less).  A query for fixed or accepted findings names the index's condition (status <> 'open'), which
# SQLite needs to see to use a partial index; open findings are counted as all findings less the others
# (finding_counts.counts_agree).
_SCHEMA_13 = """
DROP INDEX findings_by_status;
CREATE INDEX findings_not_open ON findings (status, tier) WHERE status <> 'open';
"""

# Schema 14: a finding detail the risk engine decided is stored as the two shared parts it is made of
# (finding_details.py): its raw finding's advisory part and its decision part, each once, named by a digest of its
# text; ``detail`` keeps the whole text only of a detail no engine decided, or stored before.  Writing ~100,000
# details of ~1 kB each was 5.1 s of a 30 s first pass over 1,000 hosts (encoding 2.4 s, inserting 2.7 s).  SQLite
# cannot drop a NOT NULL constraint in place, so the table is made again (PostgreSQL alters it: below), without a rowid
# (its rows are found by their key alone) and without the index by decision context, which made each insert update
# two more b-trees of long keys: a pass reads the keys of its context once, in a scan of the small rows (99,337 rows
# inserted as a first pass does: 1.6 s instead of 3.2 s).
_SCHEMA_14 = """
CREATE TABLE finding_advisories (advisory_key TEXT PRIMARY KEY, part TEXT NOT NULL);
CREATE TABLE finding_decisions (decision_key TEXT PRIMARY KEY, part TEXT NOT NULL);
ALTER TABLE finding_details RENAME TO finding_details_v13;
CREATE TABLE finding_details (
    detail_key TEXT PRIMARY KEY,
    detail TEXT,
    decided_under TEXT,
    advisory_key TEXT,
    decision_key TEXT) WITHOUT ROWID;
INSERT INTO finding_details (detail_key, detail, decided_under) SELECT detail_key, detail, decided_under FROM finding_details_v13;
DROP TABLE finding_details_v13;
"""

MIGRATIONS = (_SCHEMA_1, _SCHEMA_2, _SCHEMA_3, _SCHEMA_4, _SCHEMA_5, _SCHEMA_6, _SCHEMA_7, _SCHEMA_8, _SCHEMA_9, _SCHEMA_10, _SCHEMA_11,
              _SCHEMA_12, _SCHEMA_13, _SCHEMA_14)
SCHEMA = len(MIGRATIONS)

# PostgreSQL runs the same migrations (asset_db_connection.translate turns SQLite's upserts, identity columns
# and parameters into its own) except where the dialects part: triggers call a function there.  Each entry
# replaces one migration's statements for PostgreSQL.
_POSTGRESQL_MIGRATIONS = {
    3: (
        'CREATE TABLE match_views (host TEXT PRIMARY KEY, view TEXT NOT NULL)',
        'CREATE OR REPLACE FUNCTION patchwise_drop_match_view() RETURNS trigger LANGUAGE plpgsql AS $body$ '
        'BEGIN DELETE FROM match_views WHERE host = OLD.name; RETURN NULL; END $body$',
        'CREATE TRIGGER match_view_dropped_on_update AFTER UPDATE OF record ON hosts FOR EACH ROW EXECUTE FUNCTION patchwise_drop_match_view()',
        'CREATE TRIGGER match_view_dropped_on_delete AFTER DELETE ON hosts FOR EACH ROW EXECUTE FUNCTION patchwise_drop_match_view()',
    ),
    9: (
        "DO $body$ BEGIN "
        "IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN "
        'ALTER TABLE hosts ALTER COLUMN record SET COMPRESSION lz4; '
        'ALTER TABLE match_views ALTER COLUMN view SET COMPRESSION lz4; '
        'ALTER TABLE risk_results ALTER COLUMN result SET COMPRESSION lz4; '
        'ALTER TABLE plans ALTER COLUMN plan SET COMPRESSION lz4; '
        'ALTER TABLE history ALTER COLUMN detail SET COMPRESSION lz4; '
        'ALTER TABLE patch_outcomes ALTER COLUMN detail SET COMPRESSION lz4; '
        'END IF; END $body$',
    ),
    14: (
        'CREATE TABLE finding_advisories (advisory_key TEXT PRIMARY KEY, part TEXT NOT NULL)',
        'CREATE TABLE finding_decisions (decision_key TEXT PRIMARY KEY, part TEXT NOT NULL)',
        'ALTER TABLE finding_details ALTER COLUMN detail DROP NOT NULL',
        'ALTER TABLE finding_details ADD COLUMN advisory_key TEXT',
        'ALTER TABLE finding_details ADD COLUMN decision_key TEXT',
        'DROP INDEX finding_details_by_context',
    ),
}


def migration_statements(number, dialect='sqlite'):
    """The statements of migration ``number`` (1-based) for ``dialect`` (sqlite or postgresql)."""
    if dialect == 'postgresql' and number in _POSTGRESQL_MIGRATIONS:
        return list(_POSTGRESQL_MIGRATIONS[number])
    found = list(statements(MIGRATIONS[number - 1]))
    if dialect == 'postgresql':
        # SQLite's REAL is a double; PostgreSQL's is a single-precision float.
        found = [re.sub(r'\bREAL\b', 'DOUBLE PRECISION', statement) for statement in found]
    return found


def statements(script):
    """The SQL statements of a migration script (a trigger body's semicolons do not end its statement)."""
    pending = ''
    for piece in script.split(';'):
        pending += piece + ';'
        if sqlite3.complete_statement(pending):
            if pending.strip(' \n;'):
                yield pending.strip()
            pending = ''
    if pending.strip(' \n;'):
        raise ValueError('incomplete SQL statement in a migration: %s' % pending.strip())

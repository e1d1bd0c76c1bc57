"""finding_counts: the counts the risk pass keeps always equal the findings counted afresh, pass after pass."""

from __future__ import annotations

import random
import sqlite3

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import migration_statements
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_counts import FindingCounts, counts_agree
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.random_findings import TIMES, random_pass


def recounted(store):
    """The counts as the findings give them now."""
    db = store._db
    by_detail = db.execute("SELECT coalesce(detail_key, ''), coalesce(tier, ''), status, coalesce(due, ''), first_seen, coalesce(closed, ''), "
                           'count(*) FROM findings GROUP BY 1, 2, 3, 4, 5, 6').fetchall()
    by_host = db.execute("SELECT host, status, coalesce(due, ''), coalesce(closed, ''), count(*) FROM findings GROUP BY 1, 2, 3, 4").fetchall()
    return sorted(map(tuple, by_detail)), sorted(map(tuple, by_host))


def stored(store):
    db = store._db
    return (sorted(map(tuple, db.execute('SELECT detail_key, tier, status, due, first_seen, closed, findings FROM finding_counts'))),
            sorted(map(tuple, db.execute('SELECT host, status, due, closed, findings FROM host_finding_counts'))))


@pytest.mark.parametrize('seed', range(6))
def test_counts_follow_every_pass(tmp_path, seed):
    """Findings opened, re-decided (tier, due date, status, detail), fixed and reopened over many passes: after each,
    the counts are those of the findings; a pass in check mode changes neither."""
    rng = random.Random(seed)
    hosts = ['host%d' % number for number in range(5)]
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        for now in TIMES[:12]:
            store.store_risk_results(random_pass(rng, hosts), run_id=now, now=now)
            assert stored(store) == recounted(store), now
            assert counts_agree(store._db)
        before = stored(store)
        store.store_risk_results(random_pass(rng, hosts), now=TIMES[12], check_mode=True)
        assert stored(store) == before == recounted(store)
        assert all(count > 0 for *_key, count in before[0] + before[1]), 'a count brought to zero is deleted'


def test_counts_on_postgresql(asset_db):
    """The same upserts and deletions on both databases (run on SQLite too, as the fixture's first database)."""
    rng = random.Random(7)
    hosts = ['host%d' % number for number in range(4)]
    with AssetStore(asset_db) as store:
        for now in TIMES[:6]:
            store.store_risk_results(random_pass(rng, hosts), run_id=now, now=now)
            assert stored(store) == recounted(store), now
        assert counts_agree(store._db)


def test_a_database_of_the_previous_schema_gets_its_counts(tmp_path):
    """Migrating a schema 9 database counts the findings it already holds."""
    path = str(tmp_path / 'old.db')
    with sqlite3.connect(path) as db:
        for number in range(1, 10):
            for statement in migration_statements(number):
                db.execute(statement)
        db.execute("INSERT INTO meta (key, value) VALUES ('schema', '9')")
        db.executemany('INSERT INTO findings (host, finding_id, package, kind, status, tier, due, first_seen, closed, detail_key, extra) '
                       'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)',
                       [('web01', 'CVE-1', 'a', 'os', 'open', 'high', '2026-11-01', TIMES[0], None, 'd1'),
                        ('web01', 'CVE-2', 'a', 'os', 'fixed', None, None, TIMES[0], TIMES[1], None),
                        ('db01', 'CVE-1', 'a', 'os', 'open', 'high', '2026-11-01', TIMES[0], None, 'd1')])
    with AssetStore(path) as store:
        assert stored(store) == recounted(store)
        assert stored(store)[0] == [('', '', 'fixed', '', TIMES[0], TIMES[1], 1), ('d1', 'high', 'open', '2026-11-01', TIMES[0], '', 2)]
        assert counts_agree(store._db)


def test_counts_that_no_longer_add_up_are_told(tmp_path):
    """Findings written by something else than the store, or a count changed by hand: the counts do not agree."""
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.store_risk_results(random_pass(random.Random(3), ['a', 'b']), now=TIMES[0])
        assert counts_agree(store._db)
        store._db.execute("INSERT INTO findings (host, finding_id, package, kind, status, first_seen) VALUES ('c', 'X', 'p', 'os', 'open', 'now')")
        assert not counts_agree(store._db)
        store._db.execute("DELETE FROM findings WHERE host = 'c'")
        assert counts_agree(store._db)
        store._db.execute('UPDATE finding_counts SET findings = findings + 1 WHERE rowid = (SELECT min(rowid) FROM finding_counts)')
        assert not counts_agree(store._db)


@pytest.mark.parametrize('status', ['accepted', 'fixed', 'withdrawn'])
def test_a_status_changed_by_hand_is_told(tmp_path, status):
    """Open findings are counted as all findings less those not open: one open finding given another status by hand,
    known or not, makes the counts disagree all the same."""
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.store_risk_results(random_pass(random.Random(5), ['a', 'b', 'c']), now=TIMES[0])
        assert counts_agree(store._db)
        store._db.execute("UPDATE findings SET status = ? WHERE rowid = (SELECT min(rowid) FROM findings WHERE status = 'open')", (status,))
        assert not counts_agree(store._db)


def test_the_status_index_holds_the_findings_not_open(tmp_path):
    """Asset schema 13: the status index has an entry per finding not open and none for the open ones (most rows), and a
    query for the fixed findings that names its condition, as the report's do, is answered from it."""
    rng = random.Random(11)
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        for now in TIMES[:4]:
            store.store_risk_results(random_pass(rng, ['a', 'b', 'c']), run_id=now, now=now)
        db = store._db
        statuses = dict(db.execute('SELECT status, count(*) FROM findings GROUP BY status').fetchall())
        assert statuses.get('open') and statuses.get('fixed'), statuses
        indexed = db.execute("SELECT count(*) FROM findings INDEXED BY findings_not_open WHERE status <> 'open'").fetchone()[0]
        assert indexed == sum(count for name, count in statuses.items() if name != 'open')
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'findings_by_status'").fetchone()[0] == 0
        plan = ' '.join(row[-1] for row in db.execute(
            "EXPLAIN QUERY PLAN SELECT tier, first_seen, closed, count(*) FROM findings WHERE status <> 'open' AND status = 'fixed' "
            'GROUP BY tier, first_seen, closed'))
        assert 'USING INDEX findings_not_open' in plan, plan
        assert counts_agree(db)


def test_changes_add_up_before_they_are_written():
    counts = FindingCounts()
    old = ('open', TIMES[0], 'os', 'high', '2026-11-10', 'd1', None, None)
    counts.count('web01', [old], [('fixed', *old[1:7], TIMES[1])])
    counts.count('db01', [], [old])
    counts.count('db02', [old], [old])
    by_detail, by_host = counts.changes()
    assert by_detail == {('d1', 'high', 'fixed', '2026-11-10', TIMES[0], TIMES[1]): 1}, 'opened on db01, fixed on web01: as many open'
    assert by_host == {('web01', 'open', '2026-11-10', ''): -1, ('web01', 'fixed', '2026-11-10', TIMES[1]): 1,
                       ('db01', 'open', '2026-11-10', ''): 1}
    no_tier = ('accepted', TIMES[0], 'app', None, None, None, '{}', None)
    counts.count('db03', [], [no_tier])
    assert counts.changes()[0][('', '', 'accepted', '', TIMES[0], '')] == 1, 'an empty column counts as the empty text'


@pytest.mark.parametrize('seed', range(3))
def test_hosts_counted_with_one_tally_count_as_counted_one_by_one(seed):
    """Hosts alike rewrite the same rows: counted once (``tally``) and added per host (``count_tally``), mixed with hosts
    counted on their own, the changes are those of counting every host's rows."""
    rng = random.Random(seed)

    def rows(number):
        return [(rng.choice(('open', 'accepted', 'fixed')), rng.choice(TIMES[:3]), 'os', rng.choice(('high', None)),
                 rng.choice(('2026-11-10', None)), 'd%d' % rng.randrange(5), None, rng.choice((None, TIMES[3]))) for _row in range(number)]

    one_by_one, tallied = FindingCounts(), FindingCounts()
    for group in range(3):
        before, after = rows(rng.randrange(6)), rows(rng.randrange(8))
        tally = FindingCounts.tally(before, after)
        for host in ['alike%d-%d' % (group, number) for number in range(rng.randint(1, 4))]:
            one_by_one.count(host, before, after)
            tallied.count_tally(host, tally)
        apart_before, apart_after = rows(3), rows(4)
        one_by_one.count('apart%d' % group, apart_before, apart_after)
        tallied.count('apart%d' % group, apart_before, apart_after)
    assert tallied.changes() == one_by_one.changes()
    assert tallied.changes() == one_by_one.changes(), 'asked again, the same changes'

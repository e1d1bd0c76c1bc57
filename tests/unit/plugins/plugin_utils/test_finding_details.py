"""finding_details: a finding's shared detail stored as its advisory part and decision part (asset schema 14)."""

from __future__ import annotations

import datetime
import json
import os
import sqlite3

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import report_db
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import SCHEMA
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_details import DetailRows, merged_detail, part_key
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_findings import Details
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskEngine
from ansible_collections.patchwise.patching.plugins.plugin_utils.stored_json import dumps
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.old_schema import create_at_schema

FEEDS = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
PACKAGES = [{'name': 'pw-demo-security', 'version': '1.0-1', 'arch': 'all', 'source_name': 'pw-demo-security', 'source_version': '1.0-1'},
            {'name': 'pw-libdemo', 'version': '1.0-2', 'arch': 'all', 'source_name': 'pw-libdemo', 'source_version': '1.0-2'}]
UPDATES = [{'name': 'pw-demo-security', 'current': '1.0-1', 'available': '1.0-2', 'security': True, 'origin': 'Debian-Security:bookworm-security'}]
CLASSES = ({'exposure': 'internet', 'criticality': 'high'}, {'exposure': 'isolated', 'criticality': 'low'}, {})
ADVISORY = {'id': 'CVE-2026-1', 'package': 'openssl', 'score': 7.5, 'reasons': ['CVSS 7.5'], 'tier': 'from the feed'}
DECISION = {'decision': 'act', 'tier': 'high', 'days': 7, 'reasons': ['exposure=open', 'due 7 days']}


@pytest.fixture(scope='module')
def advisory_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('advisories') / 'adv.db')
    build(path, [{'type': 'debian', 'src': os.path.join(FEEDS, 'debian-tracker.json')}, {'type': 'epss', 'src': os.path.join(FEEDS, 'epss.csv')}])
    return path


def _engine(advisory_path, policy=None):
    advisories = AdvisoryDB(advisory_path)
    engine = RiskEngine(policy or load_policy(), advisories, today=datetime.date(2099, 3, 1))
    return engine, advisories


def test_a_detail_is_its_advisory_part_then_its_decision_part():
    detail = merged_detail('openssl|high', ADVISORY, DECISION)
    # The decision's fields win, as the engine's outcome wins over a feed's field of the same name; reasons add up in order.
    assert detail == {'id': 'CVE-2026-1', 'package': 'openssl', 'score': 7.5, 'decision': 'act', 'tier': 'high', 'days': 7,
                      'reasons': ['CVSS 7.5', 'exposure=open', 'due 7 days'], 'detail_key': 'openssl|high'}
    assert ADVISORY['reasons'] == ['CVSS 7.5'] and DECISION['reasons'] == ['exposure=open', 'due 7 days'], 'the parts are not changed'


def test_every_detail_the_engine_decides_is_its_parts_and_parts_are_shared(advisory_path):
    """Each detail equals its two parts merged, also once they went through their stored JSON; details of one raw
    finding in several register classes share its advisory part, and details decided alike share one decision part."""
    engine, advisories = _engine(advisory_path)
    try:
        for number, register_entry in enumerate(CLASSES):
            engine.classify('web%02d' % number, record(packages=PACKAGES, updates=UPDATES), register_entry)
    finally:
        advisories.close()
    assert len(engine.details) >= 2 * len(CLASSES)
    assert set(engine.detail_parts) == set(engine.details)
    for key, detail in engine.details.items():
        advisory, decision = engine.detail_parts[key]
        assert detail == merged_detail(key, advisory, decision) == merged_detail(key, json.loads(dumps(advisory)), json.loads(dumps(decision)))
        assert 'detail_key' not in advisory and not set(decision) & {'id', 'package', 'installed', 'fixed'}
    advisories_parts = {id(parts[0]) for parts in engine.detail_parts.values()}
    assert len(advisories_parts) * len(CLASSES) == len(engine.details), 'one advisory part per raw finding, whatever the class'
    decisions = {}
    for _advisory, decision in engine.detail_parts.values():
        decisions.setdefault(dumps(decision), set()).add(id(decision))
    assert all(len(objects) == 1 for objects in decisions.values()), 'details decided alike share one decision part'


def test_detail_rows_encode_each_part_once_and_hand_it_over_once():
    written = set()
    shared_advisory, other_decision = dict(ADVISORY), dict(DECISION, tier='low')
    details = DetailRows({}, {'a|high': (shared_advisory, DECISION), 'a|low': (shared_advisory, other_decision),
                              # An equal part of another object: the same text, the same key, handed over once.
                              'b|high': (dict(ADVISORY), dict(DECISION))}, 'context', written)
    rows = [details.decided(key, {}, None) for key in ('a|high', 'a|low', 'b|high')]
    assert [row[:3] for row in rows] == [('a|high', None, 'context'), ('a|low', None, 'context'), ('b|high', None, 'context')]
    advisory_key, decision_key, low_key = part_key(dumps(ADVISORY)), part_key(dumps(DECISION)), part_key(dumps(other_decision))
    assert [row[3:] for row in rows] == [(advisory_key, decision_key), (advisory_key, low_key), (advisory_key, decision_key)]
    assert details.take_parts() == ([(advisory_key, dumps(ADVISORY))], [(decision_key, dumps(DECISION)), (low_key, dumps(other_decision))])
    assert details.take_parts() == ([], [])
    assert written == {'a|high', 'a|low', 'b|high'} and not details.replaced
    # Writing a detail stored as parts under another context replaces it: its old parts may be named by nothing now.
    again = DetailRows({}, {'a|high': (shared_advisory, DECISION)}, 'new context', set(), parted={'a|high', 'b|high'})
    again.decided('a|high', {}, None)
    assert again.replaced
    # A detail the engine kept no parts of is stored whole, and so is one no engine decided.
    whole = DetailRows({'c|high': {'id': 'CVE-2026-2'}}, {}, 'context', set())
    assert whole.decided('c|high', {}, None) == ('c|high', dumps({'id': 'CVE-2026-2'}), 'context', None, None)
    assert whole.undecided('web01|CVE-2026-3|zlib', {'id': 'CVE-2026-3'}) == ('web01|CVE-2026-3|zlib', dumps({'id': 'CVE-2026-3'}), None, None, None)


def _parts(store):
    db = store._db
    return ({key for (key,) in db.execute('SELECT advisory_key FROM finding_advisories')},
            {key for (key,) in db.execute('SELECT decision_key FROM finding_decisions')})


def _stored_pass(path, advisory_path, policy, hosts, now, *, classes=CLASSES):
    engine, advisories = _engine(advisory_path, policy)
    try:
        with AssetStore(path) as store:
            results = {host: engine.classify(host, record(host, packages=PACKAGES, updates=UPDATES), classes[number % len(classes)])
                       for number, host in enumerate(hosts)}
            store.store_risk_results(results, now=now, details=engine.details, detail_parts=engine.detail_parts,
                                     decided_under=engine.decision_context)
    finally:
        advisories.close()
    return engine, results


@pytest.mark.parametrize('asset_db', ['sqlite', 'postgresql'], indirect=True)
def test_stored_parts_read_back_as_the_details_and_unnamed_parts_go(asset_db, advisory_path):
    """The store writes each part once, reads every finding back with its whole detail, and deletes the parts that no
    detail names once the details were decided otherwise (another policy) or their findings fixed."""
    hosts = ['web01', 'web02', 'web03', 'web04']
    engine, results = _stored_pass(asset_db, advisory_path, load_policy(), hosts, '2099-03-01T00:00:00Z')
    with AssetStore(asset_db) as store:
        stored = store.finding_details()
        assert {key: detail for key, (detail, _context) in stored.items()} == engine.details
        assert {context for _detail, context in stored.values()} == {engine.decision_context}
        # No detail is stored whole: each is its parts.
        assert store._db.execute('SELECT count(*) FROM finding_details WHERE detail IS NOT NULL').fetchone()[0] == 0
        advisory_keys, decision_keys = _parts(store)
        assert len(advisory_keys) == len({id(parts[0]) for parts in engine.detail_parts.values()})
        assert len(decision_keys) == len({id(parts[1]) for parts in engine.detail_parts.values()})
        for finding in store.findings(host='web01'):
            expected = next(f for f in results['web01']['findings'] if (f['id'], f['package']) == (finding['id'], finding['package']))
            assert finding['reasons'] == [*engine.details[expected['detail_key']]['reasons']]
            assert finding['detail_key'] == expected['detail_key'] and finding['ssvc'] == expected['ssvc']
    # Other due days: other decision parts; the advisory parts stay.
    stricter = load_policy({'due_days': {'3DF': 1, '3D': 1, '14D': 7, '60D': 30}})
    _stored_pass(asset_db, advisory_path, stricter, hosts, '2099-03-02T00:00:00Z')
    with AssetStore(asset_db) as store:
        again_advisories, again_decisions = _parts(store)
        assert again_advisories == advisory_keys and again_decisions != decision_keys
        named = {key for (key,) in store._db.execute('SELECT decision_key FROM finding_details')}
        assert again_decisions == named, 'a decision part no detail names is deleted'
    # Every host in one register class: the details of the others are named by no row (a fixed finding's row keeps
    # naming its detail) and go, and so do the decision parts only they named.
    engine, _results = _stored_pass(asset_db, advisory_path, stricter, hosts, '2099-03-03T00:00:00Z', classes=({},))
    with AssetStore(asset_db) as store:
        assert set(store.finding_details()) == set(engine.details)
        left_advisories, left_decisions = _parts(store)
        assert left_advisories == advisory_keys
        assert left_decisions < again_decisions and left_decisions == {key for (key,) in store._db.execute('SELECT decision_key FROM finding_details')}


def test_a_schema_13_database_keeps_its_whole_details_readable(tmp_path, advisory_path):
    """Details stored before schema 14 keep their whole text, read as before, until a pass decides them again as parts."""
    path = str(tmp_path / 'old.db')
    with sqlite3.connect(path) as connection:
        create_at_schema(connection, 13)
        connection.execute("INSERT INTO finding_details (detail_key, detail, decided_under) VALUES ('old|key', ?, 'old context')",
                           (json.dumps({'id': 'CVE-2099-0001', 'fixed': '3.0.15-1', 'reasons': ['decided before']}),))
        connection.execute("INSERT INTO findings (host, finding_id, package, kind, status, tier, due, first_seen, closed, detail_key, extra) "
                           "VALUES ('web01', 'CVE-2099-0001', 'openssl', 'os', 'open', 'high', '2099-01-10', '2099-01-01T00:00:00Z', NULL, "
                           "'old|key', NULL)")
    with AssetStore(path) as store:
        finding, = store.findings(host='web01')
        assert (finding['fixed'], finding['reasons'], finding['first_seen']) == ('3.0.15-1', ['decided before'], '2099-01-01T00:00:00Z')
        assert store.finding_details() == {'old|key': ({'id': 'CVE-2099-0001', 'fixed': '3.0.15-1', 'reasons': ['decided before']},
                                                       'old context')}
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA),)
    engine, _results = _stored_pass(path, advisory_path, load_policy(), ['web01'], '2099-03-01T00:00:00Z')
    with AssetStore(path) as store:
        assert {key for key, (_detail, context) in store.finding_details().items() if context == engine.decision_context} == set(engine.details)
        # The old finding is fixed now (the record has no openssl): its row keeps naming the whole detail.
        fixed, = store.findings(host='web01', status='fixed')
        assert (fixed['id'], fixed['reasons']) == ('CVE-2099-0001', ['decided before'])


@pytest.mark.parametrize('asset_db', ['sqlite', 'postgresql'], indirect=True)
def test_the_report_reads_each_detail_from_its_parts(asset_db, advisory_path):
    """The compliance report's details (what its tables show of each) are those of the engine's details."""
    engine, _results = _stored_pass(asset_db, advisory_path, load_policy(), ['web01', 'web02', 'web03'], '2099-03-01T00:00:00Z')
    db = report_db.connect(asset_db)
    try:
        details = Details(db)
    finally:
        db.close()
    assert set(details.by_key) == set(engine.details)
    for key, detail in engine.details.items():
        shown = details.get(key)
        assert (shown['id'], shown['package'], shown['installed'], shown['fixed'], shown['due_class']) == (
            detail['id'], detail['package'], detail['installed'], detail['fixed'], detail['due_class'])
        assert shown['kev'] == bool(detail.get('kev')) and shown['epss'] == (detail.get('epss') or {}).get('score')

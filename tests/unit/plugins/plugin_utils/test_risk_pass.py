# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet pass: incremental passes skip exactly the hosts whose inputs did not change, and the
engine that shares its per-finding work decides as the engine that built every finding apart did.

The property test runs three passes over randomised fleets, with hosts alike among them, through a
series of changes (packages upgraded, packages no advisory names installed or upgraded, register
entries edited, advisories added and fixed, acceptances expiring, windows opening): the incremental
pass, the same pass with ``force`` (every host classified again), and forced passes with the
reference engine (``reference_risk_engine``, the engine as it was before issue 19, every host
matched and classified on its own).  It compares what each stored: risk results, findings with
their lifecycle dates, and plans.
"""

from __future__ import annotations

import datetime
import gc
import json
import os
import random
import zipfile

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import asset_store, risk, risk_pass, ssvc
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_pass import assess_fleet
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.reference_risk_engine import ReferenceRiskEngine

PACKAGES = ['pkg%02d' % index for index in range(10)]
NOW = datetime.datetime(2099, 3, 2, 12, 0, tzinfo=datetime.timezone.utc)     # a Monday, outside the night window
WINDOWS = {'nights': {'days': ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], 'time': '22:00-04:00', 'timezone': 'UTC'}}


def _version(rng):
    return '1.0-%d' % rng.randint(1, 6)


def _advisories(rng, count):
    advisories = []
    for index in range(count):
        affected = []
        for package in rng.sample(PACKAGES, rng.randint(1, 3)):
            events = [{'introduced': '0'}]
            if rng.random() < 0.8:
                events.append({'fixed': '1.0-%d' % rng.randint(2, 7)})
            affected.append({'package': {'ecosystem': 'Debian:12', 'name': package}, 'ranges': [{'type': 'ECOSYSTEM', 'events': events}]})
            if rng.random() < 0.2:
                # The package listed twice in one advisory (OSV records do this): still one finding per host.
                affected.append({'package': {'ecosystem': 'Debian:12', 'name': package}, 'ranges': [{'type': 'ECOSYSTEM', 'events': [
                    {'introduced': '0'}, *([{'fixed': '1.0-%d' % rng.randint(2, 7)}] if rng.random() < 0.5 else [])]}]})
        advisories.append({'id': 'DSA-9%03d-1' % index, 'modified': '2099-01-01T00:00:00Z', 'aliases': ['CVE-2099-%04d' % index],
                           'summary': 'generated for the pass equivalence test', 'affected': affected})
    return advisories


def _build(path, feed_dir, advisories, kev):
    feed = feed_dir / 'osv.zip'
    with zipfile.ZipFile(feed, 'w') as archive:
        for advisory in advisories:
            archive.writestr(advisory['id'] + '.json', json.dumps(advisory))
    kev_path = feed_dir / 'kev.json'
    kev_path.write_text(json.dumps({'title': 'CISA Catalog of Known Exploited Vulnerabilities', 'catalogVersion': '2099.01.01',
                                    'dateReleased': '2099-01-01T00:00:00.000Z', 'count': len(kev), 'vulnerabilities': [
                                        {'cveID': cve, 'vendorProject': 'x', 'product': 'x', 'vulnerabilityName': 'x', 'dateAdded': '2099-02-01',
                                         'shortDescription': 'x', 'requiredAction': 'x', 'dueDate': '2099-02-15',
                                         'knownRansomwareCampaignUse': 'Unknown', 'notes': '', 'cwes': []} for cve in kev]}))
    build(path, [{'type': 'osv', 'src': str(feed)}, {'type': 'kev', 'src': str(kev_path)}])


def _host_record(name, versions, rng, tools=None):
    """A record with ``versions`` of PACKAGES and ``tools`` ({name: version}), packages no advisory names (drawing nothing from ``rng``)."""
    packages = [{'name': package, 'version': version, 'arch': 'amd64', 'source_name': package, 'source_version': version}
                for package, version in sorted(versions.items())]
    for package in packages:
        # Some packages held (apt-mark hold) or not fully installed: findings with parts of their host in them.
        if rng.random() < 0.1:
            package['held'] = True
        if rng.random() < 0.05:
            package['state'] = 'half-configured'
    updates = [{'name': package, 'current': version, 'available': '1.0-7', 'security': True, 'origin': 'Debian-Security:bookworm-security'}
               for package, version in sorted(versions.items()) if rng.random() < 0.3]
    packages.extend({'name': tool, 'version': version, 'arch': 'amd64', 'source_name': tool, 'source_version': version}
                    for tool, version in sorted((tools or {}).items()))
    return record(name, packages=packages, updates=updates)


def _register_entry(rng):
    if rng.random() < 0.7:
        # Most hosts in a few classes, as in a real fleet: their findings share one detail.
        exposure, criticality = rng.choice([('internal', 'high'), ('internet', 'medium')])
    else:
        exposure, criticality = rng.choice(['internet', 'internal', 'isolated']), rng.choice(['low', 'medium', 'high', 'very_high'])
    entry = {'exposure': exposure, 'criticality': criticality, 'environment': rng.choice(['production', 'staging'])}
    if rng.random() < 0.5:
        entry['window'] = 'nights'
    return entry


def _policy(acceptances, rules=()):
    return load_policy({'windows': WINDOWS, 'acceptances': acceptances, 'rules': list(rules),
                        'holds': [{'package': 'pkg0[12]', 'until': datetime.date(2099, 3, 4), 'reason': 'freeze'}]})


# Custom rules, one per seed that has any: a tier raised by host, a status set by finding.
RULES = [
    [{'name': 'production is high', 'when': "host.register.environment == 'production' && finding.tier == 'medium'", 'tier': 'high'}],
    [{'name': 'pkg05 tolerated', 'when': "contains(['host01', 'host04', 'host07'], host.name) && finding.package == 'pkg05'",
      'status': 'accepted', 'reason': 'compensating control'}],
]


def _stored(path, hosts):
    """Everything a pass stores, with the store's own clock cut to the day so two stores compare."""
    def day(findings):
        return [dict(f, first_seen=f['first_seen'][:10], closed=(f['closed'] or '')[:10]) for f in findings]

    with AssetStore(path) as store:
        results = {}
        for host in hosts:
            result = store.risk_result(host)
            if result is not None:
                result['findings'] = day(result['findings'])
            results[host] = result
        return results, day(store.findings()), {host: store.plan(host) for host in hosts}


class _ReferencePassEngine(ReferenceRiskEngine):
    """The reference engine with what the pass asks of an engine (``classify_listing`` among it); it matches in ``classify``.

    It makes no detail of parts: the store writes its details whole, as before schema 14, and the property test
    compares what the passes' findings read back as.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.detail_parts = {}

    def forget_if_full(self):
        """Nothing to forget: the reference engine's memos grow with the pass."""
        return False

    def match(self, record):
        return record

    def match_digest(self, record, matched):
        # The reference passes are forced: no host is kept on its match digest.
        return None

    def result_is_own(self, host):
        # Every host classified on its own, as the engine did before hosts alike shared one assessment.
        return True

    def classify_listing(self, host, record, register_entry=None, lifecycle=None, run_id=None, *, matched=None):
        result = super().classify(host, record, register_entry, lifecycle, run_id=run_id)
        return result, [finding for finding in result['findings'] if finding['status'] == 'open']


def _pass(path, advisory_path, policy, hosts, *, moment, run_id, force=False, engine=None):
    advisories = AdvisoryDB(advisory_path)
    try:
        with AssetStore(path) as store:
            if engine is None:
                return assess_fleet(store, advisories, policy, store.register(), hosts, run_id=run_id, now=moment, force=force)
            current, risk_pass.RiskEngine = risk_pass.RiskEngine, engine
            try:
                return assess_fleet(store, advisories, policy, store.register(), hosts, run_id=run_id, now=moment, force=force)
            finally:
                risk_pass.RiskEngine = current
    finally:
        advisories.close()


@pytest.mark.parametrize('seed', range(8))
def test_incremental_passes_store_what_full_passes_store(tmp_path, seed, asset_db, monkeypatch):
    if seed % 4 == 3:
        # A fleet too varied for the engine's memos: they start again between hosts (risk._MEMO_LIMIT).
        monkeypatch.setattr(risk, '_MEMO_LIMIT', 5)
    rng = random.Random(seed)
    hosts = ['host%02d' % index for index in range(12)]
    # Half the hosts alike (the same packages at the same versions), as a fleet built from one image.
    image = {package: _version(rng) for package in rng.sample(PACKAGES, 7)}
    fleet = {host: dict(image) if rng.random() < 0.5 else {package: _version(rng) for package in rng.sample(PACKAGES, rng.randint(3, 8))}
             for host in hosts}
    register = {host: _register_entry(rng) for host in hosts}
    # Two more hosts, twins of host00 (the same record but for the name, the same register entry), as hosts cloned from
    # one image and patched alike: matched, classified and planned once for the three while they stay alike.
    twins = {'host12': 'host00', 'host13': 'host00'}
    for twin, original in twins.items():
        fleet[twin], register[twin] = dict(fleet[original]), dict(register[original])
    hosts.extend(twins)
    advisories = _advisories(rng, 12)
    kev = {'CVE-2099-0001'}
    acceptances = [{'finding': 'CVE-2099-{:04d}'.format(index), 'owner': 'secops', 'reason': 'mitigated',
                    'expires': datetime.date(2099, 3, 2 + rng.randint(0, 3))} for index in rng.sample(range(12), 3)]
    # One acceptance for one host only, before the fleet-wide ones: the same finding decided apart on that host.
    alike = [host for host in hosts if fleet[host] == image] or hosts
    acceptances.insert(0, {'package': rng.choice(sorted(image)), 'host': rng.choice(alike), 'owner': 'ops',
                           'reason': 'isolated lab host', 'expires': datetime.date(2099, 3, 3)})
    rules = RULES[seed % 3] if seed % 3 < len(RULES) else []
    # Per host, the seed of its stored record (what is held, half-installed, pending) and its packages no advisory names.
    seeds, tools = {host: twins.get(host, host) for host in hosts}, {host: {} for host in hosts}
    # The incremental passes on each backend; full passes with this engine and with the reference engine on SQLite.
    paths = {'incremental': asset_db, 'full': str(tmp_path / 'full.db'), 'reference': str(tmp_path / 'reference.db')}
    advisory_path = str(tmp_path / 'advisories.db')
    _build(advisory_path, tmp_path, advisories, kev)
    for path in paths.values():
        with AssetStore(path) as store:
            store.store_records({host: _host_record(host, fleet[host], random.Random(seeds[host])) for host in hosts})
            store.replace_register(register, 'test')

    moment, skipped_total = NOW, 0
    # Every kind of change once per fleet, in a random order, and passes where nothing changed.
    changes = ['upgrade', 'register', 'advisory', 'days', 'window', 'nothing', 'nothing', 'unrelated', rng.choice(['upgrade', 'register', 'days']),
               rng.choice(['upgrade', 'advisory', 'unrelated'])]
    rng.shuffle(changes)
    changes.extend(['days', 'upgrade', 'unrelated', 'upgrade'])
    for step, change in enumerate(changes):
        if change == 'unrelated':
            # A package no advisory names installed or upgraded, the rest of the record as it was: the record changed,
            # its findings did not.
            for host in rng.sample(hosts, 2):
                tools[host]['tool%d' % rng.randint(1, 2)] = '2.%d-1' % step     # a version this host never had
                for path in paths.values():
                    with AssetStore(path) as store:
                        store.store_records({host: _host_record(host, fleet[host], random.Random(seeds[host]), tools[host])})
        if change == 'upgrade':
            for host in rng.sample(hosts, 2):
                package = rng.choice(sorted(fleet[host]))
                # Fixed, or moved to the version another host has had since an earlier day: a finding first seen
                # on this pass's day with the same detail as one first seen before.
                others = sorted({fleet[other][package] for other in hosts if package in fleet[other]} - {fleet[host][package]})
                fleet[host][package] = rng.choice(['1.0-7', *others])
                seeds[host] = host + str(step)
                for path in paths.values():
                    with AssetStore(path) as store:
                        store.store_records({host: _host_record(host, fleet[host], random.Random(seeds[host]), tools[host])})
        elif change == 'register':
            register[rng.choice(hosts)] = _register_entry(rng)
            for path in paths.values():
                with AssetStore(path) as store:
                    store.replace_register(register, 'test')
        elif change == 'advisory':
            advisories.extend(_advisories(random.Random(seed * 100 + step), 1))
            advisories[-1]['id'] = 'DSA-8%03d-1' % step
            kev.add(rng.choice(advisories)['aliases'][0])
            _build(advisory_path, tmp_path, advisories, kev)
        elif change == 'days':
            moment += datetime.timedelta(days=1)     # acceptances and holds expire as the days pass
        elif change == 'window':
            moment += datetime.timedelta(hours=11)   # into (or out of) the night window
        summaries = {}
        for label, path in paths.items():
            summaries[label] = _pass(path, advisory_path, _policy(acceptances, rules), hosts, moment=moment, run_id='run%d' % step,
                                     force=label != 'incremental', engine=_ReferencePassEngine if label == 'reference' else None)
        assert summaries['full']['unchanged'] == summaries['reference']['unchanged'] == 0
        skipped_total += summaries['incremental']['unchanged']
        if change == 'nothing' and step:
            assert summaries['incremental']['unchanged'] == len(hosts), 'nothing changed, yet hosts were assessed again'
        if change == 'unrelated' and step:
            # The changed records were matched again and kept: the property below says their results are still right.
            assert summaries['incremental']['unchanged'] == len(hosts), 'only packages no advisory names changed, yet hosts were classified again'
            assert summaries['incremental']['unaffected'] == 2
        elif change != 'upgrade':
            # Only a host whose record changed can be kept on what its findings are made from.
            assert summaries['incremental']['unaffected'] == 0
        stored = {label: _stored(path, hosts) for label, path in paths.items()}
        for label in ('incremental', 'full'):
            for key in ('hosts', 'tiers', 'missing', 'skipped', 'ranked', 'open_findings', 'lifecycle', 'changed'):
                assert summaries[label][key] == summaries['reference'][key], 'step %d (%s): %s of the %s pass differs' % (step, change, key, label)
            assert stored[label] == stored['reference'], 'step %d (%s): the %s pass stored another state' % (step, change, label)
    assert skipped_total > 0


@pytest.fixture
def fleet(tmp_path, asset_db):
    rng = random.Random(7)
    hosts = ['web01', 'web02', 'db01']
    advisory_path = str(tmp_path / 'advisories.db')
    _build(advisory_path, tmp_path, _advisories(rng, 10), {'CVE-2099-0002'})
    path = asset_db
    fleet = {host: {package: '1.0-1' for package in PACKAGES} for host in hosts}
    with AssetStore(path) as store:
        store.store_records({host: _host_record(host, fleet[host], random.Random(host)) for host in hosts})
        store.replace_register({host: {'exposure': 'internal', 'criticality': 'high', 'window': 'nights'} for host in hosts}, 'test')
    return {'path': path, 'advisories': advisory_path, 'hosts': hosts, 'versions': fleet, 'tmp': tmp_path}


def test_second_pass_skips_every_host_and_reports_the_same(fleet):
    policy = _policy([])
    first = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    second = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2')
    assert first['unchanged'] == 0 and second['unchanged'] == 3
    assert first['open_findings'] > 0
    for key in ('hosts', 'tiers', 'ranked', 'open_findings', 'skipped', 'missing'):
        assert second[key] == first[key]
    assert second['changed'] is False
    forced = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r3', force=True)
    assert forced['unchanged'] == 0 and forced['hosts'] == first['hosts']


def test_a_skipped_host_keeps_a_fresh_plan(fleet):
    """The plan's time and run id move with each pass, so plan_max_age_days does not refuse a plan that still holds."""
    policy = _policy([])
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    with AssetStore(fleet['path']) as store:
        store._db.execute("UPDATE plans SET created_at = '2000-01-01T00:00:00Z'")
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW + datetime.timedelta(minutes=1), run_id='r2')
    with AssetStore(fleet['path']) as store:
        stored = store.stored_plan('web01')
        assert stored['run_id'] == 'r2' and stored['created_at'] > '2000-01-01T00:00:00Z'
        assert stored['plan']['run_id'] == 'r2'
        assert store.risk_result('web01', with_findings=False)['run_id'] == 'r2'


def test_hosts_are_classified_with_the_cyclic_collector_paused_and_it_runs_again_after(fleet, monkeypatch):
    """The pass makes millions of objects and no reference cycles: the collector's walks over them took up to a quarter of it."""
    states = []
    plan = risk_pass.patch_plan

    def planned(*args, **kwargs):
        states.append(gc.isenabled())
        return plan(*args, **kwargs)

    monkeypatch.setattr(risk_pass, 'patch_plan', planned)
    gc.enable()
    _pass(fleet['path'], fleet['advisories'], _policy([]), fleet['hosts'], moment=NOW, run_id='r1')
    assert states == [False] * len(fleet['hosts'])
    assert gc.isenabled()


def _store_record(fleet, host, changed):
    """Store ``host``'s record as the fleet fixture made it, then ``changed`` (a function of the record) applied to it."""
    made = _host_record(host, fleet['versions'][host], random.Random(host))
    changed(made)
    with AssetStore(fleet['path']) as store:
        store.store_records({host: made})


def test_a_record_change_no_finding_depends_on_keeps_the_result_and_the_next_pass_skips_the_host(fleet):
    policy = _policy([])
    first = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    # A package no advisory names: the record's digest moves, what its findings are made from does not.
    _store_record(fleet, 'web02', lambda made: made['packages'].append(
        {'name': 'tool1', 'version': '2.0-1', 'arch': 'amd64', 'source_name': 'tool1', 'source_version': '2.0-1'}))
    second = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2')
    assert (second['unchanged'], second['unaffected']) == (3, 1)
    for key in ('hosts', 'tiers', 'ranked', 'open_findings', 'skipped', 'missing'):
        assert second[key] == first[key]
    assert second['changed'] is False and second['lifecycle']['web02'] == {'opened': 0, 'closed': 0}
    with AssetStore(fleet['path']) as store:
        assert store.risk_result('web02', with_findings=False)['run_id'] == 'r2'
        assert store.stored_plan('web02')['run_id'] == 'r2'
        kept = _stored(fleet['path'], fleet['hosts'])
    # The result kept is the one a pass that classifies the host again makes.
    forced = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2', force=True)
    assert forced['hosts'] == second['hosts'] and _stored(fleet['path'], fleet['hosts']) == kept
    # The kept result now stands for the record as it is: the next pass skips the host without matching it.
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r3')
    _store_record(fleet, 'web02', lambda made: made['packages'].append(
        {'name': 'tool1', 'version': '2.0-2', 'arch': 'amd64', 'source_name': 'tool1', 'source_version': '2.0-2'}))
    matched = []
    engine = risk_pass.RiskEngine

    class Counting(engine):
        def match(self, record):
            matched.append(record['keys'])
            return super().match(record)

    risk_pass.RiskEngine = Counting
    try:
        fourth = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r4')
        again = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r5')
    finally:
        risk_pass.RiskEngine = engine
    assert (fourth['unchanged'], fourth['unaffected'], again['unchanged'], again['unaffected']) == (3, 1, 3, 0)
    assert len(matched) == 1 and 'tool1\t2.0-2' in matched[0]


@pytest.mark.parametrize('change', ['held', 'half-installed', 'pending update', 'os'])
def test_a_record_change_a_finding_or_rule_reads_classifies_the_host_again(fleet, change):
    """What a finding holds of its host (held or half-installed binaries, a pending update) and the OS facts a rule reads."""
    policy = _policy([])
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    with AssetStore(fleet['path']) as store:
        finding = next(f for f in store.findings(host='web02') if f['status'] == 'open' and not f.get('held_binaries'))
    package = finding['package']

    def changed(made):
        entry = next(p for p in made['packages'] if p['name'] == package)
        if change == 'held':
            entry['held'] = not entry.get('held')
        elif change == 'half-installed':
            entry['state'] = 'half-configured' if entry.get('state', 'installed') == 'installed' else 'installed'
        elif change == 'pending update':
            others = [u for u in made['updates'] if u['name'] != package]
            made['updates'] = others if len(others) < len(made['updates']) else [*others, {
                'name': package, 'current': entry['version'], 'available': '1.0-9', 'security': True, 'origin': 'Debian-Security:bookworm-security'}]
        else:
            made['os'] = dict(made['os'], arch='arm64')

    _store_record(fleet, 'web02', changed)
    second = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2')
    assert (second['unchanged'], second['unaffected']) == (2, 0)
    forced = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2', force=True)
    assert forced['hosts'] == second['hosts']


def test_only_changed_hosts_are_assessed_again(fleet):
    policy = _policy([])
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    versions = dict(fleet['versions']['web02'], pkg03='1.0-7')
    with AssetStore(fleet['path']) as store:
        store.store_records({'web02': _host_record('web02', versions, random.Random('web02'))})
    after_upgrade = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2')
    assert after_upgrade['unchanged'] == 2
    with AssetStore(fleet['path']) as store:
        register = store.register()
        register['db01']['exposure'] = 'internet'
        store.replace_register(register, 'test')
    after_register = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r3')
    assert after_register['unchanged'] == 2
    # The window opens at 22:00: every host's plan may now run, so every host is planned again.
    night = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW.replace(hour=23), run_id='r4')
    assert night['unchanged'] == 0 and all(summary['plan']['window_open'] for summary in night['hosts'].values())
    # Another policy: everything again.
    stricter = _pass(fleet['path'], fleet['advisories'], load_policy({'windows': WINDOWS, 'sla_days': {'low': 90}}), fleet['hosts'],
                     moment=NOW.replace(hour=23), run_id='r5')
    assert stricter['unchanged'] == 0


def test_new_advisory_data_assesses_every_host_again(fleet):
    policy = _policy([])
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    _build(fleet['advisories'], fleet['tmp'], _advisories(random.Random(8), 10), {'CVE-2099-0002'})
    again = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2')
    assert again['unchanged'] == 0


def test_check_mode_skips_but_writes_nothing(fleet):
    policy = _policy([])
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    before = _stored(fleet['path'], fleet['hosts'])
    advisories = AdvisoryDB(fleet['advisories'])
    with AssetStore(fleet['path']) as store:
        summary = assess_fleet(store, advisories, policy, store.register(), fleet['hosts'], run_id='r2', now=NOW, check_mode=True)
    advisories.close()
    assert summary['unchanged'] == 3
    assert _stored(fleet['path'], fleet['hosts']) == before


def test_baseline_cooling_off_ends_as_the_days_pass(fleet):
    """Updates discovery saw today wait out approve_after_days, then a later pass plans them (the day is an input)."""
    policy = load_policy({'windows': WINDOWS, 'baseline': {'approve_after_days': dict.fromkeys(('critical', 'high', 'medium', 'low'), 2)}})
    today = datetime.datetime.now(datetime.timezone.utc)
    waiting = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=today, run_id='r1')
    with AssetStore(fleet['path']) as store:
        plan = store.plan('web01')
    assert plan['system']['baseline']['waiting'] or plan['application_baseline']['waiting'], plan
    # Seen by discovery (or first found) today: eligible two days on.
    assert {entry['eligible_on'] for entry in plan['system']['baseline']['waiting']} == {(today + datetime.timedelta(days=2)).date().isoformat()}
    assert waiting['hosts']['web01']['plan']['packages'] == [p['name'] for p in plan['system']['packages']]
    later = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=today + datetime.timedelta(days=3), run_id='r2')
    assert later['unchanged'] == 0
    with AssetStore(fleet['path']) as store:
        plan = store.plan('web01')
    assert plan['system']['baseline']['waiting'] == [] and plan['system']['packages']


def test_stored_findings_keep_the_reasons_of_their_decision(fleet):
    """The shared detail a pass stores is the engine's: its decision's reasons (the SSVC tables' inputs) and base tier
    are in the asset DB, not only in the run's output."""
    policy = _policy([])
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    with AssetStore(fleet['path']) as store:
        stored = store.findings(host='web01', status='open')
        details = [detail for detail, _context in store.finding_details().values()]
    assert stored and details
    for finding in stored:
        assert any(reason.startswith('ssvc') or ' -> ' in reason for reason in finding.get('reasons', ())), finding
    assert all(detail['tier'] in ('critical', 'high', 'medium', 'low') and detail['reasons'] for detail in details)
    assert not any('first seen' in reason for detail in details for reason in detail['reasons']), 'no host reason in a shared detail'


def _details(path):
    with AssetStore(path) as store:
        return store.finding_details()


def _context(policy, advisory_path):
    advisories = AdvisoryDB(advisory_path)
    try:
        return risk.RiskEngine(policy, advisories).decision_context
    finally:
        advisories.close()


def test_details_are_written_again_only_under_another_decision_context(fleet):
    """A forced pass under the same policy, tables and advisory data decides the details it finds stored: it writes none
    of them again, nor after an edit of what acts per host (an acceptance).  Under a policy that decides details
    otherwise each is decided and written again, with the new context."""
    policy = _policy([])
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    first = _details(fleet['path'])
    context = _context(policy, fleet['advisories'])
    assert first and {stored_context for _detail, stored_context in first.values()} == {context}
    key = sorted(first)[0]
    with AssetStore(fleet['path']) as store:
        # A marker no pass would write: it stays only if the detail is not written again.
        store._db.execute('UPDATE finding_details SET detail = ? WHERE detail_key = ?', (json.dumps(dict(first[key][0], marker=1)), key))
    forced = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2', force=True)
    assert forced['unchanged'] == 0
    assert _details(fleet['path'])[key][0].get('marker') == 1
    # An acceptance acts per host: every host is assessed again, no detail is decided again.
    accepted = _policy([{'finding': 'DSA-9001-1', 'owner': 'secops', 'reason': 'mitigated', 'expires': datetime.date(2099, 6, 1)}])
    assert _pass(fleet['path'], fleet['advisories'], accepted, fleet['hosts'], moment=NOW, run_id='r2b')['unchanged'] == 0
    assert _details(fleet['path'])[key][0].get('marker') == 1
    stricter = load_policy({'windows': WINDOWS, 'holds': policy['holds'], 'sla_days': {'low': 90}})
    _pass(fleet['path'], fleet['advisories'], stricter, fleet['hosts'], moment=NOW, run_id='r3')
    again = _details(fleet['path'])
    assert 'marker' not in again[key][0]
    assert {stored_context for _detail, stored_context in again.values()} == {_context(stricter, fleet['advisories'])}
    assert again[key][1] != context


def test_a_decision_table_edited_in_place_assesses_every_host_again(fleet):
    """The policy names the table by its path; what the table decides is in the pass's inputs, so editing the file is a change."""
    table = fleet['tmp'] / 'deployer.json'
    with open(os.path.join(ssvc.TABLE_DIR, ssvc.PRESETS['ssvc-deployer']), encoding='utf-8') as handle:
        document = json.load(handle)
    table.write_text(json.dumps(document))
    policy = load_policy({'windows': WINDOWS, 'tables': {'decision': str(table)}})
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    assert _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2')['unchanged'] == 3
    # Every row decides "defer" now: the same file name, another table.
    for row in document['mapping']:
        row[document['outcome']] = 'D'
    table.write_text(json.dumps(document))
    edited = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r3')
    assert edited['unchanged'] == 0
    assert {detail['decision'] for detail, _context in _details(fleet['path']).values() if detail.get('source') != 'distribution'} == {'D'}


def test_new_code_assesses_every_host_again(fleet, monkeypatch):
    """After an upgrade that changes how findings are decided, every host is assessed and every detail decided and
    written again; after one that changes only the planning, every host is assessed again but the details stand."""
    policy = _policy([])
    _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r1')
    first = _details(fleet['path'])
    monkeypatch.setattr(risk_pass, 'planning_code', lambda: 'planning code of another version')
    replanned = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r2')
    assert replanned['unchanged'] == 0
    assert _details(fleet['path']) == first
    monkeypatch.setattr(risk, 'deciding_code', lambda: 'deciding code of another version')
    decided = _pass(fleet['path'], fleet['advisories'], policy, fleet['hosts'], moment=NOW, run_id='r3')
    assert decided['unchanged'] == 0
    again = _details(fleet['path'])
    assert {context for _detail, context in again.values()} == {_context(policy, fleet['advisories'])}
    assert {context for _detail, context in again.values()}.isdisjoint(context for _detail, context in first.values())


@pytest.fixture
def twins(tmp_path):
    """Hosts a1, a2 and a3 cloned from one image (the same record but for the name, the same register entry); b1 the
    same image in another register class.  On two SQLite databases, to pass with and without sharing."""
    advisory_path = str(tmp_path / 'advisories.db')
    _build(advisory_path, tmp_path, _advisories(random.Random(11), 10), {'CVE-2099-0002'})
    versions = {package: '1.0-1' for package in PACKAGES}
    register = {host: {'exposure': 'internal', 'criticality': 'high', 'window': 'nights'} for host in ('a1', 'a2', 'a3')}
    register['b1'] = {'exposure': 'internet', 'criticality': 'high', 'window': 'nights'}
    paths = {'shared': str(tmp_path / 'shared.db'), 'apart': str(tmp_path / 'apart.db')}
    for path in paths.values():
        with AssetStore(path) as store:
            store.store_records({host: _host_record(host, versions, random.Random('image')) for host in register})
            store.replace_register(register, 'test')
    return {'paths': paths, 'advisories': advisory_path, 'hosts': sorted(register), 'versions': versions}


def _passes_with_and_without_sharing(twins, monkeypatch, policy, *, moment, run_id, force=False):
    """One pass on each database, the second with every host classified on its own; the hosts each classified."""
    classified = {}
    classify = risk.RiskEngine.classify_listing

    def counted(engine, host, *args, **kwargs):
        classified[label].append(host)
        return classify(engine, host, *args, **kwargs)

    summaries = {}
    for label, path in twins['paths'].items():
        classified[label] = []
        with monkeypatch.context() as patched:
            patched.setattr(risk.RiskEngine, 'classify_listing', counted)
            if label == 'apart':
                patched.setattr(risk.RiskEngine, 'result_is_own', lambda engine, host: True)
            summaries[label] = _pass(path, twins['advisories'], policy, twins['hosts'], moment=moment, run_id=run_id, force=force)
    assert summaries['shared'] == summaries['apart']
    assert _stored(twins['paths']['shared'], twins['hosts']) == _stored(twins['paths']['apart'], twins['hosts'])
    return classified['shared']


@pytest.mark.parametrize('policy, classified', [
    ({}, ['a1', 'b1']),
    # An acceptance that names a3 decides a3's findings apart; a rule sees every host (its name among it).
    ({'acceptances': [{'package': 'pkg0*', 'host': 'a3', 'owner': 'ops', 'reason': 'lab', 'expires': datetime.date(2099, 3, 3)}]},
     ['a1', 'a3', 'b1']),
    ({'rules': [{'name': 'a2 is high', 'when': "host.name == 'a2' && finding.tier == 'medium'", 'tier': 'high'}]}, ['a1', 'a2', 'a3', 'b1']),
], ids=['plain', 'host acceptance', 'rule'])
def test_hosts_alike_are_classified_once_and_each_stored_as_if_classified_alone(twins, monkeypatch, policy, classified):
    """The first of hosts alike is classified and planned; the others take its result and plan under their own name."""
    policy = load_policy(dict({'windows': WINDOWS}, **policy))
    matched = []
    match = risk.RiskEngine.match
    monkeypatch.setattr(risk.RiskEngine, 'match', lambda engine, record: matched.append(record) or match(engine, record))
    assert _passes_with_and_without_sharing(twins, monkeypatch, policy, moment=NOW, run_id='r1') == classified
    # The four hosts have one match view (b1 is another register class): matched once in each pass.
    assert len(matched) == 2
    with AssetStore(twins['paths']['shared']) as store:
        assert [store.plan(host)['host'] for host in twins['hosts']] == twins['hosts']
        assert [store.risk_result(host)['host'] for host in twins['hosts']] == twins['hosts']


def test_hosts_alike_whose_findings_were_first_seen_apart_are_classified_apart(twins, monkeypatch):
    """A host that was fixed and went back to the vulnerable version has the same packages as its twins, but its
    findings were opened again later, so their due dates are later: it is classified on its own."""
    policy = load_policy({'windows': WINDOWS})
    _passes_with_and_without_sharing(twins, monkeypatch, policy, moment=NOW, run_id='r1')
    for day, version in ((1, '1.0-9'), (2, '1.0-1')):
        for path in twins['paths'].values():
            with AssetStore(path) as store:
                store.store_records({'a2': _host_record('a2', dict(twins['versions'], pkg00=version), random.Random('image'))})
        moment = NOW + datetime.timedelta(days=day)
        assert _passes_with_and_without_sharing(twins, monkeypatch, policy, moment=moment, run_id='r%d' % (day + 1)) == ['a2']
    with AssetStore(twins['paths']['shared']) as store:
        first_seen = {host: {f['id']: f['first_seen'][:10] for f in store.risk_result(host)['findings'] if f['package'] == 'pkg00'}
                      for host in ('a1', 'a2')}
    assert first_seen['a1'] and set(first_seen['a1'].values()) == {'2099-03-02'} and set(first_seen['a2'].values()) == {'2099-03-04'}
    # Every host again (as after new advisory data): a1 and a3 alike still, a2 apart.
    moment = NOW + datetime.timedelta(days=3)
    assert _passes_with_and_without_sharing(twins, monkeypatch, policy, moment=moment, run_id='r4', force=True) == ['a1', 'a2', 'b1']


def test_views_matched_before_the_engine_empties_its_memos_are_matched_again(twins, monkeypatch):
    """The engine's memos keep the raw findings alive that they key by identity; matched findings held from before they
    were emptied could share an id with a new one.  So a pass drops them too: every host is classified on findings
    matched since the memos were last emptied, and still stored as without sharing."""
    monkeypatch.setattr(risk_pass, '_READ_AHEAD', 1)     # a batch per host: the memos may be emptied between two hosts
    monkeypatch.setattr(risk, '_MEMO_LIMIT', 0)          # and are, before every batch after a host was classified
    generation, made, checked = [0], {}, []
    forget, match, classify = risk.RiskEngine.forget_if_full, risk.RiskEngine.match, risk.RiskEngine.classify_listing

    def forgets(engine):
        emptied = forget(engine)
        generation[0] += emptied
        return emptied

    def matches(engine, record):
        found = match(engine, record)
        made[id(found)] = (found, generation[0])
        return found

    def classifies(engine, host, *args, matched=None, **kwargs):
        assert made[id(matched)][1] == generation[0], '%s classified on findings matched before the memos were emptied' % host
        checked.append(host)
        return classify(engine, host, *args, matched=matched, **kwargs)

    monkeypatch.setattr(risk.RiskEngine, 'forget_if_full', forgets)
    monkeypatch.setattr(risk.RiskEngine, 'match', matches)
    monkeypatch.setattr(risk.RiskEngine, 'classify_listing', classifies)
    assert _passes_with_and_without_sharing(twins, monkeypatch, load_policy({'windows': WINDOWS}), moment=NOW, run_id='r1') == ['a1', 'b1']
    assert generation[0] >= 3 and checked == ['a1', 'b1', 'a1', 'a2', 'a3', 'b1']


def _detail_keys(path, hosts, package):
    """``{host: {detail keys of its findings in package}}``, and the keys every finding row names and every detail stored."""
    with AssetStore(path) as store:
        rows = list(store._db.execute('SELECT host, package, status, detail_key FROM findings'))
        stored = {key for (key,) in store._db.execute('SELECT detail_key FROM finding_details')}
    by_host = {host: {(key, status) for row_host, row_package, status, key in rows if row_host == host and row_package == package} for host in hosts}
    return by_host, {row[3] for row in rows}, stored


@pytest.mark.parametrize('counts, chunk', [('kept', 500), ('changed by hand', 500), ('changed by hand', 1)],
                         ids=['counts kept', 'counts changed by hand', 'more keys than a query takes'])
def test_a_detail_no_finding_names_any_more_is_deleted_and_one_still_named_is_kept(twins, monkeypatch, counts, chunk):
    """b1 (alone in its register class) and a2 install another version of pkg00 that is still vulnerable: their pkg00
    findings name new details.  b1's old details are named by no row any more and go; a2's are still named by a1's and
    a3's rows and stay, also when the finding counts were changed by hand to say they are not; b1's pkg07 findings,
    fixed, keep theirs (the report shows what was fixed)."""
    path, hosts = twins['paths']['shared'], twins['hosts']
    # A query per key: the keys the counts say are unnamed are more than one query takes, and the rows are read whole.
    monkeypatch.setattr(asset_store, '_CHUNK', chunk)
    policy = load_policy({'windows': WINDOWS})
    _pass(path, twins['advisories'], policy, hosts, moment=NOW, run_id='r1')
    before, _named, _stored_keys = _detail_keys(path, hosts, 'pkg00')
    fixed_before, _named, _stored_keys = _detail_keys(path, ['b1'], 'pkg07')
    assert before['b1'] and before['a2'] == before['a1'] and fixed_before['b1']
    assert {key for key, _status in before['b1']}.isdisjoint(key for key, _status in before['a1'])
    if counts == 'changed by hand':
        with AssetStore(path) as store:
            # Counted as if a2 alone named them: once a2's rows move, the counts say no row names them.
            store._db.executemany('UPDATE finding_counts SET findings = 1 WHERE detail_key = ?', [(key,) for key, _status in before['a2']])
    with AssetStore(path) as store:
        # 1.0-1+1 sorts before every fixed version (1.0-2 and later): still vulnerable to all that 1.0-1 was; 1.0-9 fixes
        # every advisory that names pkg07.
        store.store_records({host: _host_record(host, dict(twins['versions'], pkg00='1.0-1+1', pkg07='1.0-9'), random.Random('image'))
                             for host in ('a2', 'b1')})
    _pass(path, twins['advisories'], policy, hosts, moment=NOW + datetime.timedelta(days=1), run_id='r2')
    after, named, stored = _detail_keys(path, hosts, 'pkg00')
    fixed_after, _named, _stored_keys = _detail_keys(path, ['b1'], 'pkg07')
    assert {key for key, _status in after['b1']}.isdisjoint(key for key, _status in before['b1']), 'b1 names new details'
    assert stored.isdisjoint(key for key, _status in before['b1']), 'the details only b1 named are deleted'
    assert {key for key, _status in before['a2']} <= stored, 'the details a1 and a3 still name are kept'
    assert {key for key, status in fixed_after['b1'] if status == 'fixed'} == {key for key, _status in fixed_before['b1']} <= stored
    assert named <= stored, 'every finding row names a stored detail'

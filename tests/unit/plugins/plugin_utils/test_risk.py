# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import ssvc
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import DETAIL_POLICY_KEYS, RiskEngine, RiskError, decision_context, finding_score
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

FEEDS = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
TODAY = datetime.date(2099, 3, 1)
# CVSS vectors giving each (Automatable, Technical Impact) pair.
VECTORS = {
    ('Y', 'T'): 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    ('Y', 'P'): 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
    ('N', 'T'): 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
    ('N', 'P'): 'CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N',
}
EXPOSURE = {'Y': 'internet', 'N': 'internal'}
SYSTEM_EXPOSURE = {'O': 'internet', 'C': 'internal', 'S': 'isolated'}
CRITICALITY = {'L': 'low', 'M': 'medium', 'H': 'high', 'VH': 'very_high'}


class FakeAdvisories:
    """Returns the given matches for one (source package, version), as AdvisoryDB.match does."""

    def __init__(self, matches):
        self.matches = matches
        self.calls = 0

    def match(self, ecosystem, packages):
        self.calls += 1
        return {(name, version): [dict(m, ecosystem=ecosystem, package=name, installed=version) for m in self.matches.get(name, [])]
                for name, version in packages}


def _match(advisory_id='CVE-2099-1000', *, vector=None, kev=None, epss=None, fixed=('3.0.15-1~deb12u1',), status='resolved', urgency='high'):
    return {'id': advisory_id, 'aliases': [advisory_id], 'summary': 's', 'source': 'debian', 'fixed': list(fixed), 'status': status,
            'urgency': urgency, 'cvss': {'vector': vector, 'score': 9.8} if vector else None, 'kev': kev,
            'epss': {'score': epss, 'percentile': 0.9} if epss is not None else None}


def _engine(matches=None, **policy):
    return RiskEngine(load_policy(policy), FakeAdvisories(matches or {}), today=TODAY)


def _only_openssl(**changes):
    base = record(updates=[])
    base.update(changes)
    return base


def _rows(preset):
    with open(os.path.join(ssvc.TABLE_DIR, ssvc.PRESETS[preset]), encoding='utf-8') as handle:
        document = json.load(handle)
    return document['outcome'], document['mapping']


@pytest.mark.parametrize('row', _rows('bod-26-04')[1], ids=lambda row: '-'.join(row.values()))
def test_every_bod_26_04_row_from_constructed_findings(row):
    kev = {'added': '2099-01-01', 'due': '2099-12-31', 'ransomware': 'Unknown'} if row['cisa:KEV:1.0.0'] == 'Y' else None
    vector = VECTORS[(row['ssvc:A:2.0.0'], row['ssvc:TI:1.0.0'])]
    engine = _engine({'openssl': [_match(vector=vector, kev=kev)]})
    result = engine.classify('web01', _only_openssl(), {'exposure': EXPOSURE[row['cisa:PE:1.0.0']], 'criticality': 'medium'})
    finding, = result['findings']
    assert finding['due_class'] == row['cisa:BOD2604:1.0.0']
    assert finding['incident'] is (row['cisa:BOD2604:1.0.0'] == '3DF')


@pytest.mark.parametrize('row', _rows('ssvc-deployer')[1], ids=lambda row: '-'.join(row.values()))
def test_every_deployer_row_from_constructed_findings(row):
    exploitation = row['ssvc:E:1.1.0']
    kev = {'added': '2099-01-01', 'due': None, 'ransomware': 'Unknown'} if exploitation == 'A' else None
    epss = 0.5 if exploitation == 'P' else 0.001
    vector = VECTORS[(row['ssvc:A:2.0.0'], 'P')]
    engine = _engine({'openssl': [_match(vector=vector, kev=kev, epss=epss)]})
    register = {'exposure': SYSTEM_EXPOSURE[row['ssvc:EXP:1.0.1']], 'criticality': CRITICALITY[row['ssvc:HI:2.0.2']]}
    finding, = engine.classify('web01', _only_openssl(), register)['findings']
    assert finding['decision'] == row['ssvc:DSOI:1.0.0']
    assert finding['tier'] == {'I': 'critical', 'O': 'high', 'S': 'medium', 'D': 'low'}[row['ssvc:DSOI:1.0.0']]


@pytest.mark.parametrize('row', _rows('cisa-coordinator')[1], ids=lambda row: '-'.join(row.values()))
def test_every_coordinator_row_from_constructed_findings(row):
    outcome_point, _rows_unused = _rows('cisa-coordinator')
    exploitation = row['ssvc:E:1.1.0']
    kev = {'added': '2099-01-01', 'due': None, 'ransomware': 'Unknown'} if exploitation == 'A' else None
    epss = 0.5 if exploitation == 'P' else 0.001
    vector = VECTORS[(row['ssvc:A:2.0.0'], row['ssvc:TI:1.0.0'])]
    mwi = {'L': 'low', 'M': 'medium', 'H': 'high'}[row['ssvc:MWI:1.0.0']]
    engine = _engine({'openssl': [_match(vector=vector, kev=kev, epss=epss)]},
                     tables={'decision': 'cisa-coordinator', 'due': 'bod-26-04'},
                     tiers={'T': 'low', 'T*': 'medium', 'AT': 'high', 'AC': 'critical'})
    finding, = engine.classify('web01', _only_openssl(), {'exposure': 'internal', 'criticality': mwi})['findings']
    assert finding['decision'] == row[outcome_point]


def test_coordinator_without_tier_mapping_is_rejected():
    with pytest.raises(RiskError, match=r'patchwise_policy.tiers: no tier for outcome\(s\) T, T\*, AT, AC'):
        _engine(tables={'decision': 'cisa-coordinator', 'due': 'bod-26-04'})


def test_table_with_point_the_data_cannot_supply_is_rejected(tmp_path):
    document = json.load(open(os.path.join(ssvc.TABLE_DIR, ssvc.PRESETS['bod-26-04']), encoding='utf-8'))
    document['decision_points']['x:Unknown:1.0.0'] = {'name': 'Unknown', 'values': [{'key': 'A'}]}
    for row in document['mapping']:
        row['x:Unknown:1.0.0'] = 'A'
    path = tmp_path / 'own.json'
    path.write_text(json.dumps(document))
    with pytest.raises(RiskError, match=r'x:Unknown:1.0.0 cannot be derived'):
        _engine(tables={'decision': 'ssvc-deployer', 'due': str(path)})
    engine = _engine({'openssl': [_match()]}, tables={'decision': 'ssvc-deployer', 'due': str(path)}, point_defaults={'x:Unknown:1.0.0': 'A'})
    assert engine.classify('web01', _only_openssl(), {})['findings'][0]['ssvc']['x:Unknown:1.0.0'] == 'A'


def test_kev_due_date_wins_when_earlier_and_due_from_kev_added():
    kev = {'added': '2099-02-20', 'due': '2099-03-02', 'ransomware': 'Known'}
    engine = _engine({'openssl': [_match(vector=VECTORS[('Y', 'T')], kev=kev)]})
    finding, = engine.classify('web01', _only_openssl(), {'exposure': 'internal'}, lifecycle={('CVE-2099-1000', 'openssl'): '2099-02-25'})['findings']
    assert finding['first_seen'] == '2099-02-25'
    assert finding['due'] == '2099-02-28'          # 3 days from first seen (3D), earlier than the KEV due date
    engine = _engine({'openssl': [_match(vector=VECTORS[('Y', 'T')], kev=dict(kev, due='2099-02-26'))]})
    finding, = engine.classify('web01', _only_openssl(), {'exposure': 'internal'}, lifecycle={('CVE-2099-1000', 'openssl'): '2099-02-25'})['findings']
    assert finding['due'] == '2099-02-26' and any('KEV due date is earlier' in r for r in finding['reasons'])
    engine = _engine({'openssl': [_match(vector=VECTORS[('N', 'P')])]}, due_from='kev_added')
    finding, = engine.classify('web01', _only_openssl(), {'exposure': 'internal'})['findings']
    assert finding['due'] == (TODAY + datetime.timedelta(days=365)).isoformat()   # FSU, not in KEV: from first seen


def test_missing_data_takes_conservative_defaults_and_says_so():
    engine = _engine({'openssl': [_match()]})
    finding, = engine.classify('web01', _only_openssl(), None)['findings']
    joined = ' | '.join(finding['reasons'])
    assert 'automatable Y: policy default, no CVSS vector' in joined
    assert 'exposure: policy default (register has no exposure)' in joined
    assert finding['ssvc']['ssvc:HI:2.0.2'] == 'VH'


def test_no_fix_yet_unimportant_and_no_dsa():
    engine = _engine({'openssl': [_match(fixed=(), status='open', urgency='unimportant', kev={'added': '2099-01-01', 'due': None})],
                      'bash': [_match('CVE-2099-2000', fixed=(), status='no-dsa', urgency='low')]})
    result = engine.classify('web01', _only_openssl(), {'exposure': 'internet', 'criticality': 'very_high'})
    by_id = {f['id']: f for f in result['findings']}
    assert by_id['CVE-2099-1000']['fixed'] is None and 'no fix yet' in by_id['CVE-2099-1000']['reasons']
    assert by_id['CVE-2099-1000']['tier'] == 'low'
    assert any('capped at low' in r for r in by_id['CVE-2099-1000']['reasons'])
    assert any('no-dsa' in r for r in by_id['CVE-2099-2000']['reasons'])


def test_fixed_version_is_the_lowest_above_installed():
    engine = _engine({'openssl': [_match(fixed=('3.0.11-1~deb12u1', '3.0.16-1', '3.0.15-1~deb12u1'))]})
    assert engine.classify('web01', _only_openssl(), {})['findings'][0]['fixed'] == '3.0.15-1~deb12u1'


def test_binary_packages_grouped_by_source_and_matched_once():
    advisories = FakeAdvisories({'openssl': [_match()]})
    engine = RiskEngine(load_policy(), advisories, today=TODAY)
    finding, = engine.classify('web01', _only_openssl(), {})['findings']
    assert finding['binary_packages'] == ['libssl3', 'openssl']
    assert advisories.calls == 1


class _NotedPolicy(dict):
    """A policy that notes which of its keys are read while ``noting`` is set."""

    noting = False

    def __init__(self, policy):
        super().__init__(policy)
        self.read = set()

    def __getitem__(self, key):
        if self.noting:
            self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        if self.noting:
            self.read.add(key)
        return super().get(key, default)


def test_a_detail_is_decided_from_the_policy_keys_its_context_names():
    """The store writes a detail again only when its decision context changes: every policy key the engine reads
    to decide one must be in that context."""
    matches = {'openssl': [_match(kev={'added': '2099-01-01', 'due': '2099-02-01'}), _match('CVE-2099-1001', epss=0.9),
                           _match('CVE-2099-1002', vector='CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', urgency='unimportant')]}
    updates = [{'name': 'curl', 'current': '7.88.1-10', 'available': '7.88.1-11', 'security': True, 'origin': 'Debian-Security:bookworm-security'}]
    engine = _engine(matches)
    noted = engine.policy = _NotedPolicy(engine.policy)
    decide = engine._detail

    def noting_detail(item, register_entry):
        noted.noting = True
        try:
            return decide(item, register_entry)
        finally:
            noted.noting = False

    engine._detail = noting_detail
    findings = engine.classify('web01', record(updates=updates), {'exposure': 'internet', 'criticality': 'high'})['findings']
    assert len(findings) == 4
    assert noted.read and noted.read <= set(DETAIL_POLICY_KEYS), sorted(noted.read - set(DETAIL_POLICY_KEYS))


def test_the_decision_context_follows_the_detail_keys_only():
    """Editing what decides a detail changes the context; editing what acts per host (acceptances, windows) does not."""
    engine = _engine()
    tables = (engine.decision_table, engine.due_table)
    context = decision_context(engine.policy, tables, None)
    for key in DETAIL_POLICY_KEYS:
        assert decision_context(dict(engine.policy, **{key: 'edited'}), tables, None) != context, key
    for key in ('acceptances', 'holds', 'rules', 'windows', 'due_from', 'approval'):
        assert decision_context(dict(engine.policy, **{key: 'edited'}), tables, None) == context, key
    assert decision_context(engine.policy, tables[::-1], None) != context


def test_hosts_with_the_update_from_other_origins_each_keep_their_own():
    """The same pending update from two archives (a local mirror names its own origin): each host's finding says where
    its update comes from, and the two details are stored apart."""
    engine = RiskEngine(load_policy(), None, today=TODAY)
    findings = {}
    for host, origin in (('web01', 'Debian-Security:bookworm-security'), ('web02', 'Mirror:bookworm-security')):
        updates = [{'name': 'openssl', 'current': '3.0.14-1~deb12u1', 'available': '3.0.15-1~deb12u1', 'security': True, 'origin': origin}]
        findings[host], = engine.classify(host, record(updates=updates), {'exposure': 'internal'})['findings']
    assert 'Debian-Security:bookworm-security' in findings['web01']['summary']
    assert 'Mirror:bookworm-security' in findings['web02']['summary']
    assert findings['web01']['detail_key'] != findings['web02']['detail_key']


def test_distribution_security_update_without_advisory_counts():
    updates = [{'name': name, 'current': '3.0.14-1~deb12u1', 'available': '3.0.15-1~deb12u1', 'security': True,
                'origin': 'Debian-Security:bookworm-security'} for name in ('openssl', 'libssl3')]
    result = RiskEngine(load_policy(), None, today=TODAY).classify('web01', record(updates=updates), {'exposure': 'internal'})
    finding, = result['findings']
    assert finding['id'] == 'security-update:openssl' and finding['fixed'] == '3.0.15-1~deb12u1'
    assert finding['binary_packages'] == ['libssl3', 'openssl']
    assert finding['source'] == 'distribution' and result['tier'] != 'none'
    covered = _engine({'openssl': [_match()]}).classify('web01', record(), {})['findings']
    assert [f['id'] for f in covered] == ['CVE-2099-1000']
    assert covered[0]['distribution_security_update'][0]['available'] == '3.0.15-1~deb12u1'


def test_acceptance_hold_and_rules():
    kev = {'added': '2099-01-01', 'due': None}
    matches = {'openssl': [_match(vector=VECTORS[('Y', 'T')], kev=kev)], 'bash': [_match('CVE-2099-2000')]}
    policy = {
        'acceptances': [{'finding': 'CVE-2099-2000', 'host': 'web01', 'owner': 'ops', 'reason': 'not reachable', 'expires': '2099-06-01'},
                        {'package': 'open*', 'owner': 'ops', 'reason': 'old', 'expires': '2099-01-01'}],
        'holds': [{'package': 'libssl*', 'until': '2099-04-01', 'reason': 'freeze'}],
        'rules': [{'name': 'internet KEV', 'when': "host.register.exposure == 'internet' && finding.kev != null", 'tier': 'critical'}],
    }
    result = _engine(matches, **policy).classify('web01', _only_openssl(), {'exposure': 'internet', 'criticality': 'low'})
    by_id = {f['id']: f for f in result['findings']}
    assert by_id['CVE-2099-2000']['status'] == 'accepted' and by_id['CVE-2099-2000']['acceptance']['owner'] == 'ops'
    openssl = by_id['CVE-2099-1000']
    assert openssl['status'] == 'open' and any('expired on 2099-01-01: reopened' in r for r in openssl['reasons'])
    assert openssl['hold'] == {'until': '2099-04-01', 'reason': 'freeze'}
    assert openssl['tier'] == 'critical' and any("rule 'internet KEV'" in r for r in openssl['reasons'])
    assert result['tier'] == 'critical' and result['counts']['accepted'] == 1 and result['counts']['held'] == 1
    # The listing the fleet pass counts and ranks: the same result, and of its findings the open ones, ranked.
    listed, open_findings = _engine(matches, **policy).classify_listing('web01', _only_openssl(), {'exposure': 'internet', 'criticality': 'low'})
    assert listed == result
    assert [f['id'] for f in open_findings] == ['CVE-2099-1000'] and open_findings[0] == openssl


def test_host_result_summary():
    matches = {'openssl': [_match(vector=VECTORS[('Y', 'T')], kev={'added': '2099-01-01', 'due': None})], 'bash': [_match('CVE-2099-2000')]}
    result = _engine(matches).classify('web01', _only_openssl(), {'exposure': 'internet', 'criticality': 'high'}, run_id='r1')
    assert result['schema'] == 1 and result['run_id'] == 'r1' and result['host'] == 'web01'
    assert result['findings'][0]['id'] == 'CVE-2099-1000'      # ranked first: higher tier
    assert result['tier'] == result['findings'][0]['tier'] == 'critical'
    assert result['due'] == min(f['due'] for f in result['findings'])
    assert result['counts']['open'] == 2


def test_score_orders_within_an_outcome():
    assert finding_score({'cvss': {'score': 9.8}, 'epss': {'score': 0.5}, 'kev': {}}) == 14.8
    assert finding_score({'cvss': None, 'epss': None, 'kev': {'added': 'x'}}) == 15.0


def test_unknown_ecosystem_is_reported_as_skipped():
    rec = _only_openssl(os=dict(record()['os'], ecosystem='Plan9:4'))
    result = _engine({'openssl': [_match()]}).classify('web01', rec, {})
    assert result['findings'] == [] and result['skipped'] == ['OS packages not matched: unknown ecosystem Plan9:4']


def test_real_advisory_database(tmp_path):
    path = str(tmp_path / 'adv.db')
    build(path, [{'type': 'debian', 'src': os.path.join(FEEDS, 'debian-tracker.json')},
                 {'type': 'epss', 'src': os.path.join(FEEDS, 'epss.csv')}])
    packages = [{'name': 'pw-demo-security', 'version': '1.0-1', 'arch': 'all', 'source_name': 'pw-demo-security', 'source_version': '1.0-1'},
                {'name': 'pw-libdemo', 'version': '1.0-2', 'arch': 'all', 'source_name': 'pw-libdemo', 'source_version': '1.0-2'}]
    updates = [{'name': 'pw-demo-security', 'current': '1.0-1', 'available': '1.0-2', 'security': True, 'origin': 'Debian-Security:bookworm-security'}]
    advisories = AdvisoryDB(path)
    try:
        result = RiskEngine(load_policy(), advisories, today=TODAY).classify('web01', record(packages=packages, updates=updates),
                                                                             {'exposure': 'internet', 'criticality': 'high'})
    finally:
        advisories.close()
    by_id = {f['id']: f for f in result['findings']}
    assert sorted(by_id) == ['CVE-2099-0001', 'CVE-2099-0003']
    assert by_id['CVE-2099-0001']['fixed'] == '1.0-2' and by_id['CVE-2099-0001']['epss']['score'] == 0.93021
    assert by_id['CVE-2099-0001']['distribution_security_update'][0]['available'] == '1.0-2'
    assert by_id['CVE-2099-0001']['decision'] == 'O'        # public PoC (EPSS), open exposure, automatable default
    assert by_id['CVE-2099-0003']['fixed'] is None and by_id['CVE-2099-0003']['tier'] == 'low'


def test_held_binaries_are_marked_per_host():
    packages = [dict(p, held=(p['name'] == 'libssl3')) for p in record()['packages']]
    engine = _engine({'openssl': [_match()]})
    held, = engine.classify('web01', _only_openssl(packages=packages), {})['findings']
    free, = engine.classify('web02', _only_openssl(), {})['findings']
    assert held['held_binaries'] == ['libssl3'] and free['held_binaries'] == []
    assert held['detail_key'] == free['detail_key']


def test_a_pending_security_update_is_the_candidate_never_the_fix_of_an_unfixed_advisory():
    # Debian's <unfixed> (perl's CVE-2011-4116): a security update of the package fixes something else.
    update = [{'name': 'openssl', 'current': '3.0.14-1~deb12u1', 'available': '3.0.15-1~deb12u1', 'security': True,
               'origin': 'Debian-Security:bookworm-security'}]
    engine = _engine({'openssl': [_match(fixed=(), status='no-dsa', urgency='low')]})
    findings = {f['id']: f for f in engine.classify('web01', record(updates=update), {})['findings']}
    unfixed = findings['CVE-2099-1000']
    assert unfixed['fixed'] is None and unfixed['candidate'] == '3.0.15-1~deb12u1' and 'no fix yet' in unfixed['reasons']
    # The update fixes none of the package's known findings: it counts as a security fix of its own.
    assert findings['security-update:openssl']['fixed'] == '3.0.15-1~deb12u1'
    without, = engine.classify('web02', _only_openssl(), {})['findings']
    assert without['fixed'] is None and without['candidate'] is None and 'no fix yet' in without['reasons']


def test_vulnrichment_values_are_used_first():
    match = dict(_match(vector=VECTORS[('N', 'P')], epss=0.001),
                 vulnrichment={'exploitation': 'active', 'automatable': 'yes', 'technical impact': 'total'})
    finding, = _engine({'openssl': [match]}).classify('web01', _only_openssl(), {'exposure': 'internet', 'criticality': 'high'})['findings']
    assert finding['ssvc']['ssvc:E:1.1.0'] == 'A' and finding['ssvc']['ssvc:A:2.0.0'] == 'Y' and finding['ssvc']['ssvc:TI:1.0.0'] == 'T'
    assert any('CISA Vulnrichment' in reason for reason in finding['reasons'])

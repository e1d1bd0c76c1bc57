"""Feed parsers on real-format fixtures, and their errors on malformed input."""

from __future__ import annotations

import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.advisories import FeedError
from ansible_collections.patchwise.patching.plugins.module_utils.feeds import parse_debian_tracker, parse_epss, parse_kev, parse_osv_record

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
KEV_SNAPSHOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'playbooks', 'files', 'feeds', 'cisa_kev_2025-08-25.json')


def _load(path):
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def _json(name):
    return _load(os.path.join(FIXTURES, name))


def test_osv_record():
    advisory, git_ranges = parse_osv_record(_json('osv/PW-2099-0001.json'), 'PW-2099-0001.json')
    assert git_ranges == 0
    assert advisory['id'] == 'PW-2099-0001'
    assert advisory['aliases'] == ['CVE-2099-0001']
    assert advisory['cvss'] == {'vector': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'score': 9.8}
    assert [(a['ecosystem'], a['package'], a['fixed']) for a in advisory['affected']] == [
        ('Debian:12', 'pw-demo-security', ['1.0-2']), ('Debian:11', 'pw-demo-security', ['1.0-2'])]


@pytest.mark.parametrize(
    'mutate, message',
    [
        (lambda r: r.pop('id'), 'required field "id"'),
        (lambda r: r.pop('modified'), 'required field "modified"'),
        (lambda r: r['affected'][0].pop('package'), r'affected\[0\] needs package'),
        (lambda r: r['affected'][0]['package'].update(ecosystem='Nonesuch'), 'unknown ecosystem'),
        (lambda r: r['affected'][0]['ranges'][0]['events'].append({'fixed': '1.0 2'}), 'fixed event'),
        (lambda r: r['affected'][0]['ranges'][0].update(type='BOGUS'), 'unknown range type'),
        (lambda r: r['severity'][0].update(score='CVSS:3.1/AV:Q'), 'CVSS vector'),
    ],
)
def test_osv_errors_name_source_and_record(mutate, message):
    record = _json('osv/PW-2099-0001.json')
    mutate(record)
    with pytest.raises(FeedError, match=message) as excinfo:
        parse_osv_record(record, 'some/file.json')
    assert 'some/file.json' in str(excinfo.value)


@pytest.mark.parametrize(
    'event, got',
    [
        ({'introduced': '0', 'fixed': '1.2'}, 'fixed, introduced'),
        ({'fixed': '1.2', 'note': 'backport'}, 'fixed, note'),
        ({'withdrawn': '1.2'}, 'withdrawn'),
        ({}, 'nothing'),
        ('1.2', 'a str'),
    ],
)
def test_an_osv_event_needs_exactly_one_kind(event, got):
    # Two kinds in one event have no OSV meaning; the fast path would read only one of them.
    record = {'id': 'X-2', 'modified': '2099-01-01T00:00:00Z', 'affected': [{
        'package': {'ecosystem': 'PyPI', 'name': 'x'},
        'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '1.0'}, event]}]}]}
    with pytest.raises(FeedError) as excinfo:
        parse_osv_record(record, 'x.json')
    assert str(excinfo.value) == ('x.json: record X-2: affected[0].ranges[0].events[1]: an event must have exactly one of '
                                  'introduced, fixed, last_affected, limit; got %s' % got)


def test_osv_git_ranges_are_counted():
    record = {'id': 'X-1', 'modified': '2099-01-01T00:00:00Z', 'affected': [{
        'package': {'ecosystem': 'PyPI', 'name': 'x'},
        'ranges': [{'type': 'GIT', 'repo': 'https://example.invalid/x', 'events': [{'introduced': '0'}]},
                   {'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}]}]}]}
    advisory, git_ranges = parse_osv_record(record, 'x.json')
    assert git_ranges == 1
    assert advisory['affected'][0]['ranges'] == [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}]}]


def test_debian_tracker():
    advisories = {a['id']: a for a in parse_debian_tracker(_json('debian-tracker.json'), 'tracker.json')}
    resolved = {(e['ecosystem'], e['status']): e for e in advisories['CVE-2099-0001']['affected']}
    assert set(resolved) == {('Debian:12', 'resolved'), ('Debian:11', 'resolved'), ('Debian:13', 'not-affected')}
    assert resolved[('Debian:12', 'resolved')]['fixed'] == ['1.0-2']
    assert resolved[('Debian:12', 'resolved')]['urgency'] == 'high'
    assert resolved[('Debian:13', 'not-affected')]['ranges'] == []
    unimportant = advisories['CVE-2099-0003']['affected'][0]
    assert (unimportant['status'], unimportant['urgency'], unimportant['fixed']) == ('open', 'unimportant', [])
    assert advisories['CVE-2099-0004']['affected'][0]['status'] == 'no-dsa'


def test_debian_tracker_errors():
    with pytest.raises(FeedError, match=r'tracker.json: pkg/CVE-2099-1: "releases" is missing'):
        parse_debian_tracker({'pkg': {'CVE-2099-1': {}}}, 'tracker.json')
    with pytest.raises(FeedError, match='invalid deb version'):
        parse_debian_tracker({'pkg': {'CVE-2099-1': {'releases': {'bookworm': {'status': 'resolved', 'fixed_version': '1:'}}}}}, 't')


def test_real_kev_snapshot_loads_completely():
    catalog = parse_kev(_load(KEV_SNAPSHOT), 'kev.json')
    assert catalog['version'] == '2025.08.25'
    assert len(catalog['entries']) == 1404
    assert catalog['entries']['CVE-2021-44228'] == {
        'added': '2021-12-10', 'due': '2021-12-24', 'ransomware': 'Known', 'vendor': 'Apache', 'product': 'Log4j2',
        'name': 'Apache Log4j2 Remote Code Execution Vulnerability'}


def test_kev_errors():
    with pytest.raises(FeedError, match='not a CISA KEV catalog'):
        parse_kev({'foo': []}, 'kev.json')
    with pytest.raises(FeedError, match=r'vulnerabilities\[0\]'):
        parse_kev({'vulnerabilities': [{'cveID': 'nope'}]}, 'kev.json')


def test_epss():
    with open(os.path.join(FIXTURES, 'epss.csv'), encoding='utf-8') as handle:
        scores = parse_epss(handle.read(), 'epss.csv')
    assert scores['model_version'] == 'v2025.03.14'
    assert scores['score_date'] == '2026-11-01T12:55:00+0000'
    assert scores['entries']['CVE-2021-44228'] == (0.94358, 0.99986)


@pytest.mark.parametrize('text, message', [
    ('cve,score\n', 'expected the EPSS header'),
    ('cve,epss,percentile\nCVE-2099-1,high,0.5\n', 'line 2'),
    ('#model_version:v1,score_date:x\ncve,epss,percentile\nCVE-2099-1,1.5,0.5\n', 'line 3: invalid EPSS row'),
])
def test_epss_errors(text, message):
    with pytest.raises(FeedError, match=message):
        parse_epss(text, 'epss.csv')


def _cve5(**containers):
    return {'dataType': 'CVE_RECORD', 'dataVersion': '5.1', 'cveMetadata': {'cveId': 'CVE-2099-0100', 'state': 'PUBLISHED'},
            'containers': containers}


def test_cve5_cna_cvss_and_vulnrichment_options():
    from ansible_collections.patchwise.patching.plugins.module_utils.feeds import parse_cve5_record

    record = _cve5(
        cna={'metrics': [{'cvssV4_0': {'vectorString': 'CVSS:4.0/AV:N'}}, {'cvssV3_1': {'vectorString': 'CVSS:3.1/AV:N/AC:L', 'baseScore': 7.5}}]},
        adp=[{'providerMetadata': {'shortName': 'CISA-ADP'},
              'metrics': [{'cvssV3_1': {'vectorString': 'CVSS:3.1/AV:L', 'baseScore': 1.0}},
                          {'other': {'type': 'ssvc', 'content': {'options': [{'Exploitation': 'PoC'}, {'Automatable': 'no'},
                                                                             {'Technical Impact': 'partial'}, {'Other': 'x'}]}}}]}])
    assert parse_cve5_record(record, 'r.json') == {
        'cve': 'CVE-2099-0100', 'cvss': {'vector': 'CVSS:3.1/AV:N/AC:L', 'score': 7.5},
        'ssvc': {'exploitation': 'poc', 'automatable': 'no', 'technical impact': 'partial'}}


def test_cve5_adp_cvss_when_the_cna_has_none_and_rejected_records():
    from ansible_collections.patchwise.patching.plugins.module_utils.feeds import parse_cve5_record

    record = _cve5(cna={}, adp=[{'metrics': [{'cvssV3_0': {'vectorString': 'CVSS:3.0/AV:N', 'baseScore': 5.3}}]}])
    assert parse_cve5_record(record, 'r.json') == {'cve': 'CVE-2099-0100', 'cvss': {'vector': 'CVSS:3.0/AV:N', 'score': 5.3}, 'ssvc': None}
    rejected = dict(record, cveMetadata={'cveId': 'CVE-2099-0100', 'state': 'REJECTED'})
    assert parse_cve5_record(rejected, 'r.json') is None


@pytest.mark.parametrize(('record', 'message'), [
    ({'dataType': 'CVE_RECORD_X'}, 'not a CVE JSON 5 record'),
    ({'dataType': 'CVE_RECORD', 'cveMetadata': {'cveId': 'GHSA-1'}}, "cveMetadata.cveId 'GHSA-1' is not a CVE id"),
])
def test_cve5_bad_records(record, message):
    from ansible_collections.patchwise.patching.plugins.module_utils.feeds import parse_cve5_record

    with pytest.raises(FeedError, match=message):
        parse_cve5_record(record, 'r.json')

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""record_findings reads a record's match view: the same findings from the record and from its stored (JSON) view."""

from __future__ import annotations

import json

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_findings import is_match_view, match_view, record_findings
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record


class Advisories:
    """Matches by package name, as AdvisoryDB.match does for (package, version) keys; counts the keys asked."""

    def __init__(self, matches):
        self.matches = matches
        self.asked = []

    def match(self, ecosystem, packages):
        self.asked.extend(packages)
        return {(name, version): [dict(m, ecosystem=ecosystem, package=name, installed=version) for m in self.matches.get(name, [])]
                for name, version in packages}


def _match(advisory_id, fixed=('9.9-1',)):
    return {'id': advisory_id, 'aliases': [], 'summary': 's', 'source': 'debian', 'fixed': list(fixed), 'status': 'resolved',
            'urgency': 'high', 'cvss': None, 'kev': None, 'epss': None}


def _package(name, version, source=None, source_version=None, **extra):
    return dict({'name': name, 'version': version, 'arch': 'amd64', 'source_name': source or name,
                 'source_version': source_version or version}, **extra)


def _stored(view):
    return json.loads(json.dumps(view))


PACKAGES = [
    _package('openssl', '3.0.14-1'), _package('libssl3', '3.0.14-1', 'openssl'),
    # The same binary name under two source versions (multi-arch): held under one of them only.
    _package('libfoo1', '1.0-1', 'foo', held=True), _package('libfoo1', '1.0-2', 'foo'),
    # Names and versions that need escaping in the view's tab/newline text.
    _package('odd\tname', '1.0\\x', 'odd\tname'), _package('new\nline', '2.0-1', 'new\nline'),
    _package('bash', '5.2.15-2+b7', 'bash', '5.2.15-2'),
]
UPDATES = [
    {'name': 'libssl3', 'current': '3.0.14-1', 'available': '3.0.15-1', 'security': True, 'origin': 'Debian-Security'},
    {'name': 'bash', 'current': '5.2.15-2+b7', 'available': '5.2.15-3', 'security': True, 'origin': 'Debian-Security'},
    {'name': 'curl', 'current': '7.88-1', 'available': '7.88-2', 'security': False, 'origin': 'Debian'},
]
APPS = [{'name': 'django', 'version': '4.2.0', 'ecosystem': 'PyPI', 'path': '/srv', 'source': 'pip'},
        {'name': 'mine', 'version': '1', 'ecosystem': 'generic', 'path': '/opt', 'source': 'declared'}]
MATCHES = {'openssl': [_match('CVE-2099-0001'), _match('CVE-2099-0002', fixed=())], 'foo': [_match('CVE-2099-0003')],
           'odd\tname': [_match('CVE-2099-0004')], 'new\nline': [_match('CVE-2099-0005')], 'django': [_match('GHSA-x', fixed=('4.2.1',))]}


@pytest.mark.parametrize('rec', [
    record(packages=PACKAGES, updates=UPDATES, applications=APPS),
    record(packages=PACKAGES, updates=[], applications=[]),
    record(os=dict(record()['os'], pkg_mgr='dnf', ecosystem='Rocky Linux:9'), packages=[_package('openssl', '3.0.7-1.el9')]),
    record(os=dict(record()['os'], ecosystem=None), packages=PACKAGES),
    record(os=dict(record()['os'], ecosystem='Plan9:4'), packages=PACKAGES),
    record(packages=[], updates=UPDATES),
], ids=['apt', 'apt-no-updates', 'rpm', 'no-ecosystem', 'unknown-ecosystem', 'no-packages'])
def test_stored_view_gives_the_findings_of_the_record(rec):
    view = _stored(match_view(rec))
    assert is_match_view(view) and not is_match_view(rec)
    assert record_findings(view, Advisories(MATCHES)) == record_findings(rec, Advisories(MATCHES))


def test_view_findings_group_binaries_hold_per_key_and_unescape_names():
    findings, skipped = record_findings(_stored(match_view(record(packages=PACKAGES, updates=UPDATES, applications=APPS))),
                                        Advisories(MATCHES))
    assert skipped == []
    by_key = {(f['id'], f['package'], f['installed']): f for f in findings}
    openssl = by_key[('CVE-2099-0002', 'openssl', '3.0.14-1')]
    # The advisory names no fix: the pending security update is the candidate, never the fix.
    assert openssl['binary_packages'] == ['libssl3', 'openssl'] and openssl['fixed'] is None and openssl['candidate'] == '3.0.15-1'
    assert [u['name'] for u in openssl['distribution_security_update']] == ['libssl3']
    # CVE-2099-0001 has a fix, so the update is no unnamed security fix: no security-update:openssl finding.
    assert ('security-update:openssl', 'openssl', '3.0.14-1') not in by_key
    # libfoo1 is held under foo 1.0-1; both keys match, so the hold shows on both (as for the binaries of a key).
    assert by_key[('CVE-2099-0003', 'foo', '1.0-1')]['held_binaries'] == ['libfoo1']
    assert by_key[('CVE-2099-0003', 'foo', '1.0-2')]['held_binaries'] == ['libfoo1']
    assert by_key[('CVE-2099-0004', 'odd\tname', '1.0\\x')]['binary_packages'] == ['odd\tname']
    assert by_key[('CVE-2099-0005', 'new\nline', '2.0-1')]['binary_packages'] == ['new\nline']
    assert by_key[('GHSA-x', 'django', '4.2.0')]['kind'] == 'app'
    # bash's security update names no advisory: one finding for its source package; curl's update is not a security one.
    unnamed = by_key[('security-update:bash', 'bash', '5.2.15-2+b7')]
    assert unnamed['binary_packages'] == ['bash'] and unnamed['fixed'] == '5.2.15-3'
    assert not any(f['package'] == 'curl' for f in findings)


def test_hold_on_a_key_that_does_not_match_is_not_shown():
    packages = [_package('libfoo1', '1.0-1', 'foo', held=True), _package('libfoo1', '1.0-2', 'foo')]
    advisories = Advisories({})
    advisories.match = lambda ecosystem, keys: {(n, v): ([dict(_match('CVE-1'), package=n, installed=v, ecosystem=ecosystem)]
                                                         if v == '1.0-2' else []) for n, v in keys}
    finding, = record_findings(_stored(match_view(record(packages=packages, updates=[]))), advisories)[0]
    assert finding['installed'] == '1.0-2' and 'held_binaries' not in finding


def test_keys_are_matched_once_per_pass():
    advisories, cache = Advisories(MATCHES), {}
    first = record(packages=PACKAGES, updates=[])
    second = record('web02', packages=[*PACKAGES, _package('zlib1g', '1.2.13-1', 'zlib')], updates=[])
    record_findings(match_view(first), advisories, cache)
    asked = len(advisories.asked)
    findings, _skipped = record_findings(match_view(second), advisories, cache)
    assert advisories.asked[asked:] == [('zlib', '1.2.13-1')]
    assert len(findings) == len(record_findings(first, Advisories(MATCHES))[0])


def test_a_version_that_is_not_text_is_refused_by_name():
    with pytest.raises(ValueError, match=r'not a string'):
        match_view(record(packages=[_package('openssl', 1.5)]))

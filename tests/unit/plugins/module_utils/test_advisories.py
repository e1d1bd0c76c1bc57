"""osv_affected follows the OSV schema's evaluation rules."""

from __future__ import annotations

import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.advisories import (
    FeedError,
    fixed_versions,
    normalize_package_name,
    osv_affected,
    osv_aliases,
    package_name_normalizer,
    range_affects,
)

ECOSYSTEMS = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'fixtures', 'ecosystems')


def _record(events, ecosystem='PyPI', name='demo', versions=None, kind='ECOSYSTEM'):
    return {
        'id': 'TEST-1',
        'modified': '2099-01-01T00:00:00Z',
        'affected': [{
            'package': {'ecosystem': ecosystem, 'name': name},
            'ranges': [{'type': kind, 'events': events}],
            'versions': versions or [],
        }],
    }


@pytest.mark.parametrize(
    'events, version, expected',
    [
        ([{'introduced': '0'}, {'fixed': '1.5'}], '1.4', True),
        ([{'introduced': '0'}, {'fixed': '1.5'}], '1.5', False),
        ([{'introduced': '0'}, {'fixed': '1.5'}], '0.0.1', True),
        ([{'introduced': '1.0'}, {'fixed': '1.5'}], '0.9', False),
        ([{'introduced': '1.0'}, {'last_affected': '1.5'}], '1.5', True),
        ([{'introduced': '1.0'}, {'last_affected': '1.5'}], '1.5.1', False),
        # Two intervals in one range; events given out of order are sorted first.
        ([{'fixed': '2.3'}, {'introduced': '2.0'}, {'fixed': '1.2'}, {'introduced': '1.0'}], '1.5', False),
        ([{'fixed': '2.3'}, {'introduced': '2.0'}, {'fixed': '1.2'}, {'introduced': '1.0'}], '2.1', True),
        ([{'fixed': '2.3'}, {'introduced': '2.0'}, {'fixed': '1.2'}, {'introduced': '1.0'}], '1.1', True),
        # limit: versions at or above it are outside the range.
        ([{'introduced': '0'}, {'limit': '3.0'}], '2.9', True),
        ([{'introduced': '0'}, {'limit': '3.0'}], '3.0', False),
        ([{'introduced': '0'}, {'limit': '*'}], '99', True),
        # introduced only: every later version is affected (no fix yet).
        ([{'introduced': '1.0'}], '9.9', True),
        ([{'introduced': '1.0rc1'}, {'fixed': '1.0'}], '1.0rc2', True),
    ],
)
def test_pypi_ranges(events, version, expected):
    assert osv_affected(_record(events), 'PyPI', 'demo', version) is expected


def test_debian_ranges_use_dpkg_order():
    record = _record([{'introduced': '0'}, {'fixed': '3.0.11-1~deb12u2'}], ecosystem='Debian:12', name='openssl')
    assert osv_affected(record, 'Debian:12', 'openssl', '3.0.11-1~deb12u1')
    assert not osv_affected(record, 'Debian:12', 'openssl', '3.0.11-1~deb12u2')
    assert not osv_affected(record, 'Debian:12', 'openssl', '3.0.11-1')   # 3.0.11-1 > 3.0.11-1~deb12u2
    assert not osv_affected(record, 'Debian:11', 'openssl', '1.0')        # another release
    assert not osv_affected(record, 'Debian:12', 'libssl3', '1.0')        # another package


def test_unversioned_ecosystem_covers_every_release():
    record = _record([{'introduced': '0'}, {'fixed': '2.0'}], ecosystem='Debian', name='pkg')
    assert osv_affected(record, 'Debian:12', 'pkg', '1.0')


def test_semver_range_with_v_prefix():
    record = _record([{'introduced': '0'}, {'fixed': '1.20.3'}], ecosystem='Go', name='example.com/mod', kind='SEMVER')
    assert osv_affected(record, 'Go', 'example.com/mod', 'v1.20.2')
    assert not osv_affected(record, 'Go', 'example.com/mod', 'v1.20.3')


def test_versions_list_is_honoured_without_ranges():
    record = _record([], versions=['1.2.3'])
    assert osv_affected(record, 'PyPI', 'demo', '1.2.3')
    assert not osv_affected(record, 'PyPI', 'demo', '1.2.4')


def test_pypi_names_are_normalized():
    record = _record([{'introduced': '0'}], name='Demo_Lib')
    assert osv_affected(record, 'PyPI', 'demo-lib', '1.0')


def test_git_ranges_are_not_evaluated():
    record = _record([{'introduced': '0'}, {'fixed': 'abc123'}], kind='GIT')
    assert not osv_affected(record, 'PyPI', 'demo', '1.0')


def test_unknown_ecosystem_raises():
    with pytest.raises(ValueError, match='unknown ecosystem'):
        osv_affected(_record([{'introduced': '0'}]), 'Nonesuch', 'demo', '1.0')


def test_unparsable_version_in_range_names_record():
    with pytest.raises(FeedError, match='TEST-1'):
        osv_affected(_record([{'introduced': '0'}, {'fixed': 'not a version!'}]), 'PyPI', 'demo', '1.0')


def test_malformed_event_names_record():
    with pytest.raises(FeedError, match='TEST-1'):
        range_affects([{'introduced': '0', 'fixed': '1'}], '1.0', 'pep440', 'TEST-1')


def test_an_event_with_two_kinds_is_refused_when_evaluated():
    with pytest.raises(FeedError) as excinfo:
        range_affects([{'introduced': '0', 'fixed': '1.2'}], '1.2', 'pep440', 'TEST-1')
    assert str(excinfo.value) == 'TEST-1: an event must have exactly one of introduced, fixed, last_affected, limit; got fixed, introduced'


def test_fixed_versions():
    ranges = [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}, {'fixed': '1.2'}, {'introduced': '2.0'}, {'fixed': '2.1'}]}]
    assert fixed_versions(ranges) == ['1.2', '2.1']


@pytest.mark.parametrize('path, aliases', [
    ('debian/osv/DLA-3022-1.json', ['CVE-2022-1664', 'DEBIAN-CVE-2022-1664']),                  # upstream only
    ('alpine/osv/ALPINE-CVE-2025-26519.json', ['CVE-2025-26519']),                             # upstream only
    ('ubuntu/osv/USN-8697-1.json', ['CVE-2025-5278', 'CVE-2026-56391', 'UBUNTU-CVE-2025-5278', 'UBUNTU-CVE-2026-56391']),
    ('ubuntu/osv/CVE-2024-2236.json', []),                                                     # the id is the CVE
    ('almalinux/osv/ALSA-2023-0340.json', ['CVE-2022-3715']),                                  # aliases
    ('almalinux/osv/ALSA-2023-5838.json', ['CVE-2023-44487']),                                 # related, no other CVE
    ('suse/osv/openSUSE-SU-2016-1623-1.json', ['CVE-2016-1704']),                              # related, no other CVE
])
def test_aliases_of_real_distribution_records(path, aliases):
    """Upstream ids count as aliases; related CVEs only when the record names no CVE otherwise (USN-8697-1's related
    UBUNTU-CVE ids are already in upstream)."""
    with open(os.path.join(ECOSYSTEMS, path), encoding='utf-8') as handle:
        assert osv_aliases(json.load(handle)) == aliases


def test_related_cves_of_a_record_with_a_cve_are_not_its_aliases():
    assert osv_aliases({'id': 'GHSA-x', 'aliases': ['CVE-2099-0001', 'CVE-2099-0001'], 'related': ['CVE-2099-0002']}) == ['CVE-2099-0001']
    assert osv_aliases({'id': 'CVE-2099-0003', 'related': ['CVE-2099-0004'], 'upstream': ['CVE-2099-0003']}) == []


def test_pypi_names_compare_after_pep_503_normalization_and_other_ecosystems_exactly():
    assert normalize_package_name('PyPI', 'Zope.Interface__x') == 'zope-interface-x'
    assert package_name_normalizer('PyPI')('Foo_Bar') == 'foo-bar'
    assert normalize_package_name('Debian:12', 'Foo_Bar.x') == 'Foo_Bar.x'
    assert package_name_normalizer('Debian:12') is None and package_name_normalizer('npm') is None

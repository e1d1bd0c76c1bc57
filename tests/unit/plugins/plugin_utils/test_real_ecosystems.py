# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real OSV records of each distribution family against the real package list of an image of it.

The records and package manifests, their sources and licences are in
tests/unit/plugins/fixtures/ecosystems/<family>/README.md.  The expected
findings below were written by hand from those files: for each record, the
entry of the image's release, the installed version of the package it names,
and the first fix above it.
"""

from __future__ import annotations

import datetime
import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.feeds import parse_osv_record
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskEngine
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.repo_info_manifests import FIXTURES, manifest_record

PLAYBOOK_FILES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'playbooks', 'files')
KEV = os.path.join(PLAYBOOK_FILES, 'feeds', 'cisa_kev_2025-08-25.json')
TODAY = datetime.date(2026, 12, 1)

# family, manifest, the os-release of the image's release (written by hand: repo-info does not list it),
# expected findings: (id, package, installed, fixed, binary packages).
TABLE = [
    ('debian', 'debian-stretch-slim.md',
     {'ID': 'debian', 'NAME': 'Debian GNU/Linux', 'VERSION_ID': '9', 'VERSION_CODENAME': 'stretch'},
     # DLA-3008-1 (openssl) and DLA-3012-1 (libxml2) name sources the slim image does not have.
     [('DLA-3022-1', 'dpkg', '1.18.25', '1.18.26', ['dpkg']),
      ('DLA-3051-1', 'tzdata', '2021a-0+deb9u1', '2021a-0+deb9u4', ['tzdata'])]),
    ('ubuntu', 'ubuntu-jammy-20260627.md',
     {'ID': 'ubuntu', 'ID_LIKE': 'debian', 'NAME': 'Ubuntu', 'VERSION_ID': '22.04', 'VERSION': '22.04.5 LTS (Jammy Jellyfish)',
      'VERSION_CODENAME': 'jammy'},
     # CVE-2024-2236 has no fix for 22.04: open, fixed null.  CVE-2024-22365 was fixed in pam 1.4.0-11ubuntu2.4,
     # older than the image's 1.4.0-11ubuntu2.6.  USN-8847-1 names the source openssl; the image has its binary libssl3.
     [('CVE-2024-2236', 'libgcrypt20', '1.9.4-3ubuntu3.2', None, ['libgcrypt20']),
      ('USN-8697-1', 'coreutils', '8.32-4.1ubuntu1.3', '8.32-4.1ubuntu1.4', ['coreutils']),
      ('USN-8847-1', 'openssl', '3.0.2-0ubuntu1.25', '3.0.2-0ubuntu1.30', ['libssl3'])]),
    ('almalinux', 'almalinux-9.1-20221201.md',
     {'ID': 'almalinux', 'ID_LIKE': 'rhel centos fedora', 'NAME': 'AlmaLinux', 'VERSION_ID': '9.1'},
     # AlmaLinux names binary RPMs: krb5-libs (source krb5) is found only by its binary name.  ALSA-2022:8637 names
     # krb5-devel only; ALSA-2023:0953 names no RPM the image has; ALSA-2026:19372 is the nginx:1.26 module stream.
     [('ALSA-2023:0340', 'bash', '5.1.8-5.el9', '5.1.8-6.el9_1', ['bash']),
      ('ALSA-2023:2570', 'krb5-libs', '1.19.1-24.el9_1', '1.20.1-8.el9', ['krb5-libs']),
      ('ALSA-2023:5838', 'libnghttp2', '1.43.0-5.el9', '1.43.0-5.el9_2.1', ['libnghttp2'])]),
    ('alpine', 'alpine-3.20.1.md',
     {'ID': 'alpine', 'NAME': 'Alpine Linux', 'VERSION_ID': '3.20.1', 'PRETTY_NAME': 'Alpine Linux v3.20'},
     # The Alpine:v3.20 entry: fixed in 1.2.5-r1.  musl-utils has origin musl, but the manifest lists no origins.
     [('ALPINE-CVE-2025-26519', 'musl', '1.2.5-r0', '1.2.5-r1', ['musl'])]),
]


def _built(tmp_path, family, *extra_feeds):
    path = str(tmp_path / ('%s.sqlite' % family))
    build(path, [{'type': 'osv', 'src': os.path.join(FIXTURES, family, 'osv')}, *extra_feeds])
    return AdvisoryDB(path)


@pytest.mark.parametrize('family, manifest, os_release, expected', TABLE, ids=[row[0] for row in TABLE])
def test_real_records_against_a_real_package_list(tmp_path, family, manifest, os_release, expected):
    advisories = _built(tmp_path, family)
    try:
        record = manifest_record(os.path.join(FIXTURES, family, manifest), os_release, '%s-image' % family)
        result = RiskEngine(load_policy({}), advisories, today=TODAY).classify('%s-image' % family, record)
    finally:
        advisories.close()
    found = sorted((f['id'], f['package'], f['installed'], f['fixed'], f['binary_packages']) for f in result['findings'])
    assert (result['skipped'], found) == ([], sorted(expected))
    assert result['tier'] != 'none'


def test_the_cves_of_distribution_records_reach_kev(tmp_path):
    """AlmaLinux names the CVE of ALSA-2023:5838 in related, Debian that of DLA-3022-1 in upstream: KEV and the ids find them."""
    advisories = _built(tmp_path, 'almalinux', {'type': 'kev', 'src': KEV})
    try:
        found = advisories.match('AlmaLinux:9', [('libnghttp2', '1.43.0-5.el9')])[('libnghttp2', '1.43.0-5.el9')]
    finally:
        advisories.close()
    assert [(m['id'], m['aliases'], m['kev']['cve']) for m in found] == [('ALSA-2023:5838', ['CVE-2023-44487'], 'CVE-2023-44487')]
    with open(os.path.join(FIXTURES, 'debian', 'osv', 'DLA-3022-1.json'), encoding='utf-8') as handle:
        advisory, _git = parse_osv_record(json.load(handle), 'DLA-3022-1.json')
    assert advisory['aliases'] == ['CVE-2022-1664', 'DEBIAN-CVE-2022-1664']


def test_a_record_that_names_a_package_twice_gives_one_finding(tmp_path):
    """ALSA-2022:8637 names krb5-devel twice; a host with the krb5-devel it fixes has one finding of it (and one of ALSA-2023:2570)."""
    advisories = _built(tmp_path, 'almalinux')
    try:
        found = advisories.match('AlmaLinux:9', [('krb5-devel', '1.19.1-22.el9')])[('krb5-devel', '1.19.1-22.el9')]
    finally:
        advisories.close()
    assert sorted((m['id'], m['fixed']) for m in found) == [('ALSA-2022:8637', ['1.19.1-24.el9_1']), ('ALSA-2023:2570', ['1.20.1-8.el9'])]


def test_suse_record_is_read_with_its_binaries_and_cve():
    """No real SUSE package list was found to match it against: the record is read, its CVE (in related) kept."""
    with open(os.path.join(FIXTURES, 'suse', 'osv', 'openSUSE-SU-2016-1623-1.json'), encoding='utf-8') as handle:
        advisory, _git = parse_osv_record(json.load(handle), 'openSUSE-SU-2016-1623-1.json')
    assert advisory['aliases'] == ['CVE-2016-1704']
    assert [(e['ecosystem'], e['package'], e['fixed']) for e in advisory['affected']] == [
        ('SUSE:Package Hub 12', 'chromium', ['51.0.2704.103-85.3']), ('SUSE:Package Hub 12', 'imlib2', ['1.4.5-5.1']),
        ('SUSE:Package Hub 12', 'mosh', ['1.2.5-8.1']), ('SUSE:Package Hub 12', 'ninja', ['1.5.3-4.1']),
        ('SUSE:Package Hub 12', 'perl-Switch', ['2.17-4.1']), ('SUSE:Package Hub 12', 'protobuf', ['2.5.0-2.1'])]


@pytest.mark.parametrize('host, family, collected_at', [
    ('ubuntu-2204', 'ubuntu', '2026-06-29T11:07:32Z'), ('almalinux-9', 'almalinux', '2022-12-01T23:20:25Z'),
    ('alpine-320', 'alpine', '2024-06-20T20:16:58Z'),
])
def test_example_host_records_are_the_real_package_lists(host, family, collected_at):
    """playbooks/examples_other_distributions.yml stores these records: each is its image's manifest, collected when the image was built."""
    _family, manifest, os_release, _expected = next(row for row in TABLE if row[0] == family)
    with open(os.path.join(PLAYBOOK_FILES, 'examples', 'hosts', '%s.json' % host), encoding='utf-8') as handle:
        stored = json.load(handle)
    assert stored == manifest_record(os.path.join(FIXTURES, family, manifest), os_release, host, collected_at=collected_at)

"""The updateinfo parser: one advisory per <update>, entries named as each ecosystem's advisories name packages."""

from __future__ import annotations

import io

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.advisories import FeedError
from ansible_collections.patchwise.patching.plugins.module_utils.updateinfo import ecosystem_of, iso_date, iter_updates, parse_update

# Shaped as Rocky Linux 9's BaseOS updateinfo writes an erratum (two binaries of one source RPM, two arches).
ERRATUM = """<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="releng@rockylinux.org" status="final" type="security" version="2">
    <id>RLSA-2024:0001</id>
    <title>Important: openssl security update</title>
    <issued date="2024-01-02 10:00:00"/>
    <updated date="2024-01-05 08:30:00"/>
    <severity>Important</severity>
    <references>
      <reference href="https://errata.rockylinux.org/RLSA-2024:0001" id="RLSA-2024:0001" type="self" title="RLSA-2024:0001"/>
      <reference href="https://access.redhat.com/security/cve/CVE-2023-5678" id="CVE-2023-5678" type="cve" title="CVE-2023-5678"/>
      <reference href="https://bugzilla.redhat.com/2248616" id="2248616" type="bugzilla" title="openssl: DoS"/>
    </references>
    <pkglist><collection short="rocky-linux-9-baseos"><name>Rocky Linux 9 BaseOS</name>
      <package name="openssl-libs" version="3.0.7" release="25.el9_3" epoch="1" arch="x86_64" src="openssl-3.0.7-25.el9_3.src.rpm">
        <filename>openssl-libs-3.0.7-25.el9_3.x86_64.rpm</filename></package>
      <package name="openssl-libs" version="3.0.7" release="25.el9_3" epoch="1" arch="i686" src="openssl-3.0.7-25.el9_3.src.rpm">
        <filename>openssl-libs-3.0.7-25.el9_3.i686.rpm</filename></package>
      <package name="openssl" version="3.0.7" release="25.el9_3" epoch="1" arch="x86_64" src="openssl-3.0.7-25.el9_3.src.rpm">
        <filename>openssl-3.0.7-25.el9_3.x86_64.rpm</filename></package>
    </collection></pkglist>
  </update>
  <update from="releng@rockylinux.org" status="final" type="bugfix" version="2">
    <id>RLBA-2024:0002</id>
    <title>tzdata bug fix update</title>
    <issued date="1706745600"/>
    <pkglist><collection short="x"><name>x</name>
      <package name="tzdata" version="2024a" release="1.el9" epoch="0" arch="noarch" src="tzdata-2024a-1.el9.src.rpm"><filename>t.rpm</filename></package>
    </collection></pkglist>
  </update>
</updates>
"""


def _updates(text=ERRATUM):
    return list(iter_updates(io.BytesIO(text.encode()), 'updateinfo.xml'))


def test_a_rocky_erratum_names_the_source_rpm_with_the_epoch_and_its_cves():
    advisory = parse_update(_updates()[0], 'updateinfo.xml')
    assert advisory == {
        'id': 'RLSA-2024:0001', 'aliases': ['CVE-2023-5678'], 'summary': 'Important: openssl security update',
        'published': '2024-01-02T10:00:00Z', 'modified': '2024-01-05T08:30:00Z', 'cvss': None,
        'references': ['https://errata.rockylinux.org/RLSA-2024:0001', 'https://access.redhat.com/security/cve/CVE-2023-5678',
                       'https://bugzilla.redhat.com/2248616'],
        'source': 'updateinfo', 'type': 'security', 'severity': 'Important',
        'affected': [{'ecosystem': 'Rocky Linux:9', 'package': 'openssl', 'versions': [], 'fixed': ['1:3.0.7-25.el9_3'],
                      'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}, {'fixed': '1:3.0.7-25.el9_3'}]}],
                      'status': None, 'urgency': 'Important'}],
    }


def test_almalinux_entries_name_the_binary_rpms():
    advisory = parse_update(_updates()[0], 'updateinfo.xml', ecosystem='AlmaLinux:9')
    assert [(entry['ecosystem'], entry['package'], entry['fixed']) for entry in advisory['affected']] == [
        ('AlmaLinux:9', 'openssl-libs', ['1:3.0.7-25.el9_3']), ('AlmaLinux:9', 'openssl', ['1:3.0.7-25.el9_3'])]


def test_red_hat_entries_name_the_source_rpm_and_a_source_package_is_its_own_name():
    text = ERRATUM.replace('RLSA-2024:0001', 'RHSA-2024:0001').replace(
        '<package name="openssl" version="3.0.7" release="25.el9_3" epoch="1" arch="x86_64" src="openssl-3.0.7-25.el9_3.src.rpm">',
        '<package name="openssl" version="3.0.7" release="25.el9_3" epoch="1" arch="src">')
    advisory = parse_update(_updates(text)[0], 'updateinfo.xml')
    assert [(entry['ecosystem'], entry['package']) for entry in advisory['affected']] == [('Red Hat:enterprise_linux:9', 'openssl')]


def test_a_bugfix_update_is_read_with_its_epoch_seconds_date():
    advisory = parse_update(_updates()[1], 'updateinfo.xml')
    assert (advisory['type'], advisory['published'], advisory['modified'], advisory['severity']) == (
        'bugfix', '2024-02-01T00:00:00Z', '2024-02-01T00:00:00Z', None)


@pytest.mark.parametrize(('advisory_id', 'releases', 'expected'), [
    ('ALSA-2023:2570', ['7.el8_7', '7.el8_7'], 'AlmaLinux:8'),
    ('RLSA-2024:0001', ['1.module+el9.3.0+15+b2b3a2f1'], 'Rocky Linux:9'),
    ('RHBA-2024:0002', ['1.el9'], 'Red Hat:enterprise_linux:9'),
    ('PWSA-2026:0001', ['2.el9'], None),
    ('ALSA-2023:2570', ['1.el8', '1.el9'], None),
    ('ALSA-2023:2570', ['1'], None),
])
def test_the_ecosystem_from_the_id_and_the_releases(advisory_id, releases, expected):
    assert ecosystem_of(advisory_id, releases) == expected


def test_an_update_whose_ecosystem_cannot_be_told_asks_for_one():
    text = ERRATUM.replace('RLSA-2024:0001', 'PWSA-2024:0001')
    with pytest.raises(FeedError, match=r'update PWSA-2024:0001: its ecosystem cannot be told .* give the feed an ecosystem'):
        parse_update(_updates(text)[0], 'updateinfo.xml')


@pytest.mark.parametrize(('text', 'message'), [
    (ERRATUM.replace('release="25.el9_3" epoch="1" arch="i686"', 'release="" epoch="1" arch="i686"'), 'needs name, version and release'),
    (ERRATUM.replace('version="3.0.7" release="25.el9_3" epoch="1" arch="i686"', 'version="3.0.7" release="25.el9_3" epoch="x" arch="i686"'),
     'package openssl'),
    (ERRATUM.replace('2024-01-05 08:30:00', 'yesterday'), r'<updated date>'),
    (ERRATUM.replace('<id>RLSA-2024:0001</id>', ''), 'without an <id>'),
])
def test_bad_updates_are_named(text, message):
    with pytest.raises(FeedError, match=message):
        parse_update(_updates(text)[0], 'updateinfo.xml')


def test_a_document_that_is_not_updateinfo_or_not_xml_is_refused():
    with pytest.raises(FeedError, match=r'not an updateinfo document \(its root element is <repomd>'):
        _updates('<repomd><data/></repomd>')
    with pytest.raises(FeedError, match='not valid XML'):
        _updates('<updates><update>')


@pytest.mark.parametrize(('text', 'expected'), [
    ('2026-11-01 00:00:00', '2026-11-01T00:00:00Z'), ('2026-11-01', '2026-11-01T00:00:00Z'),
    ('2026-11-01 12:30', '2026-11-01T12:30:00Z'), ('1706745600', '2024-02-01T00:00:00Z'), ('2026-11-01 00:00:00 UTC', '2026-11-01T00:00:00Z'),
])
def test_dates(text, expected):
    assert iso_date(text) == expected

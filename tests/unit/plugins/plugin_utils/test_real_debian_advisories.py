# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exact matching against Debian's real advisories: the tracker's DSA and DLA lists, a digest of the advisories
published after them, and real per-CVE statuses (tests/unit/plugins/fixtures/debian_advisories/README.md).

The lists become the tracker's JSON for bookworm (debian_tracker_lists.py), the collection builds its advisory
database from that JSON as from the tracker's own, and two Debian 12 hosts are assessed:

- ``bookworm-2026-07`` has the source versions of the bookworm suite of 2026-07-11 (bookworm-source-versions.tsv):
  every DSA of its packages is already in them, so only what the tracker leaves open remains - the ``<no-dsa>``,
  ``<ignored>`` and ``<unfixed>`` entries, without a fixed version;
- ``bookworm-2023-08`` runs curl, glibc and expat at versions bookworm had in August 2023 (the fixes of DSA-5460-1
  and DSA-5514-1, and the release's expat): the later DSAs of those packages apply, each CVE fixed in the version of
  the first advisory that fixed it.

The expected findings below were written from the list files by hand.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskEngine
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils import debian_tracker_lists as lists
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

DATA = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'debian_advisories')
TODAY = datetime.date(2026, 12, 1)
RELEASE = 'bookworm'

# Binary packages of each source package, as Debian 12 names them (one or two per source, enough to match).
BINARIES = {
    'apt': ['apt', 'libapt-pkg6.0'], 'coreutils': ['coreutils'], 'curl': ['curl', 'libcurl4'], 'expat': ['libexpat1'],
    'gcc-11': ['gcc-11-base'], 'gcc-12': ['gcc-12-base', 'libgcc-s1'], 'glibc': ['libc6', 'libc-bin'], 'gnupg2': ['gpgv'],
    'krb5': ['libkrb5-3', 'libgssapi-krb5-2'], 'libgcrypt20': ['libgcrypt20'], 'libxmltok': ['libxmltok1'],
    'minizip': ['libminizip1'], 'ncurses': ['libncursesw6', 'ncurses-base'], 'pam': ['libpam-modules', 'libpam0g'],
    'perl': ['perl-base'], 'shadow': ['passwd', 'login'], 'systemd': ['systemd', 'libsystemd0'], 'tar': ['tar'],
    'util-linux': ['util-linux', 'libblkid1'], 'zlib': ['zlib1g'],
}


def _read(name):
    with open(os.path.join(DATA, name), encoding='utf-8') as handle:
        return handle.read()


def _tracker_json(path, packages):
    versions = lists.release_versions(_read('bookworm-source-versions.tsv'), RELEASE)
    fixes = (lists.advisory_fixes(_read('DSA-list.2025-02-13.txt'), RELEASE) + lists.advisory_fixes(_read('DLA-list.2025-02-13.txt'), RELEASE)
             + lists.digest_fixes(_read('readme-entries.jsonl').splitlines(), RELEASE))
    statuses = lists.cve_list_statuses(_read('vuln-list-debian-sample.list'), RELEASE, versions)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(lists.tracker_json(RELEASE, fixes, statuses, set(packages)), handle)


def _host(name, sources):
    packages = [{'name': binary, 'version': version, 'arch': 'amd64', 'source_name': source, 'source_version': version}
                for source, version in sorted(sources.items()) for binary in BINARIES[source]]
    return record(name, packages=packages, updates=[], collected_at='2026-11-30T10:00:00Z')


def _findings(tmp_path, name, sources):
    tracker = tmp_path / 'debian-tracker.json'
    _tracker_json(tracker, sources)
    path = str(tmp_path / 'advisories.db')
    build(path, [{'type': 'debian', 'src': str(tracker)}])
    advisories = AdvisoryDB(path)
    try:
        result = RiskEngine(load_policy({}), advisories, today=TODAY).classify(name, _host(name, sources))
    finally:
        advisories.close()
    assert result['skipped'] == []
    return result, sorted((f['id'], f['package'], f['installed'], f['fixed'], f.get('tracker_status')) for f in result['findings'])


def test_the_lists_are_read_whole():
    """Every advisory of the two lists is read, with its CVEs: the counts of the files' own headings."""
    dsa, dla = _read('DSA-list.2025-02-13.txt'), _read('DLA-list.2025-02-13.txt')
    headings = {name: sum(1 for line in text.splitlines() if line.startswith('[')) for name, text in (('DSA', dsa), ('DLA', dla))}
    assert headings == {'DSA': 5909, 'DLA': 4224}   # the README's counts
    bookworm = lists.advisory_fixes(dsa, RELEASE)
    # The first advisory with a bookworm fix came a week before the release (2023-06-10).
    assert bookworm[0][:3] == ('DSA-5418-1', 'chromium', '114.0.5735.90-2~deb12u1') and bookworm[-1][:3] == ('DSA-5865-1', 'webkit2gtk', '2.46.6-1~deb12u1')
    assert ('DSA-5587-1', 'curl', '7.88.1-10+deb12u5', ['CVE-2023-46218']) in bookworm
    assert lists.advisory_fixes(dla, RELEASE) == [], 'DLAs are for the LTS releases, none for bookworm by 2025-02'


def test_an_up_to_date_bookworm_host_keeps_only_what_the_tracker_leaves_open(tmp_path):
    sources = lists.release_versions(_read('bookworm-source-versions.tsv'), RELEASE)
    result, found = _findings(tmp_path, 'bookworm-2026-07', sources)
    # Resolved in bookworm already, so absent: CVE-2023-31484 (perl 5.36.0-7+deb12u3), CVE-2023-52425 in expat
    # (2.5.0-1+deb12u2); not affected: CVE-2024-6874 (curl); every DSA of these packages up to DSA-6294-1.
    assert found == [
        ('CVE-2005-2541', 'tar', '1.34+dfsg-1.2+deb12u1', None, 'open'),
        ('CVE-2007-5686', 'shadow', '1:4.13+dfsg1-1+deb12u2', None, 'open'),
        ('CVE-2010-4756', 'glibc', '2.36-9+deb12u14', None, 'open'),
        ('CVE-2011-3374', 'apt', '2.6.1', None, 'open'),
        ('CVE-2011-4116', 'perl', '5.36.0-7+deb12u3', None, 'open'),
        ('CVE-2013-4392', 'systemd', '252.39-1~deb12u2', None, 'open'),
        ('CVE-2016-2781', 'coreutils', '9.1-1', None, 'no-dsa'),            # <ignored>
        ('CVE-2022-0563', 'util-linux', '2.38.1-5+deb12u3', None, 'open'),
        ('CVE-2022-3219', 'gnupg2', '2.2.40-1.1+deb12u2', None, 'open'),
        ('CVE-2023-29383', 'shadow', '1:4.13+dfsg1-1+deb12u2', None, 'no-dsa'),
        ('CVE-2023-4039', 'gcc-11', '11.3.0-12', None, 'no-dsa'),
        ('CVE-2023-4039', 'gcc-12', '12.2.0-14+deb12u1', None, 'no-dsa'),
        ('CVE-2023-45853', 'minizip', '1.1-8+deb12u1', None, 'open'),       # removed from unstable, still in bookworm
        ('CVE-2023-45853', 'zlib', '1:1.2.13.dfsg-1', None, 'open'),        # fixed in unstable's 1:1.3.dfsg-2 only
        ('CVE-2023-50495', 'ncurses', '6.4-4', None, 'no-dsa'),
        ('CVE-2023-52425', 'libxmltok', '1.2-4', None, 'no-dsa'),            # <ignored>
        ('CVE-2023-7008', 'systemd', '252.39-1~deb12u2', None, 'no-dsa'),
        ('CVE-2024-2236', 'libgcrypt20', '1.10.1-3+deb12u1', None, 'open'),
        ('CVE-2024-22365', 'pam', '1.5.2-6+deb12u2', None, 'no-dsa'),
        ('CVE-2024-26458', 'krb5', '1.20.1-2+deb12u5', None, 'open'),
        ('CVE-2024-28757', 'expat', '2.5.0-1+deb12u2', None, 'open'),       # fixed in unstable's 2.6.1-2 only
        ('CVE-2024-28757', 'libxmltok', '1.2-4', None, 'no-dsa'),
        ('CVE-2025-40909', 'perl', '5.36.0-7+deb12u3', None, 'no-dsa'),
        ('CVE-2025-6141', 'ncurses', '6.4-4', None, 'no-dsa'),
        ('CVE-2026-0861', 'glibc', '2.36-9+deb12u14', None, 'no-dsa'),
    ]
    details = {(f['id'], f['package']): f for f in result['findings']}
    # Debian rates these unimportant: never above low, whatever the other points say.
    for key in (('CVE-2011-3374', 'apt'), ('CVE-2005-2541', 'tar'), ('CVE-2013-4392', 'systemd')):
        assert details[key]['urgency'] == 'unimportant' and details[key]['tier'] in ('low', 'none'), details[key]
    assert any('fixed in a point release, not a security advisory' in reason for reason in details[('CVE-2023-7008', 'systemd')]['reasons'])


def test_a_bookworm_host_of_august_2023_gets_the_later_dsas(tmp_path):
    sources = {'curl': '7.88.1-10+deb12u1', 'glibc': '2.36-9+deb12u3', 'expat': '2.5.0-1'}
    _result, found = _findings(tmp_path, 'bookworm-2023-08', sources)
    # glibc 2.36-9+deb12u3 is DSA-5514-1's fix of CVE-2023-4911: absent.
    assert found == [
        ('CVE-2010-4756', 'glibc', '2.36-9+deb12u3', None, 'open'),
        ('CVE-2023-38545', 'curl', '7.88.1-10+deb12u1', '7.88.1-10+deb12u4', 'resolved'),       # DSA-5523-1
        ('CVE-2023-38546', 'curl', '7.88.1-10+deb12u1', '7.88.1-10+deb12u4', 'resolved'),       # DSA-5523-1
        ('CVE-2023-46218', 'curl', '7.88.1-10+deb12u1', '7.88.1-10+deb12u5', 'resolved'),       # DSA-5587-1
        ('CVE-2023-52425', 'expat', '2.5.0-1', '2.5.0-1+deb12u2', 'resolved'),                 # the CVE list's bookworm fix
        ('CVE-2023-6246', 'glibc', '2.36-9+deb12u3', '2.36-9+deb12u4', 'resolved'),             # DSA-5611-1
        ('CVE-2023-6779', 'glibc', '2.36-9+deb12u3', '2.36-9+deb12u4', 'resolved'),
        ('CVE-2023-6780', 'glibc', '2.36-9+deb12u3', '2.36-9+deb12u4', 'resolved'),
        ('CVE-2024-28757', 'expat', '2.5.0-1', None, 'open'),
        ('CVE-2024-2961', 'glibc', '2.36-9+deb12u3', '2.36-9+deb12u6', 'resolved'),             # DSA-5673-1
        ('CVE-2024-33599', 'glibc', '2.36-9+deb12u3', '2.36-9+deb12u7', 'resolved'),            # DSA-5678-1
        ('CVE-2024-33600', 'glibc', '2.36-9+deb12u3', '2.36-9+deb12u7', 'resolved'),
        ('CVE-2024-33601', 'glibc', '2.36-9+deb12u3', '2.36-9+deb12u7', 'resolved'),
        ('CVE-2024-33602', 'glibc', '2.36-9+deb12u3', '2.36-9+deb12u7', 'resolved'),
        ('CVE-2024-45490', 'expat', '2.5.0-1', '2.5.0-1+deb12u1', 'resolved'),                 # DSA-5770-1
        ('CVE-2024-45491', 'expat', '2.5.0-1', '2.5.0-1+deb12u1', 'resolved'),
        ('CVE-2024-45492', 'expat', '2.5.0-1', '2.5.0-1+deb12u1', 'resolved'),
        ('CVE-2026-0861', 'glibc', '2.36-9+deb12u3', None, 'no-dsa'),
    ]


def test_a_version_between_two_fixes(tmp_path):
    """curl at DSA-5523-1's fix: that advisory's CVEs are fixed, DSA-5587-1's is not; one revision later, none."""
    _result, found = _findings(tmp_path, 'curl-host', {'curl': '7.88.1-10+deb12u4'})
    assert [(f[0], f[3]) for f in found] == [('CVE-2023-46218', '7.88.1-10+deb12u5')]
    later = tmp_path / 'later'
    later.mkdir()
    _result, found = _findings(later, 'curl-host', {'curl': '7.88.1-10+deb12u5'})
    assert found == []

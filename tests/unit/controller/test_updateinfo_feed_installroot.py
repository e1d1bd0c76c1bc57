"""The ``updateinfo`` feed from the test host's repository: the updateinfo.xml.gz that createrepo_c/modifyrepo_c wrote.

The advisory database built from it matches the asset record asset_facts reads from the installroot,
by source RPM on a Rocky Linux host and by binary RPM on an AlmaLinux one.
"""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.modules import asset_facts
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, AdvisoryDBError, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_findings import record_findings
from ansible_collections.patchwise.patching.tests.unit.controller.dnf_installroot import checked
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module

OS_RELEASE = {
    'Rocky Linux:9': 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
    'AlmaLinux:9': 'NAME="AlmaLinux"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
}


@pytest.fixture()
def updateinfo(signed_repository):
    """The repository's own updateinfo file, as its repomd.xml names it."""
    repo, _key = signed_repository
    found = sorted((repo / 'repodata').glob('*updateinfo.xml*'))
    assert len(found) == 1 and found[0].name.endswith('.gz'), found
    return str(found[0])


def _database(tmp_path, updateinfo, ecosystem):
    path = str(tmp_path / 'advisories.db')
    return path, build(path, [{'type': 'updateinfo', 'src': updateinfo, 'ecosystem': ecosystem}])


def test_the_feed_holds_the_security_advisories_and_is_dated_by_the_newest_update(tmp_path, updateinfo):
    path, result = _database(tmp_path, updateinfo, 'Rocky Linux:9')
    assert result['advisories'] == 2, 'PWBA-2026:0002 is a bug fix'
    assert result['feeds'] == [{'type': 'updateinfo', 'src': updateinfo, 'records': 2, 'skipped': 0, 'skipped_git_ranges': 0, 'errors': [],
                                'data_date': '2026-11-05T12:30:00Z', 'date_source': 'newest updated or issued'}]
    # pw-demo-security, pw-demo-held (no src: named by the binary) and pw-daemon, the source RPM of both pw-daemon binaries.
    assert result['ecosystems'] == {'Rocky Linux:9': 3}
    found = AdvisoryDB(path).match('Rocky Linux:9', [('pw-daemon', '1.0-1'), ('pw-demo-security', '1.0-1'), ('pw-demo-security', '1.0-2')])
    assert [(m['id'], m['aliases'], m['fixed'], m['urgency']) for m in found[('pw-daemon', '1.0-1')]] == [
        ('PWSA-2026:0003', ['CVE-2026-0003', 'CVE-2026-0004'], ['1.0-2'], 'Critical')]
    assert [m['id'] for m in found[('pw-demo-security', '1.0-1')]] == ['PWSA-2026:0001']
    assert found[('pw-demo-security', '1.0-2')] == []


def test_another_ecosystem_is_another_database(tmp_path, updateinfo):
    path, _result = _database(tmp_path, updateinfo, 'Rocky Linux:9')
    again = build(path, [{'type': 'updateinfo', 'src': updateinfo, 'ecosystem': 'Rocky Linux:9'}])
    assert again['changed'] is False
    other = build(path, [{'type': 'updateinfo', 'src': updateinfo, 'ecosystem': 'AlmaLinux:9'}])
    assert other['changed'] is True and other['ecosystems'] == {'AlmaLinux:9': 4}


def test_without_an_ecosystem_an_unknown_vendor_prefix_is_an_error(tmp_path, updateinfo):
    with pytest.raises(AdvisoryDBError, match=r'update PWSA-2026:0001: its ecosystem cannot be told'):
        build(str(tmp_path / 'advisories.db'), [{'type': 'updateinfo', 'src': updateinfo}])
    with pytest.raises(AdvisoryDBError, match=r'every update was rejected; first error: .*PWSA-2026:0001'):
        build(str(tmp_path / 'advisories.db'), [{'type': 'updateinfo', 'src': updateinfo}], lenient=True)


@pytest.mark.parametrize(('feed', 'message'), [
    ({'type': 'osv', 'ecosystem': 'Rocky Linux:9'}, 'ecosystem is an option of updateinfo feeds only'),
    ({'type': 'updateinfo', 'ecosystem': 'Debian:12'}, "ecosystem 'Debian:12' is not an RPM distribution's"),
])
def test_a_wrong_ecosystem_option_is_refused(tmp_path, updateinfo, feed, message):
    with pytest.raises(AdvisoryDBError, match=message):
        build(str(tmp_path / 'advisories.db'), [dict(feed, src=updateinfo)])


@pytest.mark.parametrize(('ecosystem', 'daemon'), [
    ('Rocky Linux:9', ('pw-daemon', ['pw-daemon-libs'])),        # Rocky's advisories name source RPMs
    ('AlmaLinux:9', ('pw-daemon-libs', ['pw-daemon-libs'])),     # AlmaLinux's name binary RPMs
])
def test_the_installroot_host_record_matches_the_repository_advisories(root, tmp_path, updateinfo, ecosystem, daemon):
    (root / 'etc' / 'os-release').write_text(OS_RELEASE[ecosystem])
    checked(['dnf', '--installroot=%s' % root, '--setopt=pluginconfpath=%s' % (root / 'etc' / 'dnf' / 'plugins'), '-y', '-q',
             'install', 'pw-daemon-libs-1.0-1'])
    outcome = run_module(asset_facts.main, {'root': str(root), 'gather_subset': ['packages']})
    assert not outcome.failed, outcome.result
    path, _result = _database(tmp_path, updateinfo, ecosystem)
    findings, skipped = record_findings(outcome.result['record'], AdvisoryDB(path))
    assert skipped == []
    assert sorted((f['id'], f['package'], f['binary_packages'], f['installed'], f['fixed'], f['urgency']) for f in findings) == sorted([
        ('PWSA-2026:0001', 'pw-demo-held', ['pw-demo-held'], '1.0-1', '1.0-2', 'Important'),
        ('PWSA-2026:0001', 'pw-demo-security', ['pw-demo-security'], '1.0-1', '1.0-2', 'Important'),
        ('PWSA-2026:0003', *daemon, '1.0-1', '1.0-2', 'Critical'),
    ])

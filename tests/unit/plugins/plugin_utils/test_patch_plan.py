# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_plan import patch_plan
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy

POLICY = load_policy({
    'windows': {'sat-night': {'days': ['sat'], 'time': '22:00-04:00', 'timezone': 'UTC'}},
    'approval': {'tiers': ['critical'], 'environments': ['production']},
})
SATURDAY_NIGHT = utc('2026-11-28T23:00:00Z')
MONDAY = utc('2026-11-30T12:00:00Z')


def _finding(fid, package, *, kind='os', fixed='1.0-2', binaries=None, update=None, status='open', hold=None, ecosystem='Debian:12'):
    return {'id': fid, 'package': package, 'kind': kind, 'installed': '1.0-1', 'fixed': fixed, 'status': status, 'hold': hold,
            'binary_packages': binaries if binaries is not None else [package], 'distribution_security_update': update,
            'ecosystem': ecosystem}


def _result(findings, tier='high'):
    return {'host': 'web01', 'run_id': 'r1', 'tier': tier, 'due': '2026-12-01', 'incident': False, 'findings': findings}


def test_security_packages_from_findings_and_distribution_updates():
    findings = [
        _finding('CVE-1', 'openssl', fixed='3.0.15-1~deb12u1', binaries=['libssl3', 'openssl']),
        _finding('CVE-2', 'openssl', fixed='3.0.16-1~deb12u1', binaries=['libssl3', 'openssl']),
        _finding('security-update:pw-demo-security', 'pw-demo-security',
                 update=[{'name': 'pw-demo-security', 'available': '1.0-2', 'origin': 'Debian-Security'}]),
        _finding('CVE-3', 'bash', fixed=None),
        _finding('CVE-4', 'curl', binaries=['curl'], hold={'until': '2026-12-31', 'reason': 'freeze'}),
        _finding('CVE-5', 'zlib', status='accepted'),
        _finding('PYSEC-1', 'django', kind='app', fixed='4.2.16', ecosystem='PyPI'),
        _finding('PYSEC-2', 'django', kind='app', fixed='4.2.9', ecosystem='PyPI'),
    ]
    plan = patch_plan(_result(findings), POLICY, {'window': 'sat-night'}, moment=SATURDAY_NIGHT)
    system = plan['system']
    assert system['mode'] == 'security'
    assert system['packages'] == [
        {'name': 'libssl3', 'target': '3.0.16-1~deb12u1', 'findings': ['CVE-1', 'CVE-2']},
        {'name': 'openssl', 'target': '3.0.16-1~deb12u1', 'findings': ['CVE-1', 'CVE-2']},
        {'name': 'pw-demo-security', 'target': '1.0-2', 'findings': ['security-update:pw-demo-security']},
    ]
    assert system['no_fix'] == ['CVE-3']
    assert system['held'] == [{'finding': 'CVE-4', 'package': 'curl', 'packages': ['curl'], 'until': '2026-12-31', 'reason': 'freeze'}]
    assert plan['applications'] == [{'name': 'django', 'current': '1.0-1', 'target': '4.2.16', 'findings': ['PYSEC-1', 'PYSEC-2'],
                                     'ecosystem': 'PyPI', 'scheme': 'pep440'}]
    assert system['window'] == {'name': 'sat-night', 'open': True}
    assert system['reboot'] == 'if_required' and system['may_run_now'] is True


def test_out_of_window_and_approval():
    findings = [_finding('CVE-1', 'openssl')]
    plan = patch_plan(_result(findings, tier='critical'), POLICY, {'window': 'sat-night', 'approvers': ['bob']}, moment=MONDAY)
    assert plan['system']['window']['open'] is False
    assert plan['system']['approval_required'] is True and plan['system']['may_run_now'] is False
    assert any('no change reference given' in reason for reason in plan['system']['reasons'])
    plan = patch_plan(_result(findings, tier='critical'), POLICY, {'window': 'sat-night', 'approvers': ['bob']},
                      change_ref={'id': 'CHG-1', 'approver': 'mallory'}, moment=SATURDAY_NIGHT)
    assert plan['system']['approval']['valid'] is False and plan['system']['may_run_now'] is False
    plan = patch_plan(_result(findings, tier='critical'), POLICY, {'window': 'sat-night', 'approvers': ['bob']},
                      change_ref={'id': 'CHG-1', 'approver': 'bob'}, moment=SATURDAY_NIGHT)
    assert plan['system']['approval']['valid'] is True and plan['system']['may_run_now'] is True


def test_environment_approval_and_unknown_window():
    plan = patch_plan(_result([_finding('CVE-1', 'openssl')], tier='low'), POLICY, {'environment': 'production', 'window': 'never-defined'},
                      change_ref='CHG-7', moment=SATURDAY_NIGHT)
    assert plan['system']['approval'] == {'reference': 'CHG-7', 'approver': None, 'valid': True}
    assert plan['system']['window']['open'] is False
    assert any('does not define' in reason for reason in plan['system']['reasons'])


def test_nothing_to_do():
    plan = patch_plan(_result([], tier='none'), POLICY, None, moment=MONDAY)
    assert plan['system']['mode'] == 'none' and plan['system']['reboot'] == 'never' and plan['system']['may_run_now'] is False
    assert plan['applications'] == [] and plan['system']['window']['open'] is True


def test_package_manager_holds_are_left_out_and_listed():
    finding = _finding('CVE-1', 'openssl', binaries=['libssl3', 'openssl'])
    finding['held_binaries'] = ['libssl3']
    plan = patch_plan(_result([finding]), POLICY, {}, moment=MONDAY)
    assert [p['name'] for p in plan['system']['packages']] == ['openssl']
    assert plan['system']['held'] == [{'finding': 'CVE-1', 'package': 'libssl3', 'packages': ['libssl3'], 'until': None,
                                       'reason': 'held by the package manager (apt-mark hold)'}]

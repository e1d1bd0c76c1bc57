# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_changes import record_changes, record_digest, record_summary
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import BASE, record


def test_digest_ignores_collection_time_order_and_pids():
    later = record(collected_at='2026-11-02T10:00:00Z', packages=list(reversed(BASE['packages'])),
                   restart={'reboot_required': False, 'reasons': [], 'services': [],
                            'processes': []})
    assert record_digest(later) == record_digest(record())
    with_pid = record(restart={'reboot_required': False, 'reasons': [], 'services': ['demod.service'],
                               'processes': [{'pid': 10, 'process': 'demod', 'unit': 'demod.service', 'libraries': ['/usr/lib/libx.so.1']}]})
    restarted = record(restart={'reboot_required': False, 'reasons': [], 'services': ['demod.service'],
                                'processes': [{'pid': 99, 'process': 'demod', 'unit': 'demod.service', 'libraries': ['/usr/lib/libx.so.1']}]})
    assert record_digest(with_pid) == record_digest(restarted)


def test_digest_changes_with_a_package_version():
    packages = [dict(BASE['packages'][0], version='3.0.15-1~deb12u1'), *BASE['packages'][1:]]
    assert record_digest(record(packages=packages)) != record_digest(record())


def test_package_changes_by_debian_version_order():
    new_packages = [
        dict(BASE['packages'][0], version='3.0.15-1~deb12u1'),        # upgraded
        dict(BASE['packages'][2], version='5.2.15-2'),                # downgraded: +b7 binNMU is newer
        {'name': 'curl', 'version': '7.88.1-10+deb12u7', 'arch': 'amd64', 'source_name': 'curl', 'source_version': '7.88.1-10+deb12u7'},
    ]
    changes = dict(record_changes(record(), record(packages=new_packages)))
    assert changes['packages'] == {
        'added': [{'name': 'curl', 'arch': 'amd64', 'version': '7.88.1-10+deb12u7'}],
        'removed': [{'name': 'libssl3', 'arch': 'amd64', 'version': '3.0.14-1~deb12u1'}],
        'upgraded': [{'name': 'openssl', 'arch': 'amd64', 'from': '3.0.14-1~deb12u1', 'to': '3.0.15-1~deb12u1'}],
        'downgraded': [{'name': 'bash', 'arch': 'amd64', 'from': '5.2.15-2+b7', 'to': '5.2.15-2'}],
    }


def test_tilde_sorts_before_release_in_upgrades():
    old = record(packages=[dict(BASE['packages'][0], version='3.0.15-1~deb12u1')])
    new = record(packages=[dict(BASE['packages'][0], version='3.0.15-1')])
    assert dict(record_changes(old, new))['packages']['upgraded'][0]['to'] == '3.0.15-1'


def test_kernel_services_updates_and_restart_changes():
    new = record(
        kernel={'running': '6.1.0-25-amd64', 'latest_installed': '6.1.0-26-amd64'},
        services=[{'name': 'ssh.service', 'state': 'stopped', 'enabled': 'enabled'},
                  {'name': 'nginx.service', 'state': 'running', 'enabled': 'enabled'}],
        updates=[],
        restart={'reboot_required': True, 'reasons': ['kernel 6.1.0-26-amd64 is installed, 6.1.0-25-amd64 is running'],
                 'services': [], 'processes': []},
    )
    changes = dict(record_changes(record(), new))
    assert sorted(changes) == ['kernel', 'restart', 'services', 'updates']
    assert changes['kernel']['to']['latest_installed'] == '6.1.0-26-amd64'
    assert changes['services']['added'][0]['name'] == 'nginx.service'
    assert changes['services']['removed'][0]['name'] == 'cron.service'
    assert changes['services']['changed'] == [{'name': 'ssh.service', 'from': {'state': 'running', 'enabled': 'enabled'},
                                               'to': {'state': 'stopped', 'enabled': 'enabled'}}]
    assert changes['updates'] == {'security_removed': ['openssl'], 'pending': {'from': 1, 'to': 0}}
    assert changes['restart']['to']['reboot_required'] is True


def test_applications_changes():
    app = {'name': 'django', 'version': '4.2.1', 'ecosystem': 'PyPI', 'path': '/srv/app/venv', 'source': 'python'}
    changes = dict(record_changes(record(applications=[app]), record(applications=[dict(app, version='4.2.16')])))
    assert changes == {'applications': {'changed': [{'ecosystem': 'PyPI', 'name': 'django', 'path': '/srv/app/venv',
                                                     'from': {'version': '4.2.1'}, 'to': {'version': '4.2.16'}}]}}


def test_no_changes_for_the_same_record():
    assert record_changes(record(), record(collected_at='2026-11-03T00:00:00Z')) == []


def test_summary_counts():
    summary = record_summary(record())
    assert summary['counts'] == {'packages': 3, 'services': 2, 'listening': 1, 'applications': 0, 'updates': 1, 'security_updates': 1}
    assert summary['updates_security'] == ['openssl']
    assert summary['reboot_required'] is False
    assert summary['os']['ecosystem'] == 'Debian:12'

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import json
import random

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


def _reference_digest(record):
    """The digest as first defined: the canonical JSON of the record, every list sorted by its entries' JSON."""
    def canonical(value):
        return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=str)

    identity = {key: value for key, value in record.items() if key != 'collected_at'}
    for key in ('packages', 'services', 'listening', 'applications', 'updates'):
        identity[key] = sorted(record.get(key) or [], key=canonical)
    restart = dict(record.get('restart') or {})
    restart['processes'] = sorted(({k: v for k, v in p.items() if k != 'pid'} for p in restart.get('processes') or []), key=canonical)
    identity['restart'] = restart
    return hashlib.sha256(canonical(identity).encode('utf-8')).hexdigest()


def _random_value(rng):
    return rng.choice(['1.0-1', 'a b', 'a', 'ab', 'é', 'x\ty', '', None, True, 1, 1.0, 0, False, ['l', 1], {'k': 'v'}])


def test_the_digest_is_the_canonical_form_of_the_record_on_random_records():
    """Stored digests stay valid: the digest, however it is computed, is that of the record's canonical JSON, whatever
    the entries hold (values that compare equal but encode differently - True, 1, 1.0 - included)."""
    rng = random.Random(7)
    for _round in range(300):
        made = record(packages=[{name: _random_value(rng) for name in rng.sample(['name', 'version', 'arch', 'state', 'held'], rng.randint(1, 5))}
                                for _index in range(rng.randint(0, 12))],
                      services=[rng.choice([{'name': 's', 'state': _random_value(rng)}, 'not-a-mapping', 7])
                                for _index in range(rng.randint(0, 3))],
                      restart={'reboot_required': _random_value(rng), 'processes': [{'pid': rng.randint(1, 9), 'name': _random_value(rng)}]})
        if rng.random() < 0.2:
            made.pop('updates', None)
        if rng.random() < 0.1:
            made[rng.choice(['extra', 'zzz', 'AAA'])] = _random_value(rng)
        assert record_digest(made) == _reference_digest(made)
        assert record_digest(made) == record_digest(json.loads(json.dumps(made)))

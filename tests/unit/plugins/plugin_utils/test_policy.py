# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime
import re

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError, load_policy


def test_defaults():
    policy = load_policy()
    assert policy['tiers'] == {'I': 'critical', 'O': 'high', 'S': 'medium', 'D': 'low'}
    assert policy['due_days'] == {'3DF': 3, '3D': 3, '14D': 14, '60D': 60}
    assert policy['tables'] == {'decision': 'ssvc-deployer', 'due': 'bod-26-04'}


def test_merge_and_parse():
    policy = load_policy({
        'epss_threshold': 0.3,
        'windows': {'weekend': {'days': ['sat', 'sun'], 'time': '22:00-04:00', 'timezone': 'Europe/Berlin'}},
        'acceptances': [{'finding': 'CVE-2024-1', 'owner': 'ops', 'reason': 'mitigated', 'expires': '2030-01-01'}],
        'rules': [{'name': 'dmz', 'when': "host.register.zone == 'dmz'", 'tier': 'critical'}],
    })
    assert policy['epss_threshold'] == 0.3
    assert policy['acceptances'][0]['expires'] == datetime.date(2030, 1, 1)
    assert policy['rules'][0]['compiled'].search({'host': {'register': {'zone': 'dmz'}}}) is True


@pytest.mark.parametrize('data, key', [
    ({'colour': 1}, 'patchwise_policy.policy.colour'),
    ({'tables': {'decison': 'x'}}, 'patchwise_policy.tables.decison'),
    ({'epss_threshold': 2}, 'patchwise_policy.epss_threshold'),
    ({'sla_days': {'high': -1}}, 'patchwise_policy.sla_days.high'),
    ({'windows': {'w': {'time': '10:00-10:00'}}}, 'patchwise_policy.windows.w.time'),
    ({'windows': {'w': {'time': '25:00-26:00'}}}, 'patchwise_policy.windows.w.time'),
    ({'windows': {'w': {'time': '01:00-02:00', 'timezone': 'Mars/Olympus'}}}, 'patchwise_policy.windows.w.timezone'),
    ({'windows': {'w': {'time': '01:00-02:00', 'days': ['funday']}}}, 'patchwise_policy.windows.w.days'),
    ({'rules': [{'when': 'host.[['}]}, 'patchwise_policy.rules[0].when'),
    ({'acceptances': [{'finding': 'CVE-1', 'owner': 'ops', 'reason': 'r'}]}, 'patchwise_policy.acceptances[0].expires'),
    ({'holds': [{'reason': 'r'}]}, 'patchwise_policy.holds[0]'),
    ({'reboot': {'high': 'sometimes'}}, 'patchwise_policy.reboot.high'),
    ({'plan_max_age_days': 0}, 'patchwise_policy.plan_max_age_days'),
    ({'plan_max_age_days': '7d'}, 'patchwise_policy.plan_max_age_days'),
    ({'never_restart': 'dbus'}, 'patchwise_policy.never_restart'),
    ({'never_restart': ['dbus', '(unclosed']}, 'patchwise_policy.never_restart[1]'),
    ({'log_check': {'max_errors': 3}}, 'patchwise_policy.log_check.max_errors'),
    ({'log_check': {'max_error_increase': -1}}, 'patchwise_policy.log_check.max_error_increase'),
    ({'log_check': {'incident': 'yes'}}, 'patchwise_policy.log_check.incident'),
])
def test_invalid_policy_names_the_key(data, key):
    with pytest.raises(PolicyError, match=re.escape(key)):
        load_policy(data)


def test_shipped_example_policy_is_valid():
    import os

    import yaml

    example = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'playbooks', 'vars', 'policy.example.yml')
    with open(example, encoding='utf-8') as handle:
        policy = load_policy(yaml.safe_load(handle)['patchwise_policy'])
    assert policy['windows']['weeknights']['timezone'] == 'Europe/Berlin'
    assert policy['holds'][0]['until'] == datetime.date(2026, 12, 31)


def test_the_default_never_restart_list_follows_needrestart():
    import re

    patterns = load_policy({})['never_restart']

    def refused(unit):
        return any(re.match(pattern, unit) for pattern in patterns)

    for unit in ('dbus.service', 'systemd-logind.service', 'getty@tty1.service', 'serial-getty@ttyS0.service', 'user@1000.service',
                 'gdm.service', 'lightdm.service', 'docker.service', 'containerd.service', 'libvirtd.service', 'networking.service',
                 'NetworkManager.service', 'systemd-manager', 'apt-daily.service', 'cron-daily.service'):
        assert refused(unit), unit
    for unit in ('nginx.service', 'ssh.service', 'postgresql@15-main.service', 'getty-static.service', 'cron.service'):
        assert not refused(unit), unit
    assert load_policy({})['plan_max_age_days'] == 7
    assert load_policy({'log_check': {'incident': False}})['log_check'] == {'max_error_increase': 10, 'incident': False}

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault suite's policy and register tables: every bad input is refused naming the key (and the file), and
config_check rejects exactly what the risk pass rejects."""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.action.config_check import check_config
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError, load_register
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError, load_policy, policy_from_text
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskEngine, RiskError

WINDOW = {'days': ['sat'], 'time': '22:00-04:00', 'timezone': 'UTC'}

# (policy, the key path the error must name, words of the reason)
BAD_POLICIES = [
    ({'colour': 'red'}, 'policy.colour', 'unknown key'),
    ([], 'policy', 'must be a mapping'),
    (['epss_threshold'], 'policy', 'must be a mapping'),
    ({'tables': 'bod-26-04'}, 'tables', 'must be a mapping'),
    ({'tables': {'decison': 'ssvc-deployer'}}, 'tables.decison', 'unknown key'),
    ({'tables': {'decision': 'no-such-table'}}, 'tables', 'no-such-table'),
    ({'tables': {'due': '/nonexistent/table.json'}}, 'tables', 'table.json'),
    ({'tiers': {'I': 'urgent'}}, 'tiers', "'urgent' is not a tier"),
    ({'tiers': 'critical'}, 'tiers', 'must be a mapping'),
    ({'due_days': {'3D': -1}}, 'due_days.3D', 'whole number of days'),
    ({'due_days': {'3D': 'three'}}, 'due_days.3D', 'whole number of days'),
    ({'due_days': {'3D': True}}, 'due_days.3D', 'whole number of days'),
    ({'sla_days': {'high': 1.5}}, 'sla_days.high', 'whole number of days'),
    ({'sla_days': {'urgent': 3}}, 'sla_days.urgent', 'unknown key'),
    ({'upgrade_horizon_days': -5}, 'upgrade_horizon_days', 'whole number of days'),
    ({'max_advisory_age_hours': '48h'}, 'max_advisory_age_hours', 'whole number'),
    ({'due_from': 'published'}, 'due_from', 'first_seen or kev_added'),
    ({'epss_threshold': 2}, 'epss_threshold', 'probability'),
    ({'epss_threshold': -0.1}, 'epss_threshold', 'probability'),
    ({'epss_threshold': '0.1'}, 'epss_threshold', 'probability'),
    ({'epss_threshold': True}, 'epss_threshold', 'probability'),
    ({'point_defaults': ['ssvc:EXP:1.0.1']}, 'point_defaults', 'must be a mapping'),
    ({'point_defaults': {'ssvc:EXP:1.0.1': 3}}, 'point_defaults.ssvc:EXP:1.0.1', 'value key'),
    ({'windows': []}, 'windows', 'must be a mapping'),
    ({'windows': {'w': 'sat 22:00'}}, 'windows.w', 'must be a mapping'),
    ({'windows': {'w': dict(WINDOW, hours='2')}}, 'windows.w.hours', 'unknown key'),
    ({'windows': {'w': dict(WINDOW, time='10:00-10:00')}}, 'windows.w.time', 'empty or impossible'),
    ({'windows': {'w': dict(WINDOW, time='25:00-26:00')}}, 'windows.w.time', 'HH:MM-HH:MM'),
    ({'windows': {'w': dict(WINDOW, time='22:00')}}, 'windows.w.time', 'HH:MM-HH:MM'),
    ({'windows': {'w': dict(WINDOW, time=2200)}}, 'windows.w.time', 'HH:MM-HH:MM'),
    ({'windows': {'w': dict(WINDOW, days=['funday'])}}, 'windows.w.days', 'non-empty list'),
    ({'windows': {'w': dict(WINDOW, days='sat')}}, 'windows.w.days', 'non-empty list'),
    ({'windows': {'w': dict(WINDOW, days=[])}}, 'windows.w.days', 'non-empty list'),
    ({'windows': {'w': dict(WINDOW, timezone='Mars/Olympus')}}, 'windows.w.timezone', 'unknown time zone'),
    ({'windows': {'w': dict(WINDOW, timezone=2)}}, 'windows.w.timezone', 'IANA time zone name'),
    ({'reboot': {'high': 'sometimes'}}, 'reboot.high', 'never, if_required, in_window, always'),
    ({'reboot': {'urgent': 'never'}}, 'reboot.urgent', 'unknown key'),
    ({'approval': {'tiers': ['urgent']}}, 'approval.tiers', "'urgent' is not a tier"),
    ({'approval': {'team': ['ops']}}, 'approval.team', 'unknown key'),
    ({'holds': {'package': 'x'}}, 'holds', 'must be a list'),
    ({'holds': [{'reason': 'r'}]}, 'holds[0]', 'needs at least one of finding, package, host'),
    ({'holds': [{'package': 'x'}]}, 'holds[0].reason', 'is required'),
    ({'holds': [{'package': 'x', 'reason': 'r', 'until': '31.12.2026'}]}, 'holds[0].until', 'not a YYYY-MM-DD date'),
    ({'holds': [{'package': 'x', 'reason': 'r', 'untill': '2026-12-31'}]}, 'holds[0].untill', 'unknown key'),
    ({'holds': ['postgresql-*']}, 'holds[0]', 'must be a mapping'),
    ({'acceptances': [{'finding': 'CVE-1', 'owner': 'ops', 'reason': 'r'}]}, 'acceptances[0].expires', 'is required'),
    ({'acceptances': [{'finding': 'CVE-1', 'reason': 'r', 'expires': '2027-01-01'}]}, 'acceptances[0].owner', 'is required'),
    ({'acceptances': [{'finding': 'CVE-1', 'owner': 'o', 'reason': 'r', 'expires': 'never'}]}, 'acceptances[0].expires', 'YYYY-MM-DD'),
    ({'rules': {'when': 'x'}}, 'rules', 'must be a list'),
    ({'rules': [{'tier': 'high'}]}, 'rules[0].when', 'is required'),
    ({'rules': [{'when': 'host.[['}]}, 'rules[0].when', 'invalid JMESPath expression'),
    ({'rules': [{'when': 5}]}, 'rules[0].when', 'must be a JMESPath expression'),
    ({'rules': [{'when': 'finding.kev', 'tier': 'urgent'}]}, 'rules[0].tier', 'must be one of critical, high, medium, low'),
    ({'rules': [{'when': 'finding.kev', 'status': 'fixd'}]}, 'rules[0].status', "must be one of open, accepted, got 'fixd'"),
    ({'rules': [{'when': 'finding.kev', 'status': 'acepted'}]}, 'rules[0].status', "got 'acepted'"),
    ({'rules': [{'when': 'finding.kev', 'status': 'fixed'}]}, 'rules[0].status', "got 'fixed'"),
    ({'rules': [{'when': 'finding.kev'}, {'when': 'x', 'sevrity': 'high'}]}, 'rules[1].sevrity', 'unknown key'),
    ({'plan_max_age_days': 0}, 'plan_max_age_days', 'at least 1'),
    ({'plan_max_age_days': '7'}, 'plan_max_age_days', 'whole number of days'),
    ({'never_restart': 'dbus'}, 'never_restart', 'list of regular expressions'),
    ({'never_restart': ['(']}, 'never_restart[0]', 'invalid regular expression'),
    ({'never_restart': ['']}, 'never_restart[0]', 'non-empty string'),
    ({'log_check': {'max_error_increase': -1}}, 'log_check.max_error_increase', 'whole number'),
    ({'log_check': {'max_errors': 1}}, 'log_check.max_errors', 'unknown key'),
    ({'log_check': {'incident': 'yes'}}, 'log_check.incident', 'true or false'),
]


def _refusal(policy):
    """The message the risk pass refuses ``policy`` with, or None."""
    try:
        RiskEngine(load_policy(policy))
    except (PolicyError, RiskError) as exc:
        return str(exc)
    return None


@pytest.mark.parametrize('policy, key, reason', BAD_POLICIES)
def test_a_bad_policy_is_refused_naming_the_key_and_config_check_agrees(policy, key, reason):
    message = _refusal(policy)
    assert message is not None and ('patchwise_policy.%s' % key) in message and reason in message, message
    with pytest.raises((PolicyError, RiskError, ConfigError)) as refused:
        check_config(policy=policy)
    assert str(refused.value) == message, 'config_check must refuse exactly what the risk pass refuses'


@pytest.mark.parametrize('policy, key, reason', [case for case in BAD_POLICIES if isinstance(case[0], dict)])
def test_the_same_policy_in_a_file_names_the_file_and_the_key(tmp_path, policy, key, reason):
    import yaml

    path = tmp_path / 'policy.yml'
    path.write_text(yaml.safe_dump(policy))
    with pytest.raises((PolicyError, RiskError)) as refused:
        RiskEngine(policy_from_text(path.read_text(), str(path)))
    message = str(refused.value)
    assert reason in message
    if isinstance(refused.value, PolicyError):
        assert message.startswith('%s: %s' % (path, key))


@pytest.mark.parametrize('text, line', [
    ('holds: []\nepss_threshold: 0.2\nholds:\n  - {package: x, reason: r}\n', "key 'holds' is given twice (lines 1 and 3)"),
    ('patchwise_policy:\n  windows:\n    w: {days: [sat], time: "01:00-02:00"}\n    w: {days: [sun], time: "01:00-02:00"}\n',
     "key 'w' is given twice (lines 3 and 4)"),
    ('rules:\n  - when: finding.kev\n    tier: high\n    tier: low\n', "key 'tier' is given twice (lines 3 and 4)"),
])
def test_a_key_given_twice_is_refused_not_overwritten(tmp_path, text, line):
    with pytest.raises(PolicyError, match='policy.yml: cannot read the policy: %s' % line.replace('(', r'\(').replace(')', r'\)')):
        policy_from_text(text, str(tmp_path / 'policy.yml'))


@pytest.mark.parametrize('text, message', [
    ('hosts:\n  web01: {owner: a}\n  web01: {owner: b}\n', "key 'web01' is given twice"),
    ('hosts:\n  web01: {owner: a, owner: b}\n', "key 'owner' is given twice"),
    ('hosts:\n  web01: {criticallity: high}\n', 'host web01: unknown key(s) criticallity'),
    ('hosts:\n  web01: {criticality: 3}\n', 'host web01: criticality 3 is not one of'),
    ('hosts:\n  web01: {exposure: dmz}\n', "host web01: exposure 'dmz' is not one of"),
    ('hosts:\n  web01: {environment: "prod env"}\n', "host web01: environment 'prod env' must be a name"),
    ('hosts:\n  web01: {window: 5}\n', 'host web01: window 5 must be a name'),
    ('hosts:\n  web01: {owner: [a]}\n', 'host web01: owner must be a string'),
    ('hosts:\n  web01: {approvers: {bob: yes}}\n', 'host web01: approvers must be a list of names'),
    ('hosts:\n  web01: {approvers: [""]}\n', 'host web01: approvers must be a list of names'),
    ('hosts:\n  web01: {exclude: [1]}\n', 'host web01: exclude must be a list of package names or patterns'),
    ('hosts:\n  web01: [owner]\n', 'host web01: expected a mapping'),
    ('hosts: [web01]\n', 'expected a mapping with a "hosts" mapping'),
    ('web01: {owner: a}\n', 'expected a mapping with a "hosts" mapping'),
    ('schema: 2\nhosts: {}\n', 'register schema 2 is not supported'),
    ('hosts: {}\nowners: {}\n', 'unknown top-level key(s) owners'),
    ('defaults: {criticality: urgent}\nhosts: {}\n', 'host (defaults): criticality'),
    ('hosts: {web01: {owner: a}\n', 'not valid YAML'),
])
def test_a_bad_register_is_refused_naming_the_file_host_and_key(tmp_path, text, message):
    path = tmp_path / 'register.yml'
    path.write_text(text)
    with pytest.raises(RegisterError) as refused:
        load_register(str(path))
    assert str(refused.value).startswith(str(path)) and message in str(refused.value)


@pytest.mark.parametrize('text, message', [
    ('owner,criticality\nalice,high\n', 'the first row must name the columns, one of them "host"'),
    ('host,owner\nweb01,alice,extra\n', 'line 2 has more fields than the header'),
    ('host,owner\n,alice\n', 'line 2 has no host'),
    ('host,owner\nweb01,a\nweb01,b\n', 'line 3: host web01 is listed twice'),
    ('host,criticallity\nweb01,high\n', 'host web01: unknown key(s) criticallity'),
])
def test_a_bad_csv_register_is_refused_naming_the_line(tmp_path, text, message):
    path = tmp_path / 'register.csv'
    path.write_text(text)
    with pytest.raises(RegisterError, match=message.replace('(', r'\(').replace(')', r'\)')):
        load_register(str(path))


def test_a_rule_that_fails_on_the_data_names_the_rule_the_host_and_the_finding():
    from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

    engine = RiskEngine(load_policy({'rules': [{'name': 'old kernels', 'when': 'finding.kev', 'tier': 'high'},
                                               {'name': 'bad arithmetic', 'when': 'abs(finding.package) > `1`', 'tier': 'low'}]}))
    with pytest.raises(RiskError) as refused:
        engine.classify('web01', record(), {}, {})
    assert str(refused.value).startswith("patchwise_policy.rules[1] (bad arithmetic): the expression 'abs(finding.package) > `1`' failed "
                                         'on host web01, finding security-update:openssl')

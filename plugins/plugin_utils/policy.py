# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``patchwise_policy``: validated defaults for the risk engine and the patch plan.

``load_policy(data)`` merges ``data`` over ``DEFAULT_POLICY`` and rejects unknown
keys, wrong types, impossible maintenance windows and JMESPath rules that do
not compile; every error names the offending key path.
"""

from __future__ import annotations

import copy
import datetime
import re

import yaml
from ansible_collections.patchwise.patching.plugins.plugin_utils import strict_yaml
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_baseline import BYPASS_SELECTORS, ENTRY_KEYS, parse_constraint

try:
    import jmespath
    from jmespath.exceptions import JMESPathError
except ImportError:  # custom rules need it; everything else works without
    jmespath = None
    JMESPathError = ValueError

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python < 3.9 controllers are not supported by ansible-core 2.18+
    ZoneInfo = ZoneInfoNotFoundError = None

TIERS = ('critical', 'high', 'medium', 'low')
WEEKDAYS = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')
TIME_RANGE = re.compile(r'^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$')

# Units a patch run does not restart, as regular expressions matched at the start of the unit name:
# needrestart's default override_rc (Debian's needrestart 3.6, /etc/needrestart/needrestart.conf),
# plus containerd beside docker (restarting either stops every container) and the systemd manager
# itself, which needs a re-exec rather than a restart.
NEEDRESTART_OVERRIDE_RC = (
    r'dbus', r'gdm', r'kdm', r'nodm', r'sddm', r'wdm', r'xdm', r'lightdm', r'slim', r'lxdm',
    r'bird', r'network', r'NetworkManager', r'ModemManager', r'wpa_supplicant', r'openvpn', r'quagga', r'frr', r'tinc',
    r'(open|free|libre|strong)swan', r'bluetooth',
    r'getty@.+\.service', r'serial-getty@.+\.service', r'user@\d+\.service',
    r'zfs-fuse', r'mythtv-backend', r'xendomains', r'lxcfs', r'libvirt', r'virtlogd', r'virtlockd', r'docker', r'containerd',
    r'emergency\.service$', r'rescue\.service$', r'elogind',
    r'apt-daily\.service$', r'apt-daily-upgrade\.service$', r'unattended-upgrades\.service$', r'cron-.*\.service$',
    r'rc-local\.service$', r'systemd-logind', r'systemd-manager', r'init\.scope$',
)

DEFAULT_POLICY = {
    'tables': {'decision': 'ssvc-deployer', 'due': 'bod-26-04'},
    'tiers': {'I': 'critical', 'O': 'high', 'S': 'medium', 'D': 'low'},
    'due_days': {'3DF': 3, '3D': 3, '14D': 14, '60D': 60},
    'forensic_triage_outcomes': ['3DF'],
    'upgrade_horizon_days': 365,
    'sla_days': {'critical': 3, 'high': 14, 'medium': 60, 'low': 180},
    'due_from': 'first_seen',
    'epss_threshold': 0.1,
    'point_defaults': {},
    'max_advisory_age_hours': 48,
    # The oldest a feed's own data may be (feed_dates): EPSS and the tracker change daily, OSV dumps at least weekly,
    # the KEV catalog is released when CISA adds an entry - a few times a week, rarely two weeks apart.
    'max_feed_age_hours': {'osv': 168, 'debian': 72, 'epss': 72, 'kev': 336, 'cve5': 336},
    'windows': {},
    'reboot': {'critical': 'if_required', 'high': 'if_required', 'medium': 'in_window', 'low': 'in_window'},
    'approval': {'tiers': [], 'environments': []},
    'holds': [],
    'acceptances': [],
    'rules': [],
    'plan_max_age_days': 7,
    'never_restart': list(NEEDRESTART_OVERRIDE_RC),
    'log_check': {'max_error_increase': 10, 'incident': True},
    # Which updates are approved, apart from when they are installed (patch_baseline): nothing waits or is refused by default.
    'baseline': {'approve_after_days': {}, 'bypass': [], 'approved': [], 'rejected': []},
    # Register environments a frozen patch set is promoted through, in order, and the gates of each promotion.
    'stages': [],
    'promotion': {'min_percent': 100, 'soak_hours': 24, 'require_no_failures': True, 'require_no_alerts': True},
}
REBOOT_RULES = ('never', 'if_required', 'in_window', 'always')
# A rule may reopen a finding or accept it; fixed comes only from the lifecycle (the finding is no longer reported).
RULE_STATUSES = ('open', 'accepted')


class PolicyError(ValueError):
    """The policy is invalid; the message names the key."""


def _fail(path, message):
    raise PolicyError('patchwise_policy.%s: %s' % (path, message))


def _mapping(value, path, allowed=None):
    if not isinstance(value, dict):
        _fail(path, 'must be a mapping')
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            _fail('%s.%s' % (path, unknown[0]), 'unknown key (allowed: %s)' % ', '.join(sorted(allowed)))
    return value


def _days(value, path):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _fail(path, 'must be a whole number of days >= 0')
    return value


def _hours(value, path):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(path, 'must be a whole number of hours >= 1')
    return value


def _date(value, path):
    if isinstance(value, datetime.date):
        return value if not isinstance(value, datetime.datetime) else value.date()
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        _fail(path, '%r is not a YYYY-MM-DD date' % (value,))


def _windows(windows):
    _mapping(windows, 'windows')
    for name, window in windows.items():
        path = 'windows.%s' % name
        _mapping(window, path, ('days', 'time', 'timezone'))
        days = window.get('days', list(WEEKDAYS))
        if not isinstance(days, list) or not days or any(day not in WEEKDAYS for day in days):
            _fail(path + '.days', 'must be a non-empty list of %s' % ', '.join(WEEKDAYS))
        match = TIME_RANGE.match(str(window.get('time', '')))
        if not match:
            _fail(path + '.time', 'must be HH:MM-HH:MM')
        start, end = int(match.group(1)) * 60 + int(match.group(2)), int(match.group(3)) * 60 + int(match.group(4))
        if start == end or end > 24 * 60:
            _fail(path + '.time', 'the window %s is empty or impossible' % window['time'])
        timezone = window.get('timezone', 'UTC')
        if not isinstance(timezone, str):
            _fail(path + '.timezone', 'must be an IANA time zone name such as Europe/Berlin, got %r' % (timezone,))
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            _fail(path + '.timezone', 'unknown time zone %r' % timezone)


def _entries(policy, key, allowed, required):
    if not isinstance(policy[key], list):
        _fail(key, 'must be a list')
    for index, entry in enumerate(policy[key]):
        path = '%s[%d]' % (key, index)
        _mapping(entry, path, allowed)
        for name in required:
            if not entry.get(name):
                _fail('%s.%s' % (path, name), 'is required')
        if 'until' in entry:
            entry['until'] = _date(entry['until'], path + '.until')
        if 'expires' in entry:
            entry['expires'] = _date(entry['expires'], path + '.expires')
        if not any(entry.get(name) for name in ('finding', 'package', 'host')):
            _fail(path, 'needs at least one of finding, package, host')


def _baseline(baseline):
    days = _mapping(baseline['approve_after_days'], 'baseline.approve_after_days', TIERS)
    for tier, value in days.items():
        _days(value, 'baseline.approve_after_days.%s' % tier)
    if not isinstance(baseline['bypass'], list) or any(item not in BYPASS_SELECTORS for item in baseline['bypass']):
        _fail('baseline.bypass', 'must be a list of %s, got %r' % (' and '.join(BYPASS_SELECTORS), baseline['bypass']))
    for key in ('approved', 'rejected'):
        if not isinstance(baseline[key], list):
            _fail('baseline.%s' % key, 'must be a list')
        for index, entry in enumerate(baseline[key]):
            path = 'baseline.%s[%d]' % (key, index)
            _mapping(entry, path, ENTRY_KEYS)
            if not entry.get('package') and not entry.get('advisory'):
                _fail(path, 'needs a package glob or an advisory id')
            if key == 'rejected' and not entry.get('reason'):
                _fail(path + '.reason', 'is required: say why the update is refused')
            for name in ('package', 'advisory', 'version', 'reason'):
                if name in entry and not isinstance(entry[name], str):
                    _fail('%s.%s' % (path, name), 'must be a string, got %r' % (entry[name],))
            if entry.get('version'):
                try:
                    parse_constraint(entry['version'])
                except ValueError as exc:
                    _fail(path + '.version', str(exc))


def _stages(policy):
    stages = policy['stages']
    if not isinstance(stages, list) or any(not isinstance(stage, str) or not stage for stage in stages):
        _fail('stages', 'must be a list of register environments, in promotion order')
    if len(set(stages)) != len(stages):
        _fail('stages', 'names a stage twice: %s' % ', '.join(stages))
    promotion = policy['promotion']
    percent = promotion['min_percent']
    if isinstance(percent, bool) or not isinstance(percent, (int, float)) or not 0 < percent <= 100:
        _fail('promotion.min_percent', 'must be a percentage above 0 and at most 100')
    soak = promotion['soak_hours']
    if isinstance(soak, bool) or not isinstance(soak, int) or soak < 0:
        _fail('promotion.soak_hours', 'must be a whole number of hours >= 0')
    for key in ('require_no_failures', 'require_no_alerts'):
        if not isinstance(promotion[key], bool):
            _fail('promotion.%s' % key, 'must be true or false')


def _patterns(patterns, path):
    if not isinstance(patterns, list):
        _fail(path, 'must be a list of regular expressions')
    for index, pattern in enumerate(patterns):
        if not isinstance(pattern, str) or not pattern:
            _fail('%s[%d]' % (path, index), 'must be a non-empty string')
        try:
            re.compile(pattern)
        except re.error as exc:
            _fail('%s[%d]' % (path, index), 'invalid regular expression %r: %s' % (pattern, exc))


def _rules(rules):
    if not isinstance(rules, list):
        _fail('rules', 'must be a list')
    if rules and jmespath is None:
        _fail('rules', 'custom rules need the jmespath Python library on the controller')
    for index, rule in enumerate(rules):
        path = 'rules[%d]' % index
        _mapping(rule, path, ('name', 'when', 'tier', 'status', 'reason'))
        if not rule.get('when'):
            _fail(path + '.when', 'is required')
        if not isinstance(rule['when'], str):
            _fail(path + '.when', 'must be a JMESPath expression (a string), got %r' % (rule['when'],))
        if rule.get('tier') is not None and rule['tier'] not in TIERS:
            _fail(path + '.tier', 'must be one of %s, got %r' % (', '.join(TIERS), rule['tier']))
        # A typo here ("fixd") used to hide every matching open finding: only the statuses a rule may set are accepted.
        if rule.get('status') is not None and rule['status'] not in RULE_STATUSES:
            _fail(path + '.status', 'must be one of %s, got %r' % (', '.join(RULE_STATUSES), rule['status']))
        try:
            rule['compiled'] = jmespath.compile(rule['when'])
        except JMESPathError as exc:
            _fail(path + '.when', 'invalid JMESPath expression: %s' % exc)


def load_policy(data=None):
    """Return the effective policy: ``data`` merged over the defaults, validated."""
    policy = copy.deepcopy(DEFAULT_POLICY)
    data = {} if data is None else data
    _mapping(data, 'policy', DEFAULT_POLICY)
    for key, value in data.items():
        if isinstance(DEFAULT_POLICY[key], dict) and key not in ('windows', 'point_defaults'):
            _mapping(value, key, DEFAULT_POLICY[key] if key in ('tables', 'approval', 'sla_days', 'reboot', 'log_check',
                                                                'max_feed_age_hours', 'baseline', 'promotion') else None)
            policy[key].update(copy.deepcopy(value))
        else:
            policy[key] = copy.deepcopy(value)
    for tier in policy['tiers'].values():
        if tier not in TIERS:
            _fail('tiers', '%r is not a tier (%s)' % (tier, ', '.join(TIERS)))
    for key in ('due_days', 'sla_days'):
        for name, days in policy[key].items():
            _days(days, '%s.%s' % (key, name))
    _days(policy['upgrade_horizon_days'], 'upgrade_horizon_days')
    _hours(policy['max_advisory_age_hours'], 'max_advisory_age_hours')
    for feed_type, hours in policy['max_feed_age_hours'].items():
        _hours(hours, 'max_feed_age_hours.%s' % feed_type)
    if policy['due_from'] not in ('first_seen', 'kev_added'):
        _fail('due_from', 'must be first_seen or kev_added')
    threshold = policy['epss_threshold']
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        _fail('epss_threshold', 'must be a probability between 0 and 1')
    for tier, rule in policy['reboot'].items():
        if rule not in REBOOT_RULES:
            _fail('reboot.%s' % tier, 'must be one of %s' % ', '.join(REBOOT_RULES))
    for tier in policy['approval']['tiers']:
        if tier not in TIERS:
            _fail('approval.tiers', '%r is not a tier' % (tier,))
    _windows(policy['windows'])
    _mapping(policy['point_defaults'], 'point_defaults')
    for point, value in policy['point_defaults'].items():
        if not isinstance(point, str) or not isinstance(value, str):
            _fail('point_defaults.%s' % point, 'must map an SSVC decision point id to a value key (strings), got %r' % (value,))
    _entries(policy, 'holds', ('finding', 'package', 'host', 'until', 'reason'), ('reason',))
    _entries(policy, 'acceptances', ('finding', 'package', 'host', 'owner', 'reason', 'expires'), ('owner', 'reason', 'expires'))
    _rules(policy['rules'])
    _baseline(policy['baseline'])
    _stages(policy)
    if _days(policy['plan_max_age_days'], 'plan_max_age_days') == 0:
        _fail('plan_max_age_days', 'must be at least 1 (a plan older than this many days is refused)')
    _patterns(policy['never_restart'], 'never_restart')
    _mapping(policy['log_check'], 'log_check', DEFAULT_POLICY['log_check'])
    increase = policy['log_check']['max_error_increase']
    if isinstance(increase, bool) or not isinstance(increase, int) or increase < 0:
        _fail('log_check.max_error_increase', 'must be a whole number of log lines >= 0')
    if not isinstance(policy['log_check']['incident'], bool):
        _fail('log_check.incident', 'must be true or false')
    return policy


def policy_from_text(text, path):
    """The policy in the YAML ``text`` of the file ``path`` (optionally under ``patchwise_policy``), validated."""
    try:
        value = strict_yaml.load(text) or {}
    except yaml.YAMLError as exc:
        raise PolicyError('%s: cannot read the policy: %s' % (path, exc)) from exc
    if isinstance(value, dict) and set(value) == {'patchwise_policy'}:
        value = value['patchwise_policy']
    try:
        return load_policy(value)
    except PolicyError as exc:
        # Name the file and the key as the user wrote them: "<file>: rules[2].status: ...".
        raise PolicyError('%s: %s' % (path, str(exc).replace('patchwise_policy.', '', 1))) from exc

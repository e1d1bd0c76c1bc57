# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a patch run needs to know about one host before it changes anything.

Assess stores a plan per host in the asset database; the patch roles read it
back here rather than from a fact a playbook may not have set.  A plan is only
used while it still describes the host: one of an unknown schema, made for
another host, older than the policy's ``plan_max_age_days`` or older than the
host's last discovered change is refused with the reason and what to do.

The same pass gathers the holds and exclusions in force for the host, so
``system_update`` can apply them where the change happens: the plan's held
findings (their binary packages), the policy's package holds for the host
(expanded from source to binary names with the host's record) and the
register's ``exclude`` patterns.
"""

from __future__ import annotations

import datetime
import fnmatch

from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_plan import PLAN_SCHEMA
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_sets import PatchSetRefused, checked, host_applications, host_packages


class PlanRefused(ValueError):
    """The stored plan cannot be used for this patch run; the message says why and what to do."""


def _describe_age(delta):
    hours = delta.total_seconds() / 3600.0
    return '%.1f days' % (hours / 24.0) if hours >= 24 else '%.1f hours' % hours


def checked_plan(host, stored, discovered, max_age_days, now):
    """The stored plan of ``host`` if it may drive this run, else PlanRefused naming the reason.

    ``stored``: ``AssetStore.stored_plan(host)`` (not None); ``discovered``: ``AssetStore.discovered(host)``.
    """
    again = 'run the assess playbook (patchwise.patching.assess) again'
    plan = stored['plan']
    if not isinstance(plan, dict):
        raise PlanRefused('host %s: the stored plan is not a plan (%s); %s' % (host, type(plan).__name__, again))
    if plan.get('schema') != PLAN_SCHEMA:
        raise PlanRefused('host %s: stored plan schema %r is not supported (this collection reads schema %d); %s'
                          % (host, plan.get('schema'), PLAN_SCHEMA, again))
    if plan.get('host') != host:
        raise PlanRefused('host %s: the plan stored under this host is for host %r; %s' % (host, plan.get('host'), again))
    system = plan.get('system')
    if not isinstance(system, dict) or not isinstance(system.get('packages'), list) or not isinstance(system.get('held', []), list):
        raise PlanRefused('host %s: the stored plan has no system part with a packages list; %s' % (host, again))
    for index, entry in enumerate(system['packages']):
        if not isinstance(entry, dict) or not isinstance(entry.get('name'), str) or not isinstance(entry.get('target'), str):
            raise PlanRefused('host %s: plan system.packages[%d] needs a name and a target version; %s' % (host, index, again))
    try:
        created = utc(stored['created_at'])
    except (TypeError, ValueError) as exc:
        raise PlanRefused('host %s: the stored plan has no valid creation time (%r); %s' % (host, stored['created_at'], again)) from exc
    if created > now + datetime.timedelta(minutes=5):
        raise PlanRefused('host %s: the plan was made at %s, in the future of this controller (%s); check the clocks, then %s'
                          % (host, stored['created_at'], now.strftime('%Y-%m-%dT%H:%M:%SZ'), again))
    age = now - created
    if age > datetime.timedelta(days=max_age_days):
        raise PlanRefused('host %s: the plan of run %s was made at %s, %s ago; the policy allows %d days (plan_max_age_days); %s'
                          % (host, stored.get('run_id') or '-', stored['created_at'], _describe_age(age), max_age_days, again))
    if discovered and discovered.get('last_changed') and discovered['last_changed'] > stored['created_at']:
        raise PlanRefused('host %s: the plan (made %s) is older than the host\'s last discovered change (%s), so it may not '
                          'match what is installed; %s' % (host, stored['created_at'], discovered['last_changed'], again))
    return plan, age


def _policy_hold_applies(hold, host, today):
    if hold.get('finding'):
        return False  # a hold of a finding reaches the run through the plan's held findings
    if not hold.get('package') or (hold.get('host') and hold['host'] != host):
        return False
    return hold.get('until') is None or hold['until'] >= today


def host_holds(host, plan, policy, register_entry, record, *, today):
    """The holds in force for ``host`` as ``system_update`` takes them: [{name, reason, until, finding, source}].

    A policy hold names a package glob that may match the source package; the host's record
    maps it to the binary packages it would hold.
    """
    holds = []
    for entry in ((plan or {}).get('system') or {}).get('held') or []:
        until = entry.get('until')
        if until and str(until) < today.isoformat():
            continue
        for name in entry.get('packages') or [entry.get('package')]:
            if name:
                holds.append({'name': name, 'reason': '%s: %s' % (entry.get('finding'), entry.get('reason')),
                              'until': until, 'finding': entry.get('finding'), 'source': 'plan'})
    # The baseline's refusals and the updates still in their cooling-off period: held in any mode, so an
    # "all updates" run does not install them either.
    decisions = ((plan or {}).get('system') or {}).get('baseline') or {}
    for state, why in (('rejected', 'rejected by the baseline'), ('not_approved', 'not approved by the baseline'),
                       ('waiting', 'in the baseline\'s cooling-off period')):
        for entry in decisions.get(state) or []:
            detail = entry.get('reason') or entry.get('rule') or ('until %s' % entry['eligible_on'] if entry.get('eligible_on') else '')
            suffix = (' (%s)' % detail) if detail else ''
            holds.append({'name': entry['name'], 'reason': '%s %s: %s%s' % (entry['name'], entry.get('target'), why, suffix),
                          'until': entry.get('eligible_on'), 'finding': None, 'source': 'baseline_%s' % state})
    packages = (record or {}).get('packages') or []
    for hold in policy.get('holds') or []:
        if not _policy_hold_applies(hold, host, today):
            continue
        until = hold['until'].isoformat() if hold.get('until') else None
        names = {hold['package']}
        names.update(package['name'] for package in packages if isinstance(package, dict) and isinstance(package.get('name'), str)
                     and fnmatch.fnmatchcase(str(package.get('source_name') or package['name']), hold['package']))
        holds.extend({'name': name, 'reason': hold['reason'], 'until': until, 'finding': None, 'source': 'policy'} for name in sorted(names))
    register_entry = register_entry or {}
    return holds, list(register_entry.get('exclude') or [])


PATCH_SET_KINDS = ('system', 'applications')


def _patch_set(store, set_id, host, register_entry, record, *, kind):
    """The frozen set ``set_id`` as this host may install it: {id, digest, stage, kind, packages, applications}.

    ``kind`` is the run's: a system run gets ``packages`` (and is refused when the set holds nothing for the host's OS
    ecosystem), an application run ``applications``; the other list is empty.  PatchSetRefused when it may not be used.
    """
    if store is None:
        raise PatchSetRefused('patch set %s: there is no asset database to read it from' % set_id)
    stored = store.patch_set(set_id)
    if stored is None:
        raise PatchSetRefused('patch set %s does not exist in %s (check the id: freeze one with patchwise.patching.patch_set_freeze)'
                              % (set_id, store.path))
    patch_set = checked(stored)
    stages = [patch_set['stage'], *(promotion['to_stage'] for promotion in patch_set['promotions'])]
    stage = (register_entry or {}).get('environment')
    if stage not in stages:
        raise PatchSetRefused('host %s is in stage %s, and patch set %s is only for %s: promote it first (playbooks/promote.yml)'
                              % (host, stage or '(no environment in the register)', set_id, ', '.join(stages)))
    if kind not in PATCH_SET_KINDS:
        raise ValueError('patch set kind must be one of %s, not %r' % (', '.join(PATCH_SET_KINDS), kind))
    return {'id': patch_set['id'], 'digest': patch_set['digest'], 'stage': stage, 'kind': kind,
            'packages': host_packages(patch_set, record) if kind == 'system' else [],
            'applications': host_applications(patch_set, record) if kind == 'applications' else []}


def patch_context(store, host, policy, register_entry, now, *, patch_set=None, patch_set_kind='system'):
    """Everything the patch roles read for ``host``: the checked plan, holds, exclusions, the register entry and policy parts.

    ``store`` may be None (no asset database): the run then has no plan and the policy's holds
    still apply, by package name.  Raises PlanRefused when a stored plan may not be used, and
    PatchSetRefused when the frozen ``patch_set`` (an id) may not be installed on this host; ``patch_set_kind`` (system or
    applications) says which part of the set the run installs.
    """
    plan, age, stored, record = None, None, None, None
    if store is not None:
        stored = store.stored_plan(host)
        record = store.record(host)
        if stored is not None:
            plan, age = checked_plan(host, stored, store.discovered(host), policy['plan_max_age_days'], now)
    holds, exclude = host_holds(host, plan, policy, register_entry, record, today=now.date())
    frozen = _patch_set(store, patch_set, host, register_entry, record, kind=patch_set_kind) if patch_set else None
    return {
        'patch_set': frozen,
        'plan': plan or {},
        'found': plan is not None,
        'created_at': stored['created_at'] if stored else None,
        'run_id': stored['run_id'] if stored else None,
        'age_hours': round(age.total_seconds() / 3600.0, 2) if age is not None else None,
        'tier': (plan or {}).get('tier'),
        'holds': holds,
        'exclude': exclude,
        'register': dict(register_entry or {}),
        'policy': {'plan_max_age_days': policy['plan_max_age_days'], 'never_restart': policy['never_restart'],
                   'log_check': policy['log_check'], 'windows': policy['windows'], 'approval': policy['approval']},
    }

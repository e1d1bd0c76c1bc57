# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The patch plan of one host: what to patch, how, when, and whether it may run now.

System and application patches are planned apart, because they follow
different cycles (``system_patch`` and ``app_patch`` consume the two halves;
docs/plan.md describes the format)::

    {schema, host, run_id, tier, due, incident,
     system: {mode: security|none, packages: [{name, target, findings}], held: [{finding, package, packages, until, reason}],
              no_fix: [...],
              reboot, window: {name, open}, approval_required, approval: {reference, approver, valid}, may_run_now, reasons},
     applications: [{name, current, target, findings, ecosystem, scheme}]}

``reboot`` is the policy's rule for the tier; the need is found at patch time, and a need that
cannot be determined (``reboot_required: unknown``) counts as one (docs/plan.md).
"""

from __future__ import annotations

import datetime
import functools
from itertools import repeat

from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions, scheme_for_ecosystem
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import in_window
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_baseline import BaselineError, verdict
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import TIER_ORDER, RiskError

PLAN_SCHEMA = 1


def _later(ecosystem, left, right):
    """The later of two target versions in the ecosystem's version order."""
    if right is None or right == left:
        return left
    return _later_of_two(ecosystem, left, right)


# A fleet's plans compare the same few fixed versions again and again, host after host.
@functools.lru_cache(maxsize=65536)
def _later_of_two(ecosystem, left, right):
    try:
        return left if compare_versions(left, right, scheme_for_ecosystem(ecosystem)) > 0 else right
    except ValueError:
        return max(left, right)


def _scheme(ecosystem):
    """The version scheme of an application's ecosystem, so app_patch compares a target in that order."""
    try:
        return scheme_for_ecosystem(ecosystem)
    except ValueError:
        return 'generic'


def _approval(change_ref, register_entry):
    """The approval reference as {reference, approver, valid}: valid when present and, if the register names approvers, by one of them."""
    if isinstance(change_ref, dict):
        reference, approver = change_ref.get('id') or change_ref.get('reference'), change_ref.get('approver')
    else:
        reference, approver = change_ref or None, None
    approvers = (register_entry or {}).get('approvers') or []
    valid = bool(reference) and (not approvers or approver in approvers)
    return {'reference': reference, 'approver': approver, 'valid': valid}


def _screened(entries, fixes, kind, *, baseline, today, sightings):
    """The entries the baseline makes eligible, and its other decisions ({rejected, waiting, not_approved} lists)."""
    decisions = {'rejected': [], 'waiting': [], 'not_approved': []}
    eligible = {}
    for name, entry in entries.items():
        update = {'name': name, 'target': entry['target'], 'ecosystem': fixes[name][0].get('ecosystem'), 'findings': fixes[name]}
        state, detail = verdict(baseline, update, today, sightings)
        if state == 'eligible':
            eligible[name] = entry
        else:
            decisions[state].append(dict(detail, name=name, target=entry['target'], findings=entry['findings'], kind=kind))
    return eligible, decisions


def patch_plan(result, policy, register_entry=None, *, change_ref=None, moment=None, run_id=None, sightings=None):
    """Build the plan of one host from its risk result; ``moment`` (aware datetime) decides whether its window is open
    and which updates the baseline's cooling-off period still holds back; ``sightings``: {(ecosystem, package,
    version): first seen} of pending updates, from the asset database."""
    register_entry = register_entry or {}
    reasons = []
    packages, held, no_fix, applications = {}, [], [], {}
    fixes = {'system': {}, 'app': {}}   # per planned package or application, the findings it fixes
    system_fixes = fixes['system']
    for finding in result.get('findings') or []:
        if finding.get('status') != 'open':
            continue
        if finding.get('hold'):
            # The binary packages are what the patch run holds back; the finding names the source package.
            updates = finding.get('distribution_security_update') or []
            binaries = sorted({u['name'] for u in updates} | set(finding.get('binary_packages') or []))
            held.append({'finding': finding['id'], 'package': finding['package'], 'packages': binaries,
                         'until': finding['hold']['until'], 'reason': finding['hold']['reason']})
            continue
        if not finding.get('fixed'):
            no_fix.append(finding['id'])
            continue
        if finding['kind'] == 'app':
            app = applications.setdefault(finding['package'], {'name': finding['package'], 'current': finding['installed'],
                                                               'target': None, 'findings': [], 'ecosystem': finding.get('ecosystem'),
                                                               'scheme': _scheme(finding.get('ecosystem'))})
            app['target'] = _later(finding.get('ecosystem'), finding['fixed'], app['target'])
            app['findings'].append(finding['id'])
            fixes['app'].setdefault(finding['package'], []).append(finding)
            continue
        updates = finding.get('distribution_security_update')
        # Advisories name the source version; a pending update names the binary package's own version.
        # zip, not a list: this runs for each of a host's (often a thousand) findings.
        targets = [(u['name'], u['available']) for u in updates] if updates else zip(finding['binary_packages'], repeat(finding['fixed']))
        held_binaries = finding.get('held_binaries')
        for name, target in targets:
            if held_binaries and name in held_binaries:
                held.append({'finding': finding['id'], 'package': name, 'packages': [name], 'until': None,
                             'reason': 'held by the package manager (apt-mark hold)'})
                continue
            entry = packages.get(name)
            if entry is None:
                entry = packages[name] = {'name': name, 'target': target, 'findings': []}
                system_fixes[name] = []
            elif entry['target'] != target:
                entry['target'] = _later(finding.get('ecosystem'), target, entry['target'])
            entry['findings'].append(finding['id'])
            system_fixes[name].append(finding)
    today = (moment or datetime.datetime.now(datetime.timezone.utc)).date()
    baseline = policy.get('baseline') or {}
    try:
        packages, system_decisions = _screened(packages, fixes['system'], 'system', baseline=baseline, today=today, sightings=sightings)
        applications, app_decisions = _screened(applications, fixes['app'], 'app', baseline=baseline, today=today, sightings=sightings)
    except BaselineError as exc:
        raise RiskError('patchwise_policy.baseline: %s' % exc) from exc
    for label, decisions in (('system', system_decisions), ('application', app_decisions)):
        if decisions['rejected'] or decisions['not_approved']:
            reasons.append('%d %s update(s) refused by the baseline' % (len(decisions['rejected']) + len(decisions['not_approved']), label))
        if decisions['waiting']:
            reasons.append('%d %s update(s) waiting for the baseline\'s cooling-off period' % (len(decisions['waiting']), label))
    tier = result.get('tier', 'none')
    window_name = register_entry.get('window')
    window = policy['windows'].get(window_name) if window_name else None
    if window_name and window is None:
        reasons.append('the register names window %s, which the policy does not define: treated as closed' % window_name)
    window_open = in_window(window, moment) if window and moment else (not window_name)
    if not window_name:
        reasons.append('no maintenance window in the register: patching may run at any time')
    approval_required = tier in policy['approval']['tiers'] or register_entry.get('environment') in policy['approval']['environments']
    approval = _approval(change_ref, register_entry)
    if approval_required and not approval['valid']:
        reasons.append('approval required (%s) and %s' % (
            'tier %s' % tier if tier in policy['approval']['tiers'] else 'environment %s' % register_entry.get('environment'),
            'no change reference given' if not approval['reference'] else 'the approver is not one of the register\'s approvers'))
    if held:
        reasons.append('%d finding(s) held by policy' % len(held))
    mode = 'security' if packages else 'none'
    reboot = policy['reboot'].get(tier, 'never') if TIER_ORDER.get(tier, 0) > 0 else 'never'
    return {
        'schema': PLAN_SCHEMA,
        'host': result.get('host'),
        'run_id': run_id if run_id is not None else result.get('run_id'),
        'tier': tier,
        'due': result.get('due'),
        'incident': bool(result.get('incident')),
        'system': {
            'mode': mode,
            'packages': sorted(packages.values(), key=lambda p: p['name']),
            'held': held,
            'no_fix': sorted(set(no_fix)),
            'reboot': reboot,
            'window': {'name': window_name, 'open': bool(window_open)},
            'approval_required': bool(approval_required),
            'approval': approval,
            'may_run_now': mode != 'none' and bool(window_open) and (not approval_required or approval['valid']),
            'reasons': reasons,
            'baseline': system_decisions,
        },
        'applications': sorted(applications.values(), key=lambda a: a['name']),
        'application_baseline': app_decisions,
    }

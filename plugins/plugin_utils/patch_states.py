# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-host patch state counts of one patch run, after AWS Patch Manager's per-instance states.

The outcome of ``system_patch`` or ``app_patch`` is turned into the counts
that the outcome, the report and the patch sets share (DESIGN.md, "patch
state counts").  Each package (or application) the run considered is counted
once, in the first state that applies:

- ``failed``: the run tried to install it and the host failed (rolled back or not);
- ``pending_reboot``: installed, and the host needs a reboot that did not happen;
- ``pending_restart``: installed, and a unit using it was not restarted (the
  policy's never-restart list); such a host is not fully patched;
- ``installed``: installed at (or above) its target in this run, or already there;
- ``installed_other``: changed in this run without being selected (a dependency);
- ``held``: held by a hold (policy, package manager), a package of a finding the plan holds, or an
  update in the baseline's cooling-off period;
- ``rejected``: selected, but excluded by a pattern (policy or register), or refused by the baseline
  (``rejected``, or not in its ``approved`` list);
- ``missing``: wanted and not installed: the sources do not reach the target,
  the gate refused the host, the host failed before the change, or check mode;
- ``not_applicable``: planned for a package the host does not have.
"""

from __future__ import annotations

STATES = ('installed', 'installed_other', 'pending_reboot', 'pending_restart', 'held', 'rejected', 'missing', 'failed', 'not_applicable')
# Steps after which a failed host has tried to install what it selected.
_CHANGE_STEPS = ('apply', 'restart', 'reboot', 'verify', 'logs', 'post_hooks')


def _names(entries):
    return {entry['name'] for entry in entries or [] if isinstance(entry, dict) and entry.get('name')}


def system_state_counts(outcome):
    """``{state: count}`` of a system_patch outcome."""
    counts = dict.fromkeys(STATES, 0)
    selected = _names(outcome.get('selected'))
    changed = {change['name'] for change in outcome.get('packages') or [] if change.get('to')}
    status = outcome.get('status')
    if status == 'refused' or outcome.get('check_mode'):
        counts['missing'] += len(selected)
    elif status in ('failed', 'rolled_back'):
        counts['failed' if outcome.get('step') in _CHANGE_STEPS else 'missing'] += len(selected)
    else:
        installed = len(selected & changed) + len(outcome.get('reached') or [])
        reboot = outcome.get('reboot') or {}
        if reboot.get('required') and not reboot.get('performed'):
            counts['pending_reboot'] += installed
        elif outcome.get('restart_deferred'):
            counts['pending_restart'] += installed
        else:
            counts['installed'] += installed
        counts['missing'] += len(selected - changed)
        counts['installed_other'] += len(changed - selected)
    # A held finding's packages are held whether or not the mode would have taken them.
    plan_held = {name for entry in outcome.get('plan_held') or [] for name in entry.get('packages') or [entry.get('package')] if name}
    baseline = outcome.get('plan_baseline') or {}
    refused = {entry['name'] for state in ('rejected', 'not_approved') for entry in baseline.get(state) or []}
    waiting = {entry['name'] for entry in baseline.get('waiting') or []}
    # The baseline's own decisions count once, as rejected or (cooling off) held, whatever system_update did with their holds.
    counts['held'] += len((_names(outcome.get('held')) | plan_held | waiting) - refused)
    counts['rejected'] += len(_names(outcome.get('excluded')) | refused)
    for entry in outcome.get('unavailable') or []:
        counts['not_applicable' if entry.get('installed') is False else 'missing'] += 1
    return counts


def app_state_counts(outcome):
    """``{state: count}`` of an app_patch outcome (one entry per application)."""
    counts = dict.fromkeys(STATES, 0)
    refused = outcome.get('status') == 'refused'
    for app in outcome.get('applications') or []:
        if refused or (outcome.get('check_mode') and app.get('changed')):
            counts['missing'] += 1
        elif app.get('health') == 'failed' or (app.get('rolled_back') and app.get('reason') != 'manual rollback'):
            counts['failed'] += 1
        elif app.get('current') == app.get('target'):
            counts['installed'] += 1
        else:
            counts['missing'] += 1
    counts['missing'] += len(outcome.get('planned_missing') or [])
    return counts


def patch_state_counts(outcome, kind='system'):
    """The counts of a ``kind`` (system or app) outcome."""
    if not isinstance(outcome, dict):
        raise ValueError('patch_state_counts: the input must be a system_patch or app_patch outcome (a mapping)')
    if kind not in ('system', 'app'):
        raise ValueError('patch_state_counts: kind must be system or app, got %r' % (kind,))
    return system_state_counts(outcome) if kind == 'system' else app_state_counts(outcome)

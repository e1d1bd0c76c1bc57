# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Promotion of a frozen patch set from one stage to the next, through configurable gates.

Stages are register environments in the policy's order (``stages``); a set moves one stage at a
time.  The gates (policy ``promotion``) look at the patch outcomes the set's runs recorded in the
stage it leaves:

- ``coverage``: it was installed on at least ``min_percent`` % of that stage's hosts;
- ``no_failures``: no host of the stage failed or was rolled back installing it;
- ``soak``: at least ``soak_hours`` passed since its last run there;
- ``no_alerts``: no alert (as patchwise.patching.alertmanager_alerts returns them) for those hosts
  started since that run.

Each refusal names its gate.
"""

from __future__ import annotations

import datetime

from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_sets import PatchSetRefused

GATES = ('coverage', 'no_failures', 'soak', 'no_alerts')
_DONE = ('ok', 'changed')
_FAILED = ('failed', 'rolled_back')


def _time(text):
    return datetime.datetime.strptime(text[:19], '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)


def current_stage(patch_set):
    promotions = patch_set.get('promotions') or []
    return promotions[-1]['to_stage'] if promotions else patch_set['stage']


def next_stage(patch_set, stages, to_stage):
    """The stage the set leaves, or PatchSetRefused when ``to_stage`` is not the one after it in ``stages``."""
    if not stages:
        raise PatchSetRefused('the policy lists no stages (policy key stages, e.g. [staging, production]): nothing to promote to')
    here = current_stage(patch_set)
    if here not in stages:
        raise PatchSetRefused('patch set %s is in stage %s, which the policy\'s stages (%s) do not list' % (patch_set['id'], here, ', '.join(stages)))
    if to_stage not in stages:
        raise PatchSetRefused('stage %s is not one of the policy\'s stages (%s)' % (to_stage, ', '.join(stages)))
    position = stages.index(here)
    if position + 1 >= len(stages):
        raise PatchSetRefused('patch set %s is already in the last stage, %s' % (patch_set['id'], here))
    if stages[position + 1] != to_stage:
        raise PatchSetRefused('patch set %s is in %s; the next stage is %s, not %s: a promotion never skips a stage'
                              % (patch_set['id'], here, stages[position + 1], to_stage))
    return here


def gates(patch_set, *, stage_hosts, outcomes, config, now, alerts=()):
    """``[{gate, passed, detail}]`` for promoting ``patch_set`` out of the stage whose hosts are ``stage_hosts``.

    ``outcomes``: the stored patch outcomes ({host, kind, at, status, detail}, kind system or app); those whose detail
    names this set count.  A host is done when the latest run of each kind that installed the set from it is done.
    """
    runs = [outcome for outcome in outcomes if outcome['host'] in stage_hosts
            and ((outcome.get('detail') or {}).get('patch_set') or {}).get('id') == patch_set['id']]
    latest = {}
    for outcome in sorted(runs, key=lambda item: item['at']):
        latest[(outcome['host'], outcome.get('kind') or 'system')] = outcome
    runs_by_host = {}
    for outcome in latest.values():
        runs_by_host.setdefault(outcome['host'], []).append(outcome['status'])
    done = sorted(host for host, statuses in runs_by_host.items() if all(status in _DONE for status in statuses))
    failed = sorted({outcome['host'] for outcome in runs if outcome['status'] in _FAILED})
    results = []
    percent = 100.0 * len(done) / len(stage_hosts) if stage_hosts else 0.0
    results.append({'gate': 'coverage', 'passed': bool(stage_hosts) and percent >= config['min_percent'],
                    'detail': 'installed on %d of %d hosts (%.0f %%; min_percent %d)%s' % (
                        len(done), len(stage_hosts), percent, config['min_percent'],
                        '; not yet on %s' % ', '.join(sorted(set(stage_hosts) - set(done))) if set(stage_hosts) - set(done) else '')})
    if config['require_no_failures']:
        results.append({'gate': 'no_failures', 'passed': not failed,
                        'detail': 'failed or rolled back on %s' % ', '.join(failed) if failed else 'no host failed'})
    last_run = max((outcome['at'] for outcome in runs), default=None)
    if last_run is None:
        results.append({'gate': 'soak', 'passed': False, 'detail': 'the set never ran in this stage'})
    else:
        soaked = (now - _time(last_run)).total_seconds() / 3600.0
        results.append({'gate': 'soak', 'passed': soaked >= config['soak_hours'],
                        'detail': '%.1f hours since its last run there (%s); soak_hours %d' % (soaked, last_run, config['soak_hours'])})
    if config['require_no_alerts']:
        fired = [alert for alert in alerts or [] if last_run and str(alert.get('startsAt') or alert.get('starts_at') or '') >= last_run
                 and (alert.get('labels') or {}).get('instance', (alert.get('labels') or {}).get('host')) in set(stage_hosts) | {None}]
        results.append({'gate': 'no_alerts', 'passed': not fired,
                        'detail': 'alerts since the last run: %s' % ', '.join(sorted({(a.get('labels') or {}).get('alertname', '?') for a in fired}))
                        if fired else 'no alert since the last run'})
    return results

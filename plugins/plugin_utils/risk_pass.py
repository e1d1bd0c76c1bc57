# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet risk pass: every host's record through one engine, results and plans into the asset DB.

Templating runs in a worker per host per task, so nothing a filter caches
survives to the next host; this pass runs once on the controller instead,
with one advisory database connection whose look-ups are memoised, so
identical package versions across hosts cost one look-up.
"""

from __future__ import annotations

import datetime

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_record_check import RECORD_SCHEMA
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_plan import patch_plan
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import TIER_ORDER, RiskEngine, RiskError

_TOP_FINDINGS = 15


def advisory_age_hours(built_at, now):
    """Hours since the advisory database was built (``built_at`` as stored by advisory_db)."""
    return (now - utc(built_at)).total_seconds() / 3600.0


def check_advisory_age(advisories, policy, now, allow_stale):
    """The staleness gate: refuse a database older than the policy allows, unless overridden.  Returns a note or None."""
    if not advisories.built_at:
        raise RiskError('%s: the advisory database records no build time; rebuild it' % advisories.path)
    age = advisory_age_hours(advisories.built_at, now)
    limit = policy['max_advisory_age_hours']
    if age <= limit:
        return None
    message = '%s was built %s, %.0f hours ago; the policy allows %d hours (max_advisory_age_hours)' % (
        advisories.path, advisories.built_at, age, limit)
    if not allow_stale:
        raise RiskError(message + '. Refresh it with patchwise.patching.advisory_db, or set allow_stale_advisories to assess anyway')
    return message + ': assessed anyway (allow_stale_advisories)'


def host_summary(result, plan):
    """The small per-host summary that becomes the host's fact."""
    return {
        'tier': result['tier'], 'due': result['due'], 'score': result['score'], 'decision': result['decision'],
        'incident': result['incident'], 'counts': result['counts'],
        'plan': {'mode': plan['system']['mode'], 'packages': [p['name'] for p in plan['system']['packages']],
                 'applications': [a['name'] for a in plan['applications']], 'reboot': plan['system']['reboot'],
                 'window_open': plan['system']['window']['open'], 'approval_required': plan['system']['approval_required'],
                 'approval_valid': plan['system']['approval']['valid'], 'may_run_now': plan['system']['may_run_now']},
    }


def _ranked_entry(host, finding):
    return {'host': host, 'id': finding['id'], 'package': finding['package'], 'installed': finding['installed'], 'fixed': finding['fixed'],
            'tier': finding['tier'], 'decision': finding['decision'], 'due': finding['due'], 'score': finding['score'],
            'kev': bool(finding['kev'])}


def _rank_key(entry):
    return (-TIER_ORDER[entry['tier']], entry['due'], -entry['score'], entry['host'], entry['id'])


def assess_fleet(store, advisories, policy, register, hosts, **options):
    """Classify ``hosts`` (names in the asset DB); store results and plans unless ``check_mode``.

    Options: run_id, change_ref, check_mode, now (aware datetime), today (date).
    Hosts are classified and written one at a time inside one transaction, so
    memory holds one host's findings, not the fleet's.
    Returns {hosts: {host: summary}, tiers, missing, skipped, ranked, open_findings, lifecycle: {host: {opened, closed}}, changed}.
    """
    now = options.get('now') or datetime.datetime.now(datetime.timezone.utc)
    run_id, check_mode = options.get('run_id'), options.get('check_mode', False)
    engine = RiskEngine(policy, advisories, today=options.get('today') or now.date())
    summaries, plans, missing, skipped, candidates = {}, {}, [], {}, []
    moved = []
    totals = {'open': 0}

    def classified():
        # Tier and due of every host before this pass, in one query inside the store's transaction:
        # a host whose tier or due moves is a change.
        before = store.risk_tiers()
        for host in hosts:
            record = store.matching_input(host)
            if record is None:
                missing.append(host)
                continue
            if record.get('schema') != RECORD_SCHEMA:
                skipped[host] = ['asset record schema %r; run discovery again to refresh it' % record.get('schema')]
                continue
            # The host's finding rows are read once: for the lifecycle here, and handed on to the store.
            rows = store.finding_rows(host)
            lifecycle = {key: row[1] for key, row in rows.items() if row[0] != 'fixed'}
            result = engine.classify(host, record, register.get(host), lifecycle, run_id=run_id)
            if result['skipped']:
                skipped[host] = result['skipped']
            if before.get(host, (None, None)) != (result['tier'], result['due']):
                moved.append(host)
            before[host] = (result['tier'], result['due'])   # as stored, should the host be listed twice
            plans[host] = patch_plan(result, policy, register.get(host), change_ref=options.get('change_ref'), moment=now, run_id=run_id)
            summaries[host] = host_summary(result, plans[host])
            open_findings = [f for f in result['findings'] if f['status'] == 'open']
            totals['open'] += len(open_findings)
            # Findings come ranked per host: a host's first few are all it can add to the fleet's top.
            candidates.extend(_ranked_entry(host, f) for f in open_findings[:_TOP_FINDINGS])
            yield host, result, rows

    lifecycle_changes = store.store_risk_results(classified(), run_id=run_id, check_mode=check_mode, details=engine.details)
    store.store_plans(plans, run_id=run_id, check_mode=check_mode)
    ranked = sorted(candidates, key=_rank_key)[:_TOP_FINDINGS]
    for finding in ranked:
        finding['line'] = '%-8s due %s  %s  %s %s %s -> %s%s' % (
            finding['tier'], finding['due'], finding['host'], finding['id'], finding['package'], finding['installed'],
            finding['fixed'] or 'no fix yet', ' (KEV)' if finding['kev'] else '')
    return {
        'hosts': summaries,
        'tiers': {tier: sum(1 for summary in summaries.values() if summary['tier'] == tier) for tier in TIER_ORDER},
        'missing': missing,
        'skipped': skipped,
        'ranked': ranked,
        'open_findings': totals['open'],
        'lifecycle': lifecycle_changes,
        'changed': bool(moved) or any(item['opened'] or item['closed'] for item in lifecycle_changes.values()),
    }

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
import functools
import hashlib
import json
import sys

from ansible_collections.patchwise.patching.plugins.plugin_utils import maintenance_windows, patch_baseline
from ansible_collections.patchwise.patching.plugins.plugin_utils import patch_plan as planning
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_record_check import RECORD_SCHEMA
from ansible_collections.patchwise.patching.plugins.plugin_utils.code_identity import source_digest
from ansible_collections.patchwise.patching.plugins.plugin_utils.collector_pause import cyclic_collector_paused
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import in_window
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_plan import patch_plan
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import TIER_ORDER, RiskEngine

_TOP_FINDINGS = 15
# Hosts whose inputs and finding rows are read together: memory holds this many hosts' rows at once.
_READ_AHEAD = 50
# Distinct match views, and assessments, a pass keeps for the hosts alike that follow (see assess_fleet): past this
# many it starts again.  Each holds one host's view and matched findings, or its result and plan, a few hundred kB.
_SHARED_LIMIT = 32


def plan_brief(plan):
    """What a host's summary shows of its plan; stored beside the plan, for the passes that keep it."""
    system = plan['system']
    return {'mode': system['mode'], 'packages': [p['name'] for p in system['packages']], 'applications': [a['name'] for a in plan['applications']],
            'reboot': system['reboot'], 'window_open': system['window']['open'], 'approval_required': system['approval_required'],
            'approval_valid': system['approval']['valid'], 'may_run_now': system['may_run_now']}


def host_summary(result, brief):
    """The small per-host summary that becomes the host's fact (``brief``: see ``plan_brief``)."""
    return {
        'tier': result['tier'], 'due': result['due'], 'score': result['score'], 'decision': result['decision'],
        'incident': result['incident'], 'counts': result['counts'], 'plan': brief,
    }


def _ranked_entry(host, finding):
    return {'host': host, 'id': finding['id'], 'package': finding['package'], 'installed': finding['installed'], 'fixed': finding['fixed'],
            'tier': finding['tier'], 'decision': finding['decision'], 'due': finding['due'], 'score': finding['score'],
            'kev': bool(finding['kev'])}


def _rank_key(entry):
    return (-TIER_ORDER[entry['tier']], entry['due'], -entry['score'], entry['host'], entry['id'])


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'), default=str)


@functools.lru_cache(maxsize=None)
def planning_code():
    """The digest of the modules that make a host's result and plan from its findings (this pass, plans, baseline, windows)."""
    return source_digest((maintenance_windows, patch_baseline, planning, sys.modules[__name__]))


def pass_inputs(engine, change_ref, today):
    """What every host's assessment in this pass depends on besides its own record and register entry.

    The policy (without its compiled rules), the engine's decision context (its decision tables'
    contents, the advisory database's identity, the deciding code), the code that plans, the change
    reference the plans check, and - when the policy has acceptances or holds, which expire - today's date.
    """
    policy = engine.policy
    rules = [{key: value for key, value in rule.items() if key != 'compiled'} for rule in policy.get('rules') or []]
    # Acceptances and holds expire, and the baseline's cooling-off period ends, as the days pass.
    dated = bool(policy.get('acceptances') or policy.get('holds') or any((policy.get('baseline') or {}).get('approve_after_days', {}).values()))
    return _canonical([dict(policy, rules=rules), engine.decision_context, planning_code(), change_ref, today.isoformat() if dated else None])


def host_inputs(common, record_digest, register_entry, window_open):
    """The digest of everything one host's result and plan are made from (see ``pass_inputs``)."""
    text = '\n'.join((common, record_digest or '', _canonical(register_entry or {}), str(bool(window_open))))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _window_open(policy, register_entry, moment):
    """Whether the host's maintenance window is open at ``moment``, as the plan decides it."""
    name = (register_entry or {}).get('window')
    if not name:
        return True
    window = policy['windows'].get(name)
    return bool(window and in_window(window, moment))


@cyclic_collector_paused()
def assess_fleet(store, advisories, policy, register, hosts, **options):
    """Classify ``hosts`` (names in the asset DB); store results and plans unless ``check_mode``.

    Options: run_id, change_ref, check_mode, now (aware datetime), today (date), force.
    A host whose record, register entry, window state, the policy and the advisory database are
    all as at its last assessment keeps that assessment: it is skipped (and counted in
    ``unchanged``) unless ``force``.  So does a host whose record changed in nothing its findings
    are made from (``RiskEngine.match_digest``: a package no advisory names, a service): it is
    matched again, not classified, and counted in ``unchanged`` and ``unaffected``.  Hosts with the
    same match view are matched once; hosts alike (the same match inputs and lifecycle, and nothing
    in the policy that sees the host: see ``RiskEngine.result_is_own``) are classified and planned
    once, and the others take copies.  Hosts are
    classified and written one at a time inside one transaction with their plans, so memory
    holds one host's findings and plan (and a few distinct ones kept for hosts alike), not the fleet's.
    The cyclic garbage collector is paused meanwhile: nothing the pass makes forms a reference cycle.
    Returns {hosts: {host: summary}, tiers, missing, skipped, unchanged, unaffected, ranked,
    open_findings, lifecycle: {host: {opened, closed}}, changed}.
    """
    now = options.get('now') or datetime.datetime.now(datetime.timezone.utc)
    today = options.get('today') or now.date()
    run_id, check_mode = options.get('run_id'), options.get('check_mode', False)
    hosts = list(dict.fromkeys(hosts))     # a host named twice is assessed once
    engine = RiskEngine(policy, advisories, today=today)
    common = pass_inputs(engine, options.get('change_ref'), today)
    summaries, missing, skipped, candidates = {}, [], {}, []
    moved, unchanged = [], []
    # Hosts whose record changed in nothing their findings are made from: {host: the inputs their result now stands for}.
    unaffected = {}
    totals = {'open': 0}

    sightings = store.update_sightings()
    # Hosts alike have the same match view, parsed once by the store into one object ({view text: view}): each distinct
    # view is matched once, {id(view): (view, matched, match digest)}.
    views, matches = {}, {}

    def classified():
        # Tier and due of every host before this pass, in one query inside the store's transaction:
        # a host whose tier or due moves is a change.
        before = store.risk_tiers()
        state = store.assessment_state()
        assessed = []
        for host in hosts:
            digest, known_inputs, known_match_inputs = state.get(host, (None, None, None))
            register_entry = register.get(host)
            window_open = _window_open(policy, register_entry, now)
            inputs = host_inputs(common, digest, register_entry, window_open)
            if digest is not None and known_inputs == inputs and not options.get('force'):
                # Nothing this host's assessment depends on changed: its stored result and plan stand.
                unchanged.append(host)
            else:
                assessed.append((host, inputs, known_match_inputs, register_entry, window_open))
        for start in range(0, len(assessed), _READ_AHEAD):
            batch = assessed[start:start + _READ_AHEAD]
            # The memos key the pass's shared raw findings by identity: emptied before a batch is matched, never while
            # one's matched findings wait to be classified.  The views matched before go with them: their matched
            # findings are not in the memos any more, which kept them alive, so their ids could be another's.
            if engine.forget_if_full() or len(views) > _SHARED_LIMIT or len(matches) > _SHARED_LIMIT:
                views.clear()
                matches.clear()
            # What the batch's hosts are matched on, then the finding rows of those whose matched findings changed, read
            # a few queries for the batch (each query is a round trip on PostgreSQL); the rows serve the lifecycle here
            # and are handed on to the store.
            matching = store.matching_inputs([item[0] for item in batch], parsed=views)
            to_classify = list(matched_batch(batch, matching))
            finding_rows = store.finding_rows_of([item[0] for item in to_classify])
            yield from classified_batch(to_classify, finding_rows, before)

    def matched_batch(batch, matching):
        for host, inputs, known_match_inputs, register_entry, window_open in batch:
            record = matching[host]
            if record is None:
                missing.append(host)
                continue
            if record.get('schema') != RECORD_SCHEMA:
                skipped[host] = ['asset record schema %r; run discovery again to refresh it' % record.get('schema')]
                continue
            known = matches.get(id(record))
            if known is None:
                matched = engine.match(record)
                # The record is kept with what it was matched as: while it is, no other object can have its id.
                known = matches[id(record)] = (record, matched, engine.match_digest(record, matched))
            _record, matched, match_digest = known
            match_inputs = host_inputs(common, match_digest, register_entry, window_open)
            if known_match_inputs == match_inputs and not options.get('force'):
                # The record changed, but not in anything its findings are made from (a package no advisory names):
                # the stored result and plan stand, and the next pass compares the record as it is now.
                unchanged.append(host)
                unaffected[host] = inputs
                continue
            yield host, inputs, match_inputs, record, matched

    def classified_batch(batch, finding_rows, before):
        for host, inputs, match_inputs, record, matched in batch:
            rows = finding_rows[host]
            lifecycle = {key: row[1] for key, row in rows.items() if row[0] != 'fixed'}
            result, plan, brief, open_findings = assessment(host, match_inputs, record, matched, lifecycle)
            if result['skipped']:
                skipped[host] = result['skipped']
            if before.get(host, (None, None)) != (result['tier'], result['due']):
                moved.append(host)
            summaries[host] = host_summary(result, brief)
            totals['open'] += len(open_findings)
            # Findings come ranked per host: a host's first few are all it can add to the fleet's top.
            result['top'] = [_ranked_entry(host, f) for f in open_findings[:_TOP_FINDINGS]]
            result['inputs'] = inputs
            result['match_inputs'] = match_inputs
            candidates.extend(result['top'])
            # The plan goes to the store with the result, written in the same transaction: not kept for the fleet.
            yield host, result, rows, (plan, brief)

    # Hosts alike - built from one image, patched alike, in one register class and window - have the same match inputs,
    # and when their findings were first seen alike too, the same result and plan but for the host's name: the first
    # such host is classified and planned, the others take copies.  {(match inputs, lifecycle): (result, plan, brief, open
    # findings)}.
    shared = {}

    def assessment(host, match_inputs, record, matched, lifecycle):
        register_entry = register.get(host)
        key = None if engine.result_is_own(host) else (match_inputs, frozenset(lifecycle.items()))
        known = shared.get(key) if key is not None else None
        if known is not None:
            result, plan, brief, open_findings = known
            # The findings list and its dicts are shared, as the engine shares findings between hosts: read, never changed
            # but for the status and first seen the store sets, which are the same for hosts with the same lifecycle.
            return dict(result, host=host), dict(plan, host=host), brief, open_findings
        # The open findings are what each copy counts and ranks: listed once (a thousand findings), not once per host.
        result, open_findings = engine.classify_listing(host, record, register_entry, lifecycle, run_id=run_id, matched=matched)
        plan = patch_plan(result, policy, register_entry, change_ref=options.get('change_ref'), moment=now, run_id=run_id,
                          sightings=sightings)
        brief = plan_brief(plan)
        if key is not None:
            if len(shared) >= _SHARED_LIMIT:
                shared.clear()
            shared[key] = (result, plan, brief, open_findings)
        return result, plan, brief, open_findings

    # The store's times (first seen, closed, plan made) are the pass's moment, the same clock the engine dated with.
    stamp = now.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    lifecycle_changes = store.store_risk_results(classified(), run_id=run_id, now=stamp, check_mode=check_mode,
                                                 details=engine.details, detail_parts=engine.detail_parts,
                                                 decided_under=engine.decision_context)
    kept = store.kept_assessments(unchanged)
    for host in unchanged:
        if host not in kept:
            # Removed by another run since this pass compared it: nothing to report for it.
            missing.append(host)
            continue
        result, brief = kept[host]
        summaries[host] = host_summary(result, brief)
        totals['open'] += result['counts']['open']
        candidates.extend(result.get('top') or [])
        if result.get('skipped'):
            skipped[host] = result['skipped']
        lifecycle_changes.setdefault(host, {'opened': 0, 'closed': 0})
    if unchanged:
        store.confirm_assessments(unchanged, run_id=run_id, assessed_on=today.isoformat(), now=stamp, check_mode=check_mode,
                                  inputs=unaffected)
    ranked = [dict(entry) for entry in sorted(candidates, key=_rank_key)[:_TOP_FINDINGS]]
    for finding in ranked:
        finding['line'] = '%-8s due %s  %s  %s %s %s -> %s%s' % (
            finding['tier'], finding['due'], finding['host'], finding['id'], finding['package'], finding['installed'],
            finding['fixed'] or 'no fix yet', ' (KEV)' if finding['kev'] else '')
    summaries = {host: summaries[host] for host in hosts if host in summaries}
    skipped = {host: skipped[host] for host in hosts if host in skipped}
    return {
        'hosts': summaries,
        'tiers': {tier: sum(1 for summary in summaries.values() if summary['tier'] == tier) for tier in TIER_ORDER},
        'missing': missing,
        'skipped': skipped,
        'unchanged': len(unchanged),
        'unaffected': len(unaffected),
        'ranked': ranked,
        'open_findings': totals['open'],
        'lifecycle': lifecycle_changes,
        'changed': bool(moved) or any(item['opened'] or item['closed'] for item in lifecycle_changes.values()),
    }

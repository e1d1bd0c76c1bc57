# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The risk engine as it was before the fleet pass shared its per-finding work (issue 19): the property test's reference.

A frozen copy of ``RiskEngine.classify`` and the raw-finding matching of
``risk_findings`` as of 2026-12-06, where every host's every finding is built
as a dict of its own.  ``test_risk_pass`` runs full passes with this engine
beside the current one and requires the same stored results, findings,
lifecycle dates and plans.  Remove it once the new pass has been proven
against it (issue 19 says so).
"""

from __future__ import annotations

import datetime

from ansible_collections.patchwise.patching.plugins.module_utils.versions import scheme_for_ecosystem
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import TIERS, JMESPathError
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import (
    _CAPPED_URGENCY,
    RESULT_SCHEMA,
    TIER_ORDER,
    RiskError,
    _date,
    _matches,
    finding_score,
)
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_findings import _escape, _finding, _split_key, _unescape, is_match_view, match_view
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_points import DERIVABLE_POINTS, derive_points
from ansible_collections.patchwise.patching.plugins.plugin_utils.ssvc import SSVCError, resolve_table


def _memoised(cache, match, kind, package, installed, *, binaries, scheme):
    """A fresh copy of the raw finding for this match; the matching work is done once per pass."""
    key = (match['id'], match['ecosystem'], kind, package, installed, tuple(binaries))
    base = cache.get(key)
    if base is None:
        base = cache[key] = _finding(match, kind, package, installed, binaries=binaries, scheme=scheme)
    return dict(base)


def _os_findings(view, advisories, skipped, cache):
    os_facts = view['os']
    ecosystems = os_facts.get('ecosystems') or ([os_facts['ecosystem']] if os_facts.get('ecosystem') else [])
    if not view['has_packages']:
        return []
    if not ecosystems:
        skipped.append('OS packages not matched: %s' % (os_facts.get('ecosystem_reason') or 'the record names no OSV ecosystem for %s %s'
                                                        % (os_facts.get('distribution'), os_facts.get('version'))))
        return []
    findings, seen = [], {}
    for ecosystem in ecosystems:
        for finding in _ecosystem_findings(view, ecosystem, advisories, skipped, cache):
            key = (finding['id'], finding['package'], finding['installed'])
            known = seen.get(key)
            if known is None:
                seen[key] = finding
                findings.append(finding)
            elif known['fixed'] is None and finding['fixed'] is not None:
                # An Ubuntu Pro host: the ESM ecosystem may know the fix the release's does not.
                known.update(fixed=finding['fixed'], ecosystem=finding['ecosystem'])
    return findings


def _ecosystem_findings(view, ecosystem, advisories, skipped, cache):
    """The findings of the host's packages in one of its ecosystems."""
    try:
        scheme = scheme_for_ecosystem(ecosystem)
    except ValueError:
        skipped.append('OS packages not matched: unknown ecosystem %s' % ecosystem)
        return []
    if advisories is None:
        return []
    keys = view['keys'].split('\n')
    wanted = set(keys)
    # Keys already matched in this pass (most of a fleet's) are decided by set operations:
    # Python-level work per host follows its new keys and its findings, not its packages.
    seen = cache.setdefault(('keys seen', ecosystem), set())
    hits = cache.setdefault(('keys matched', ecosystem), {})
    new = wanted - seen
    if new:
        for (name, version), found in advisories.match(ecosystem, [_split_key(key) for key in new]).items():
            if found:
                hits[_escape(name) + '\t' + _escape(version)] = found
        seen |= new
        cache[('hit keys', ecosystem)] = set(hits)
    found_keys = wanted & cache.get(('hit keys', ecosystem), set())
    if not found_keys:
        return []
    position = dict(zip(keys, range(len(keys))))
    binaries = view['binaries'].split('\n')
    held = set()
    for key in found_keys:
        held.update(view['held'].get(key, ()))
    findings = []
    for name, version, key in sorted((*_split_key(key), key) for key in found_keys):
        built = binaries[position[key]]
        built_from = [_unescape(binary) for binary in built.split('\t')] if built else [name]
        held_here = [binary for binary in built_from if binary in held]
        unfinished = view.get('unfinished', {}).get(key)
        for match in hits[key]:
            finding = _memoised(cache, match, 'os', name, version, binaries=built_from, scheme=scheme)
            if held_here:
                finding['held_binaries'] = held_here
            if unfinished:
                finding['unfinished_binaries'] = dict(unfinished)
            findings.append(finding)
    return findings


def _app_findings(view, advisories, skipped, cache):
    if advisories is None:
        return []
    by_ecosystem = {}
    for ecosystem, name, version in view['applications']:
        by_ecosystem.setdefault(ecosystem, set()).add((name, version))
    findings = []
    for ecosystem, wanted in sorted(by_ecosystem.items()):
        try:
            scheme = scheme_for_ecosystem(ecosystem)
        except ValueError:
            skipped.append('applications not matched: unknown ecosystem %s' % ecosystem)
            continue
        for (name, version), found in sorted(advisories.match(ecosystem, sorted(wanted)).items()):
            findings.extend(_memoised(cache, match, 'app', name, version, binaries=[], scheme=scheme) for match in found)
    return findings


def _distribution_updates(view, findings):
    """Attach pending security updates to the findings of their packages; add one finding per source package no advisory fixes.

    ``fixed`` comes only from advisory data: a pending update is shown as the finding's
    ``candidate``, never as its fix - an advisory that names no fix (Debian's ``<unfixed>``) stays
    unfixed however new the package gets.  A security update that fixes none of its package's known
    findings fixes something the loaded feeds do not name: it gets a ``security-update:`` finding.
    """
    covered = {}
    for finding in findings:
        if finding['kind'] == 'os':
            for binary in finding['binary_packages']:
                covered.setdefault(binary, []).append(finding)
    unnamed = {}
    for update in view['updates']:
        pending = {'name': update['name'], 'available': update['available'], 'origin': update['origin']}
        for finding in covered.get(update['name'], ()):
            finding['distribution_security_update'] = [*(finding['distribution_security_update'] or []), pending]
            finding['candidate'] = update['available']
        if not any(finding['fixed'] is not None for finding in covered.get(update['name'], ())):
            unnamed.setdefault(update['name'], []).append((update, pending))
    if unnamed:
        # Group the binaries no advisory names by their source package.
        source_of = view['update_sources']
        by_source = {}
        for binary, updates in unnamed.items():
            by_source.setdefault(source_of.get(binary, binary), []).extend(updates)
        unnamed = by_source
    extra = []
    for source, updates in sorted(unnamed.items()):
        first = updates[0][0]
        extra.append({
            'id': 'security-update:%s' % source,
            'aliases': [],
            'kind': 'os',
            'package': source,
            'binary_packages': sorted(update['name'] for update, _pending in updates),
            'installed': first.get('current'),
            'fixed': first.get('available'),
            'ecosystem': view['os'].get('ecosystem'),
            'summary': 'pending update marked as a security fix by the distribution (%s)' % first.get('origin'),
            'source': 'distribution',
            'cvss': None, 'epss': None, 'kev': None, 'tracker_status': None, 'urgency': None,
            'distribution_security_update': [pending for _update, pending in updates],
        })
    return extra


def record_findings(record, advisories, cache=None):
    """Return (raw findings, [reasons something was not matched]) for one asset record (or its ``match_view``).

    ``cache`` (a dict kept across the records of one pass) memoises the raw
    findings and which package keys match; each record gets its own copies.
    """
    cache = {} if cache is None else cache
    view = record if is_match_view(record) else match_view(record)
    skipped = []
    findings = _os_findings(view, advisories, skipped, cache) + _app_findings(view, advisories, skipped, cache)
    findings.extend(_distribution_updates(view, findings))
    return findings, skipped


class ReferenceRiskEngine:
    """Classifies asset records under one policy, with one advisory database."""

    def __init__(self, policy, advisories=None, today=None):
        self.policy = policy
        self.advisories = advisories
        self.today = today or datetime.datetime.now(datetime.timezone.utc).date()
        try:
            self.decision_table = resolve_table(policy['tables']['decision'])
            self.due_table = resolve_table(policy['tables']['due'])
            for table in (self.decision_table, self.due_table):
                table.check_suppliable(DERIVABLE_POINTS, policy['point_defaults'])
        except SSVCError as exc:
            raise RiskError('patchwise_policy.tables: %s' % exc) from exc
        missing = [outcome for outcome in self.decision_table.outcomes if outcome not in policy['tiers']]
        if missing:
            raise RiskError('patchwise_policy.tiers: no tier for outcome(s) %s of decision table %s'
                            % (', '.join(missing), self.decision_table.source))
        self._outcomes = {}
        self._raw = {}
        self._dues = {}
        # detail_key -> the shared part of a finding (see _detail); the store writes each once.
        self.details = {}
        # No decision context: the store writes every detail the pass meets, as it did before asset schema 11.
        self.decision_context = None

    def _lookup(self, table, points):
        key = (id(table), tuple(points[point] for point in table.inputs))
        outcome = self._outcomes.get(key)
        if outcome is None:
            outcome = self._outcomes[key] = table.outcome_for(points)
        return outcome

    def _due_days(self, due_class, tier):
        if due_class in self.policy['due_days']:
            return self.policy['due_days'][due_class], 'due class %s: %d days' % (due_class, self.policy['due_days'][due_class])
        if due_class == 'FSU':
            return self.policy['upgrade_horizon_days'], 'due class FSU (fix on system upgrade): upgrade horizon %d days' % (
                self.policy['upgrade_horizon_days'])
        days = self.policy['sla_days'].get(tier)
        return days, 'due class %s has no days in the policy: SLA for %s, %s days' % (due_class, tier, days)

    def _detail(self, item, register_entry):
        """The shared part of a finding: advisory facts, SSVC inputs and outcomes, base tier, reasons.

        Memoised by ``detail_key``: hosts with the same finding in the same
        situation (same installed version, binaries, exposure and criticality)
        share one detail, computed once per pass and stored once.
        """
        register_entry = register_entry or {}
        key = '%s|%s|%s|%s|%s|%s|%s|%s' % (item['id'], item['ecosystem'], item['package'], item['installed'], item['fixed'],
                                           ','.join(item['binary_packages']), register_entry.get('exposure'), register_entry.get('criticality'))
        if item['source'] == 'distribution':
            # As the engine keys them since a pending update from another archive became another finding.
            key += '|' + item['summary']
        detail = self.details.get(key)
        if detail is not None:
            return detail
        reasons = []
        epss = (item.get('epss') or {}).get('score')
        points, point_reasons = derive_points(
            {'cvss': item.get('cvss'), 'epss': epss, 'kev': item.get('kev'), 'vulnrichment': item.get('vulnrichment'),
             'exploit_public': item.get('exploit_public')},
            register_entry, self.policy['epss_threshold'], self.policy['point_defaults'])
        for point, value in self.policy['point_defaults'].items():
            # Points of a user's own table that the data cannot supply at all.
            points.setdefault(point, value)
        reasons.extend(point_reasons)
        decision = self._lookup(self.decision_table, points)
        tier = self.policy['tiers'][decision]
        due_class = self._lookup(self.due_table, points)
        reasons.append('%s -> %s (%s)' % (self.decision_table.key or self.decision_table.source,
                                          decision, ', '.join('%s=%s' % (p, points[p]) for p in self.decision_table.inputs)))
        reasons.append('%s -> %s (%s)' % (self.due_table.key or self.due_table.source,
                                          due_class, ', '.join('%s=%s' % (p, points[p]) for p in self.due_table.inputs)))
        capped = _CAPPED_URGENCY.get(item.get('urgency'))
        if capped and TIER_ORDER[tier] > TIER_ORDER[capped]:
            reasons.append('tier %s capped at %s: Debian rates it %s' % (tier, capped, item['urgency']))
            tier = capped
        if item.get('tracker_status') in ('no-dsa', 'ignored', 'postponed'):
            reasons.append('Debian tracker status %s: fixed in a point release, not a security advisory' % item['tracker_status'])
        days, due_reason = self._due_days(due_class, tier)
        reasons.append(due_reason)
        if item['fixed'] is None:
            reasons.append('no fix yet')
        if item['source'] == 'distribution':
            reasons.append('no advisory in the database names it; the distribution marks the update as a security fix')
        detail = dict(item, detail_key=key, decision=decision, due_class=due_class, tier=tier, days=days,
                      incident=due_class in self.policy['forensic_triage_outcomes'], ssvc=points, reasons=reasons,
                      score=finding_score(item))
        for host_field in ('distribution_security_update', 'held_binaries', 'candidate', 'unfinished_binaries'):
            detail.pop(host_field, None)
        self.details[key] = detail
        return detail

    def _due(self, detail, first_seen):
        """The due date and its reason: days from first seen (or KEV date added), a KEV due date when earlier."""
        kev = detail.get('kev') or {}
        key = (detail['days'], kev.get('added'), kev.get('due'), first_seen[:10])
        known = self._dues.get(key)
        if known is None:
            known = self._dues[key] = self._compute_due(detail['days'], kev, first_seen)
        return known

    def _compute_due(self, days, kev, first_seen):
        from_kev = self.policy['due_from'] == 'kev_added' and kev.get('added')
        start = _date(kev['added']) if from_kev else _date(first_seen)
        due = start + datetime.timedelta(days=days)
        reason = 'due %s: %d days from %s (%s)' % (due, days, start, 'KEV date added' if from_kev else 'first seen')
        if kev.get('due') and _date(kev['due']) < due:
            due = _date(kev['due'])
            reason = 'due %s: the CISA KEV due date is earlier' % due
        return due.isoformat(), reason

    def _apply_rules(self, host_context, finding):
        for index, rule in enumerate(self.policy['rules']):
            try:
                matched = rule['compiled'].search({'host': host_context, 'finding': finding})
            except JMESPathError as exc:
                # A type error inside an expression shows only when it meets data: name the rule and the finding.
                raise RiskError('patchwise_policy.rules[%d] (%s): the expression %r failed on host %s, finding %s: %s'
                                % (index, rule.get('name') or 'unnamed', rule['when'], host_context.get('name'),
                                   finding.get('id'), exc)) from exc
            if matched:
                if rule.get('tier') and rule['tier'] != finding['tier']:
                    finding['host_reasons'].append('rule %r: tier %s -> %s' % (rule.get('name', rule['when']), finding['tier'], rule['tier']))
                    finding['tier'] = rule['tier']
                if rule.get('status'):
                    finding['status'] = rule['status']
                    because = (' - ' + rule['reason']) if rule.get('reason') else ''
                    finding['host_reasons'].append('rule %r: status %s%s' % (rule.get('name', rule['when']), rule['status'], because))

    def _apply_exceptions(self, host, finding):
        for acceptance in self.policy['acceptances']:
            if _matches(acceptance, host, finding):
                if acceptance['expires'] >= self.today:
                    finding['status'] = 'accepted'
                    finding['acceptance'] = {'owner': acceptance['owner'], 'reason': acceptance['reason'],
                                             'expires': acceptance['expires'].isoformat()}
                    finding['host_reasons'].append('accepted by %s until %s: %s' % (acceptance['owner'], acceptance['expires'], acceptance['reason']))
                else:
                    finding['host_reasons'].append('acceptance by %s expired on %s: reopened' % (acceptance['owner'], acceptance['expires']))
                break
        for hold in self.policy['holds']:
            if _matches(hold, host, finding) and (hold.get('until') is None or hold['until'] >= self.today):
                finding['hold'] = {'until': hold['until'].isoformat() if hold.get('until') else None, 'reason': hold['reason']}
                finding['host_reasons'].append('held%s: %s' % (' until %s' % hold['until'] if hold.get('until') else '', hold['reason']))
                break

    def classify(self, host, record, register_entry=None, lifecycle=None, run_id=None):
        """The risk result of one host.  ``lifecycle``: {(id, package): first_seen} of findings already known."""
        lifecycle = lifecycle or {}
        raw, skipped = record_findings(record, self.advisories, self._raw)
        today = self.today.isoformat()
        host_context = {'name': host, 'register': register_entry or {}, 'os': record.get('os') or {}}
        findings = []
        for item in raw:
            detail = self._detail(item, register_entry)
            first_seen = lifecycle.get((item['id'], item['package'])) or today
            due, due_reason = self._due(detail, first_seen)
            finding = dict(detail, status='open', first_seen=first_seen, closed=None, hold=None, acceptance=None, due=due,
                           distribution_security_update=item.get('distribution_security_update'), host_reasons=[due_reason],
                           held_binaries=item.get('held_binaries') or [], candidate=item.get('candidate'),
                           unfinished_binaries=item.get('unfinished_binaries') or {})
            if finding['unfinished_binaries']:
                finding['host_reasons'].append('not fully installed, its files are on disk: %s' % ', '.join(
                    '%s (%s)' % pair for pair in sorted(finding['unfinished_binaries'].items())))
            if self.policy['rules']:
                self._apply_rules(host_context, finding)
            if self.policy['acceptances'] or self.policy['holds']:
                self._apply_exceptions(host, finding)
            finding['reasons'] = [*detail['reasons'], *finding['host_reasons']]
            findings.append(finding)
        findings.sort(key=lambda f: (-TIER_ORDER[f['tier']], f['due'], -f['score'], f['id'], f['package']))
        open_findings = [f for f in findings if f['status'] == 'open']
        top = open_findings[0] if open_findings else None
        counts = {tier: sum(1 for f in open_findings if f['tier'] == tier) for tier in TIERS}
        return {
            'schema': RESULT_SCHEMA,
            'host': host,
            'run_id': run_id,
            'assessed_on': today,
            'tier': top['tier'] if top else 'none',
            'score': max((f['score'] for f in open_findings), default=0.0),
            'decision': top['decision'] if top else None,
            'due': min((f['due'] for f in open_findings), default=None),
            'incident': any(f['incident'] for f in open_findings),
            'counts': dict(counts, open=len(open_findings), accepted=sum(1 for f in findings if f['status'] == 'accepted'),
                           held=sum(1 for f in open_findings if f['hold'])),
            'findings': findings,
            'skipped': skipped,
        }

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The risk engine: findings, SSVC decisions, tiers and due dates for asset records.

``RiskEngine(policy, advisories)`` loads the policy's decision tables once and
checks that the data can supply every decision point they use.
``engine.classify(host, record, register_entry, lifecycle)`` returns the risk
result of the design document for one host; the fleet pass calls it per
host with the same engine, so advisory look-ups and SSVC outcomes are
memoised across hosts, and a finding is decided once per detail (advisory,
package state, exposure and criticality) and first-seen date, not once per
host, unless something of its host is in it.

Per finding: the decision points come from ``risk_points`` (what the advisory data decides once
per raw finding, what the register entry decides once per exposure and criticality); the
decision table (``ssvc-deployer`` by default) gives the decision and, through
``policy.tiers``, the tier; the due table (``bod-26-04`` by default) gives
the due class and so the days.  The due clock starts when the finding was
first seen (or when CISA added it to KEV, as the policy says); a KEV
``dueDate`` that is earlier wins.  Then the policy's custom rules,
acceptances and holds apply.  Every step leaves a line in ``reasons``.
"""

from __future__ import annotations

import datetime
import fnmatch
import functools
import hashlib
import sys
from collections import Counter
from operator import itemgetter

from ansible_collections.patchwise.patching.plugins.module_utils import advisories as advisory_ranges
from ansible_collections.patchwise.patching.plugins.module_utils import osv_ecosystems, versions
from ansible_collections.patchwise.patching.plugins.plugin_utils import advisory_db, finding_details, finding_fields, risk_findings, risk_points, ssvc
from ansible_collections.patchwise.patching.plugins.plugin_utils.code_identity import source_digest
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import canonical
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_fields import HOST_OWN_FIELDS
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import TIERS, JMESPathError
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_findings import record_matches
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_points import DERIVABLE_POINTS, finding_points, register_points
from ansible_collections.patchwise.patching.plugins.plugin_utils.ssvc import SSVCError, resolve_table

RESULT_SCHEMA = 1
# The policy keys a finding's shared detail is decided from (RiskEngine._detail and what it calls).  The rest of the
# policy (rules, acceptances, holds, due_from, windows, approval, ...) acts per host: editing it decides no detail again.
DETAIL_POLICY_KEYS = ('tables', 'tiers', 'epss_threshold', 'point_defaults', 'due_days', 'upgrade_horizon_days', 'sla_days',
                      'forensic_triage_outcomes')
TIER_ORDER = {'none': 0, 'low': 1, 'medium': 2, 'high': 3, 'critical': 4}
# Distinct details one engine keeps (with the raw and shared findings they come from): past this many, the memos
# start again between two hosts, so a large and varied fleet is decided in bounded memory.  What was shared is
# worked out again when met again; a 1,000-host fleet of ~1,000 findings per host keeps ~80,000.
_MEMO_LIMIT = 150000
# Debian tracker urgency that the security team itself rates as no real risk.
_CAPPED_URGENCY = {'unimportant': 'low'}
# Debian tracker statuses of a fix that comes with a point release, not a security advisory.
_POINT_RELEASE_STATUSES = ('no-dsa', 'ignored', 'postponed')


class RiskError(ValueError):
    """The policy's tables cannot be used with the data, or the advisory data is unusable."""


def _date(text):
    return datetime.date.fromisoformat(str(text)[:10])


@functools.lru_cache(maxsize=None)
def deciding_code():
    """The digest of the modules a finding detail comes from: matching, versions, SSVC points and tables, this engine."""
    return source_digest((advisory_ranges, osv_ecosystems, versions, advisory_db, finding_details, finding_fields, risk_findings,
                          risk_points, ssvc, sys.modules[__name__]))


def decision_context(policy, tables, advisories):
    """The digest of what a finding's shared detail is decided from besides its key (see ``RiskEngine._detail``).

    The policy's ``DETAIL_POLICY_KEYS``, the contents of its decision ``tables``, the identity of the
    advisory database and the code that decides (``deciding_code``): two engines with the same context
    decide the same detail for the same key.
    """
    return hashlib.sha256(canonical([{key: policy.get(key) for key in DETAIL_POLICY_KEYS}, [table.digest for table in tables],
                                     getattr(advisories, 'identity', None), deciding_code()])).hexdigest()


def _raw_key(item):
    """What tells one raw finding from another under one decision context (its detail key without the host's register class)."""
    return '%s|%s|%s|%s|%s|%s' % (item['id'], item['ecosystem'], item['package'], item['installed'], item['fixed'], ','.join(item['binary_packages']))


def finding_score(finding):
    """A number that orders findings within the same outcome: CVSS (5.0 when unknown) + 10 x EPSS + 10 for KEV."""
    cvss = (finding.get('cvss') or {}).get('score')
    epss = (finding.get('epss') or {}).get('score') or 0.0
    return round((cvss if cvss is not None else 5.0) + 10.0 * epss + (10.0 if finding.get('kev') else 0.0), 3)


def _matches(entry, host, finding):
    """A hold or acceptance applies when every key it names matches (package may be a glob)."""
    if entry.get('host') and entry['host'] != host:
        return False
    if entry.get('finding') and entry['finding'] != finding['id'] and entry['finding'] not in finding['aliases']:
        return False
    if entry.get('package'):
        names = [finding['package'], *finding['binary_packages']]
        if not any(fnmatch.fnmatchcase(name, entry['package']) for name in names):
            return False
    return True


class RiskEngine:
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
        # The store keeps it beside each detail it writes: a pass under the same context need not write them again.
        self.decision_context = decision_context(policy, (self.decision_table, self.due_table), advisories)
        self._outcomes = {}
        self._raw = {}
        self._dues = {}
        self._days = {}
        # detail_key -> the shared part of a finding (see _detail); the store writes each once, as the two parts it is
        # made of: detail_key -> (advisory part, decision part) (finding_details).
        self.details = {}
        self.detail_parts = {}
        # (exposure, criticality) -> {id(raw finding): detail}: the raw findings are shared and kept for the
        # pass (in _raw), so their identity is a key that needs no formatting per host.
        self._details_by_class = {}
        # (id(detail), first seen) -> (sort key, finding) of findings with nothing of their host in them.
        self._shared_findings = {}
        # id(detail) -> whether an acceptance or hold of one host names it.
        self._excepted = {}
        # id(raw finding) -> what it gives each of its details (_item_part); (exposure, criticality) -> the points the
        # register decides; (finding's points, register class) -> all points and the tables' outcomes (_decide); what
        # decides a detail's decision part -> that part (_decision_part).
        self._item_parts = {}
        self._register_points = {}
        self._decided = {}
        self._decision_parts = {}
        # id(raw finding) -> its line in a host's match digest (match_digest).
        self._digest_lines = {}
        # The hosts an acceptance or hold names: each of them gets a result of its own (result_is_own).
        self._named_hosts = frozenset(entry['host'] for entry in (*policy['acceptances'], *policy['holds']) if entry.get('host'))

    def _lookup(self, table, points):
        """The table's outcome for ``points`` and the reason line that says so, once per distinct input values."""
        values = tuple(map(points.__getitem__, table.inputs))
        known = self._outcomes.get((id(table), values))
        if known is None:
            outcome = table.outcome_for(points)
            known = self._outcomes[(id(table), values)] = (outcome, '%s -> %s (%s)' % (
                table.key or table.source, outcome, ', '.join('%s=%s' % pair for pair in zip(table.inputs, values))))
        return known

    def _due_days(self, due_class, tier):
        """The days a finding of ``due_class`` and ``tier`` is due in, and the reason line: once per pair."""
        known = self._days.get((due_class, tier))
        if known is None:
            known = self._days[(due_class, tier)] = self._days_for(due_class, tier)
        return known

    def _days_for(self, due_class, tier):
        if due_class in self.policy['due_days']:
            return self.policy['due_days'][due_class], 'due class %s: %d days' % (due_class, self.policy['due_days'][due_class])
        if due_class == 'FSU':
            return self.policy['upgrade_horizon_days'], 'due class FSU (fix on system upgrade): upgrade horizon %d days' % (
                self.policy['upgrade_horizon_days'])
        days = self.policy['sla_days'].get(tier)
        return days, 'due class %s has no days in the policy: SLA for %s, %s days' % (due_class, tier, days)

    def _item_part(self, item):
        """What a raw finding gives each of its details, once per raw finding whatever its hosts' register classes:
        the advisory part (its fields without a host's own, the reasons for the points its advisory data decides,
        its score) and those points (as sorted pairs)."""
        part = self._item_parts.get(id(item))
        if part is None:
            points, reasons = finding_points(
                {'cvss': item.get('cvss'), 'epss': (item.get('epss') or {}).get('score'), 'kev': item.get('kev'),
                 'vulnrichment': item.get('vulnrichment'), 'exploit_public': item.get('exploit_public')},
                self.policy['epss_threshold'], self.policy['point_defaults'])
            advisory = {name: value for name, value in item.items() if name not in HOST_OWN_FIELDS}
            advisory.update(reasons=reasons, score=finding_score(item))
            part = self._item_parts[id(item)] = (advisory, tuple(sorted(points.items())))
        return part

    def _decide(self, points, register_entry, register_class):
        """The SSVC points of one finding's point values on one register class, the tables' outcomes and their reasons."""
        by_register = self._register_points.get(register_class)
        if by_register is None:
            by_register = self._register_points[register_class] = register_points(register_entry, self.policy['point_defaults'])
        points.update(by_register[0])
        for point, value in self.policy['point_defaults'].items():
            # Points of a user's own table that the data cannot supply at all.
            points.setdefault(point, value)
        decision, decision_reason = self._lookup(self.decision_table, points)
        due_class, due_class_reason = self._lookup(self.due_table, points)
        # Shared by every detail with these values, as each detail is shared by its findings: read, never changed.
        return points, by_register[1], decision, decision_reason, due_class, due_class_reason

    def _detail(self, item, register_entry):
        """The shared part of a finding: advisory facts, SSVC inputs and outcomes, base tier, reasons.

        Memoised by ``detail_key``: hosts with the same finding in the same
        situation (same installed version, binaries, exposure and criticality)
        share one detail, computed once per pass and stored once.
        """
        register_entry = register_entry or {}
        key = '%s|%s|%s' % (_raw_key(item), register_entry.get('exposure'), register_entry.get('criticality'))
        if item['source'] == 'distribution':
            # The same pending update from another archive (its origin is in the summary) is another finding.
            key += '|' + item['summary']
        detail = self.details.get(key)
        if detail is not None:
            return detail
        advisory, by_finding = self._item_part(item)
        register_class = (register_entry.get('exposure'), register_entry.get('criticality'))
        # The tables' outcomes follow from the point values alone, and a fleet's raw findings have a few dozen distinct ones.
        outcome_key = (by_finding, register_class)
        decided = self._decided.get(outcome_key)
        if decided is None:
            decided = self._decided[outcome_key] = self._decide(dict(by_finding), register_entry, register_class)
        urgency = item.get('urgency') if item.get('urgency') in _CAPPED_URGENCY else None
        tracker_status = item.get('tracker_status') if item.get('tracker_status') in _POINT_RELEASE_STATUSES else None
        # Everything the decision part is made from besides the outcomes: a fleet's details share a few dozen parts.
        decision_key = (outcome_key, urgency, tracker_status, item['fixed'] is None, item['source'] == 'distribution')
        decision = self._decision_parts.get(decision_key)
        if decision is None:
            decision = self._decision_parts[decision_key] = self._decision_part(decided, urgency, tracker_status, item)
        detail = finding_details.merged_detail(key, advisory, decision)
        self.details[key] = detail
        self.detail_parts[key] = (advisory, decision)
        return detail

    def _decision_part(self, decided, urgency, tracker_status, item):
        """What the tables' outcomes (``decided``) and the item's urgency, tracker status, fix and source give its details."""
        points, register_reasons, decision, decision_reason, due_class, due_class_reason = decided
        tier = self.policy['tiers'][decision]
        reasons = [*register_reasons, decision_reason, due_class_reason]
        capped = _CAPPED_URGENCY.get(urgency)
        if capped and TIER_ORDER[tier] > TIER_ORDER[capped]:
            reasons.append('tier %s capped at %s: Debian rates it %s' % (tier, capped, urgency))
            tier = capped
        if tracker_status:
            reasons.append('Debian tracker status %s: fixed in a point release, not a security advisory' % tracker_status)
        days, due_reason = self._due_days(due_class, tier)
        reasons.append(due_reason)
        if item['fixed'] is None:
            reasons.append('no fix yet')
        if item['source'] == 'distribution':
            reasons.append('no advisory in the database names it; the distribution marks the update as a security fix')
        return {'decision': decision, 'due_class': due_class, 'tier': tier, 'days': days,
                'incident': due_class in self.policy['forensic_triage_outcomes'], 'ssvc': points, 'reasons': reasons}

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

    def _forget(self):
        """Empty the per-pass memos, all at once: they key each other by object identity.

        Between two hosts only, so the details of the host just classified (which the store writes
        from ``details`` after ``classify`` returns) are all present; the dict objects stay the same.
        """
        for memo in (self._raw, self.details, self.detail_parts, self._details_by_class, self._shared_findings, self._excepted, self._item_parts,
                     self._digest_lines):
            memo.clear()

    def forget_if_full(self):
        """Empty the per-pass memos when they hold more details than ``_MEMO_LIMIT``; whether it did.

        Call it between hosts only, when no matched items (``match``) are held that the memos do not keep alive:
        the memos key raw findings by identity.  After it emptied them, drop every matched item held from before
        (match again): the memos keep raw findings alive, and only so long is no other object given their ids.
        ``classify`` without ``matched`` calls it itself.
        """
        if len(self.details) > _MEMO_LIMIT:
            self._forget()
            return True
        return False

    def result_is_own(self, host):
        """Whether ``classify`` may give ``host`` a result that another host's same inputs would not give.

        Custom rules see the host (its name among it); an acceptance or hold may name it.  Otherwise two
        hosts with the same match digest (``match_digest``), register entry and lifecycle get the same
        result but for its ``host``.
        """
        return bool(self.policy['rules']) or host in self._named_hosts

    def match(self, record):
        """``(items, skipped)``: the raw findings of ``record`` (or its match view), for ``classify(matched=...)``.

        The raw findings are the pass's shared ones (kept until the memos are emptied): read, never changed.
        """
        return record_matches(record, self.advisories, self._raw)

    def match_digest(self, record, matched):
        """The digest of what ``classify`` reads of ``record`` besides its register entry: its schema and OS facts, the
        findings ``matched`` (``match``) and what could not be matched.

        Two records with the same digest, classified by engines with the same decision context (the advisory
        database among it) with the same register entry, lifecycle and date, get the same result: a package
        change that touches no finding (most of a record's changes) leaves it as it was.  A raw finding counts
        by its key, as its detail does (same key and context, same detail), and its host's own fields whole.
        """
        items, skipped = matched
        known = self._digest_lines
        lines = []
        for base, extra in items:
            line = known.get(id(base))
            if line is None:
                # Kept while the memos are: the raw finding is kept alive by _raw until both are emptied together.
                line = known[id(base)] = '%s|%s|%s|%s' % (_raw_key(base), base['source'], base['kind'], base['summary'])
            lines.append(line if extra is None else line + '\t' + canonical(extra).decode('utf-8'))
        digest = hashlib.sha256(canonical([record.get('schema'), record.get('os'), skipped]))
        digest.update(b'\n')
        digest.update('\n'.join(lines).encode('utf-8'))
        return digest.hexdigest()

    def _host_excepted(self, detail):
        """Whether an acceptance or hold of one host names this finding: then it is decided per host.

        Acceptances and holds without a host apply alike on every host: they do not stop sharing.
        """
        known = self._excepted.get(id(detail))
        if known is None:
            known = self._excepted[id(detail)] = any(entry.get('host') and _matches(entry, entry['host'], detail)
                                                     for entry in (*self.policy['acceptances'], *self.policy['holds']))
        return known

    def _finding(self, host, host_context, detail, first_seen, extra):
        """One host's finding: the shared detail, its lifecycle and due date, the host's own fields, rules and exceptions."""
        due, due_reason = self._due(detail, first_seen)
        finding = dict(detail, status='open', first_seen=first_seen, closed=None, hold=None, acceptance=None, due=due,
                       distribution_security_update=extra.get('distribution_security_update'), host_reasons=[due_reason],
                       held_binaries=extra.get('held_binaries') or [], candidate=extra.get('candidate'),
                       unfinished_binaries=extra.get('unfinished_binaries') or {})
        if finding['unfinished_binaries']:
            finding['host_reasons'].append('not fully installed, its files are on disk: %s' % ', '.join(
                '%s (%s)' % pair for pair in sorted(finding['unfinished_binaries'].items())))
        if self.policy['rules']:
            self._apply_rules(host_context, finding)
        if self.policy['acceptances'] or self.policy['holds']:
            self._apply_exceptions(host, finding)
        finding['reasons'] = [*detail['reasons'], *finding['host_reasons']]
        return (-TIER_ORDER[finding['tier']], finding['due'], -finding['score'], finding['id'], finding['package']), finding

    def classify(self, host, record, register_entry=None, lifecycle=None, run_id=None, *, matched=None):
        """The risk result of one host: see ``classify_listing``, whose result it returns."""
        return self.classify_listing(host, record, register_entry, lifecycle, run_id, matched=matched)[0]

    def classify_listing(self, host, record, register_entry=None, lifecycle=None, run_id=None, *, matched=None):
        """``(result, open findings)``: the risk result of one host and, ranked, its findings that are open (the fleet pass
        counts and ranks them: listed once here, not again by the caller).  ``lifecycle``: {(id, package): first_seen}
        of findings already known.

        A finding with nothing of its host in it (no pending update, held or unfinished binary, custom rule,
        acceptance or hold of that host) is one dict shared by every host with the same detail and first-seen date, so a
        caller reads the findings and does not change them.  (The asset store sets the status and first seen it wrote,
        which are the same for every host that shares one.)  ``matched``: what ``match`` gave for ``record``, when the
        caller matched it already (to compare ``match_digest``).
        """
        lifecycle = lifecycle or {}
        if matched is None:
            self.forget_if_full()
            matched = self.match(record)
        items, skipped = matched
        today = self.today.isoformat()
        host_context = {'name': host, 'register': register_entry or {}, 'os': record.get('os') or {}}
        register_class = ((register_entry or {}).get('exposure'), (register_entry or {}).get('criticality'))
        details = self._details_by_class.setdefault(register_class, {})
        shared = self._shared_findings
        shareable = not self.policy['rules']
        # Most policies name no host in an acceptance or hold: then no finding needs the look.
        host_exceptions = any(entry.get('host') for entry in (*self.policy['acceptances'], *self.policy['holds']))
        decorated = []
        for base, extra in items:
            detail = details.get(id(base))
            if detail is None:
                detail = details[id(base)] = self._detail(base, register_entry)
            first_seen = lifecycle.get((base['id'], base['package'])) or today
            if extra is None and shareable and not (host_exceptions and self._host_excepted(detail)):
                entry = shared.get((id(detail), first_seen))
                if entry is None:
                    entry = shared[(id(detail), first_seen)] = self._finding(host, host_context, detail, first_seen, {})
                decorated.append(entry)
            else:
                decorated.append(self._finding(host, host_context, detail, first_seen, extra or {}))
        # Stable: findings with equal keys (the same advisory for two installed versions) keep the matching order.
        decorated.sort(key=itemgetter(0))
        findings = [finding for _key, finding in decorated]
        open_findings = [f for f in findings if f['status'] == 'open']
        top = open_findings[0] if open_findings else None
        # A thousand findings per host is common: each figure is one pass at C speed (map, Counter), not a generator.
        by_tier = Counter(map(itemgetter('tier'), open_findings))
        return ({
            'schema': RESULT_SCHEMA,
            'host': host,
            'run_id': run_id,
            'assessed_on': today,
            'tier': top['tier'] if top else 'none',
            'score': max(map(itemgetter('score'), open_findings), default=0.0),
            'decision': top['decision'] if top else None,
            'due': min(map(itemgetter('due'), open_findings), default=None),
            'incident': any(map(itemgetter('incident'), open_findings)),
            'counts': dict({tier: by_tier[tier] for tier in TIERS}, open=len(open_findings),
                           accepted=Counter(map(itemgetter('status'), findings))['accepted'],
                           held=sum(map(bool, map(itemgetter('hold'), open_findings)))),
            'findings': findings,
            'skipped': skipped,
        }, open_findings)

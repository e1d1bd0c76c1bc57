#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: risk_assess
short_description: Classify every host's risk from the asset and advisory databases, and plan its patches
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - One pass on the controller over the hosts of the play (or O(hosts)) - run it with C(run_once). For each host it
    reads the latest asset record from the asset database, matches every installed OS package (by source package on
    Debian) and every discovered application against the advisory database with the ecosystem's exact version
    ordering, and decides each finding with SSVC decision tables - by default C(ssvc-deployer) for the decision and
    tier, and CISA BOD 26-04 for the due date.
  - Decision point values come from the data - CISA KEV membership, EPSS against the policy's threshold, the CVSS
    vector, and the asset register's exposure and criticality; a value the data cannot supply takes the policy's
    conservative default, and the finding's C(reasons) say so. Pending updates the distribution marks as security
    fixes count even when no advisory names them.
  - Custom rules (JMESPath), risk acceptances with expiry and holds from the policy apply; the host's tier is its
    highest open finding's, its due date the earliest.
  - Writes the risk results, the findings with their lifecycle (open, accepted, fixed with first-seen and closed
    dates) and each host's patch plan (see C(docs/plan.md)) to the asset database, so the
    P(patchwise.patching.assets#inventory) inventory plugin builds C(risk_<tier>) groups.
  - Refuses an advisory database older than the policy's C(max_advisory_age_hours) unless
    O(allow_stale_advisories) is set.
  - The advisory database is opened once and look-ups are memoised, so identical package versions across hosts cost
    one look-up.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Classifies and returns the summary, and writes nothing to the asset database.
options:
  asset_db:
    description:
      - The asset database written by M(patchwise.patching.asset_store).
      - A C(postgresql://user@host:port/database) URL instead uses a PostgreSQL asset database (password from E(PGPASSWORD)
        or a E(PGPASSFILE), never in the URL; see docs/postgresql.md).
    type: path
    required: true
  advisory_db:
    description: The advisory database built by M(patchwise.patching.advisory_db).
    type: path
    required: true
  policy:
    description:
      - The risk policy (C(docs/policy.md)) as a mapping, or the path of a YAML file holding it (at top level or under
        C(patchwise_policy)). Invalid policies fail before anything is assessed, naming the key.
    type: raw
    default: {}
  register:
    description: An asset register file to use instead of the register stored in the asset database.
    type: path
  hosts:
    description: The hosts to assess. Default - the play's hosts (C(ansible_play_hosts)).
    type: list
    elements: str
  run_id:
    description: Run id stored with the results. Default - C(patchwise_run_id), then C(PATCHWISE_RUN_ID).
    type: str
  change_ref:
    description:
      - The change or approval reference for plans that need one, as a string or C({id, approver}); when the register
        lists approvers, the approver must be one of them. Default - C(patchwise_change_ref).
    type: raw
  allow_stale_advisories:
    description: Assess with an advisory database older than the policy allows (the result says so).
    type: bool
    default: false
  force:
    description:
      - Assess every host again. Without it a host is skipped - its stored result and plan are confirmed and reported
        in RV(unchanged) - when its record, its register entry, its maintenance window's state, the policy, the contents
        of its decision tables, the change reference, the advisory database and the collection's code that matches,
        decides and plans are all as at its last assessment (and, for a policy with acceptances or holds, the day too).
      - A host whose record changed in nothing its findings are made from (a package no advisory names, a service,
        a listening port) is matched again and, when its findings come out as they were, skipped too (counted in
        RV(unchanged) and RV(unaffected)).
    type: bool
    default: false
  busy_timeout:
    description:
      - Seconds to wait for another run that is writing the asset database (a discovery or a patch run storing its
        outcomes) before failing with the reason; nothing is written then.
    type: float
    default: 30.0
seealso:
  - module: patchwise.patching.advisory_db
  - module: patchwise.patching.asset_store
  - plugin: patchwise.patching.risk_classify
    plugin_type: filter
  - plugin: patchwise.patching.patch_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Assess every host of the play
  patchwise.patching.risk_assess:
    asset_db: "{{ patchwise_asset_db }}"
    advisory_db: "{{ patchwise_advisory_db }}"
    policy: "{{ patchwise_policy | default({}) }}"
  run_once: true
  delegate_to: localhost
  register: assessed

- name: Put each host's tier in its facts
  ansible.builtin.set_fact:
    risk_tier: "{{ assessed.hosts[inventory_hostname].tier | default('none') }}"
"""

RETURN = r"""
hosts:
  description:
    - Per host - tier, due (earliest), score, decision, incident (a finding needs forensic triage), counts of open
      findings per tier and of accepted and held ones, and the plan in short (mode, packages, applications, reboot,
      window_open, approval_required, approval_valid, may_run_now).
  returned: always
  type: dict
tiers:
  description: Number of hosts per tier (none, low, medium, high, critical).
  returned: always
  type: dict
  sample: {none: 10, low: 2, medium: 5, high: 1, critical: 0}
ranked:
  description:
    - The highest-ranked open findings across the hosts (at most 15) - host, id, package, installed, fixed, tier,
      decision, due, score, kev, and a one-line rendering in C(line).
  returned: always
  type: list
  elements: dict
open_findings:
  description: Number of open findings across the hosts.
  returned: always
  type: int
unchanged:
  description: How many hosts were skipped because nothing their assessment depends on changed (see O(force)).
  returned: always
  type: int
unaffected:
  description:
    - How many of the RV(unchanged) hosts had a changed record, but not in anything their findings are made from;
      they were matched again and kept their result and plan.
  returned: always
  type: int
lifecycle:
  description:
    - Per host, how many findings this pass opened (new, or back after being fixed) and closed (no longer reported, now
      C(status=fixed) with a C(closed) date). In check mode, what a real pass would do.
  returned: always
  type: dict
  sample: {"web01": {"opened": 0, "closed": 2}}
missing:
  description: Hosts with no record in the asset database.
  returned: always
  type: list
  elements: str
skipped:
  description: Per host, what could not be matched and why (unknown ecosystem, old record schema).
  returned: always
  type: dict
advisory_db:
  description: The advisory database's path, build time, and the staleness note when it was older than the policy allows.
  returned: always
  type: dict
run_id:
  description: The run id stored with the results.
  returned: always
  type: str
config:
  description:
    - SHA-256 fingerprints of the policy and the register the pass used (as M(patchwise.patching.config_check) computes
      them; the register read from the asset database has C(source=asset database)). With the
      P(patchwise.patching.audit#callback) callback enabled they are recorded in the audit trail of the run.
  returned: always
  type: dict
  sample: {"policy": {"sha256": "4c1f0e5d...", "source": "inline"}, "register": {"sha256": "9f86d081...", "source": "asset database"}}
"""

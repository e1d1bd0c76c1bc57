# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: risk_classify
short_description: Classify one asset record against the advisory database with the risk policy
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Applies the risk engine of M(patchwise.patching.risk_assess) to one asset record in a template and returns its
    risk result - tier, score, decision, due date and the findings with their SSVC inputs, outcomes and reasons.
  - Templating runs in a worker per host, so the advisory database is opened on every call and nothing is cached
    across hosts; for a fleet use M(patchwise.patching.risk_assess), which does one memoised pass.
  - Every finding is treated as first seen today unless O(first_seen) says otherwise; nothing is written.
options:
  _input:
    description: The asset record (the RV(patchwise.patching.asset_facts#module:record) of M(patchwise.patching.asset_facts)).
    type: dict
    required: true
  advisory_db:
    description: The advisory database file on the controller. Omit it to count only the distribution's security updates.
    type: path
  policy:
    description: The risk policy as a mapping (C(docs/policy.md)).
    type: dict
    default: {}
  register:
    description: The host's asset register entry (exposure, criticality, ...).
    type: dict
    default: {}
  host:
    description: The host name stored in the result.
    type: string
  first_seen:
    description: 'Known first-seen dates, as C({"<finding id>|<package>": "YYYY-MM-DD"}).'
    type: dict
    default: {}
seealso:
  - module: patchwise.patching.risk_assess
  - plugin: patchwise.patching.patch_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Discover, then classify this one host in a template
  patchwise.patching.asset_facts:
  register: discovered

- name: Show the host's tier and its worst finding
  vars:
    risk: >-
      {{ discovered.record | patchwise.patching.risk_classify(advisory_db=patchwise_advisory_db,
         policy=patchwise_policy | default({}), register={'exposure': 'internet', 'criticality': 'high'}) }}
  ansible.builtin.debug:
    msg: "{{ risk.tier }}: {{ risk.findings[:1] | map(attribute='id') | list }}"
"""

RETURN = r"""
_value:
  description:
    - The risk result - schema, host, run_id, assessed_on, tier, score, decision, due, incident, counts, skipped and
      findings (id, aliases, kind, package, binary_packages, installed, fixed, ecosystem, cvss, epss, kev, decision,
      due_class, tier, due, status, first_seen, hold, acceptance, ssvc, reasons, score).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, AdvisoryDBError
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError, load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskEngine, RiskError
from ansible_collections.patchwise.patching.plugins.plugin_utils.ssvc import SSVCError


def risk_classify(record, advisory_db=None, *, policy=None, register=None, host=None, first_seen=None):
    if not isinstance(record, dict) or record.get('schema') != 1:
        raise AnsibleFilterError('risk_classify: the input must be an asset record of schema 1 (the record returned by asset_facts)')
    lifecycle = {tuple(key.split('|', 1)): value for key, value in (first_seen or {}).items() if '|' in key}
    advisories = None
    try:
        advisories = AdvisoryDB(advisory_db) if advisory_db else None
        engine = RiskEngine(load_policy(policy or {}), advisories)
        return engine.classify(host or (record.get('host') or {}).get('hostname'), record, register or {}, lifecycle)
    except (AdvisoryDBError, PolicyError, RiskError, SSVCError) as exc:
        raise AnsibleFilterError('risk_classify: %s' % exc) from exc
    finally:
        if advisories is not None:
            advisories.close()


class FilterModule:
    def filters(self):
        return {'risk_classify': risk_classify}

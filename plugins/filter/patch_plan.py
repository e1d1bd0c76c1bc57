# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: patch_plan
short_description: The patch plan of one host from its risk result, the policy and its register entry
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Splits what a host needs into the B(system) plan (OS packages with their target versions, security-only, the
    reboot rule of its tier, its maintenance window and whether it is open now, whether an approval is needed and
    present) and the B(application) plan (applications with fixes and their target versions), because the two are
    patched by different roles on different cycles - C(patchwise.patching.system_patch) and
    P(patchwise.patching.app_patch#role). The format is described in C(docs/plan.md).
  - Held findings are listed and left out; findings without a fix are listed as C(no_fix).
options:
  _input:
    description: The risk result of the host (from P(patchwise.patching.risk_classify#filter) or the asset database).
    type: dict
    required: true
  policy:
    description: The risk policy as a mapping (C(docs/policy.md)).
    type: dict
    default: {}
  register:
    description: The host's asset register entry (window, environment, approvers).
    type: dict
    default: {}
  change_ref:
    description: The change or approval reference, a string or C({id, approver}).
    type: raw
  at:
    description: The moment at which the window is checked, C(YYYY-MM-DDTHH:MM:SSZ). Default now.
    type: string
seealso:
  - module: patchwise.patching.risk_assess
  - plugin: patchwise.patching.risk_classify
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Plan this host's patches
  vars:
    risk: "{{ discovered.record | patchwise.patching.risk_classify(advisory_db=patchwise_advisory_db) }}"
    plan: "{{ risk | patchwise.patching.patch_plan(policy=patchwise_policy | default({}), register=patchwise_register_entry | default({})) }}"
  ansible.builtin.debug:
    msg: "{{ plan.system.packages | map(attribute='name') | list }} may run now: {{ plan.system.may_run_now }}"
"""

RETURN = r"""
_value:
  description:
    - The plan - schema, host, run_id, tier, due, incident, system (mode, packages [name, target, findings], held,
      no_fix, reboot, window {name, open}, approval_required, approval {reference, approver, valid}, may_run_now,
      reasons) and applications [name, current, target, findings].
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_plan import patch_plan as build_plan
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError, load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskError


def patch_plan(result, policy=None, register=None, change_ref=None, at=None):
    if not isinstance(result, dict) or 'findings' not in result:
        raise AnsibleFilterError('patch_plan: the input must be a risk result (from risk_classify or the asset database)')
    try:
        moment = utc(at) if at else utc()
    except ValueError as exc:
        raise AnsibleFilterError('patch_plan: at %r is not YYYY-MM-DDTHH:MM:SSZ' % (at,)) from exc
    try:
        return build_plan(result, load_policy(policy or {}), register or {}, change_ref=change_ref, moment=moment)
    except (PolicyError, RiskError) as exc:
        raise AnsibleFilterError('patch_plan: %s' % exc) from exc


class FilterModule:
    def filters(self):
        return {'patch_plan': patch_plan}

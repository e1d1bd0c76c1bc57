#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: patch_context
short_description: Read a host's assessed plan and the holds in force before it is patched
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - The hand-over from assess to patch. Reads the host's latest plan from the asset database (written by
    M(patchwise.patching.risk_assess)) and refuses it, naming the reason and what to do, when it may no longer
    describe the host - a plan of an unknown schema, one stored for another host, one older than the policy's
    C(plan_max_age_days) (default 7) or older than the host's last discovered change.
  - Gathers the holds in force for the host, as M(patchwise.patching.system_update) takes them in its C(holds)
    option - the plan's held findings (their binary packages), the policy's package holds for the host (a glob may
    name the source package; the host's stored record maps it to the binary packages) - and the register's
    C(exclude) patterns.
  - Returns the policy parts the patch roles apply at patch time (C(never_restart), C(log_check), C(windows),
    C(approval)) and the policy's fingerprint for the outcome.
  - Without a stored plan (no asset database, or no assess step) it still returns the holds and the policy parts;
    RV(found) is then false and the roles fall back to their mode.
  - Used by the roles P(patchwise.patching.system_patch#role) and P(patchwise.patching.app_patch#role); runs on the
    controller (it is an action plugin) and never touches managed hosts. It reads the asset database only.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
options:
  patch_set:
    description:
      - The id of a frozen patch set (M(patchwise.patching.patch_set_freeze)) to install instead of the plan's updates.
      - Refused, naming the reason, when the set does not exist, its content changed after it was frozen, the host's
        stage (its register C(environment)) is not the set's stage or one it was promoted to, or (with
        O(patch_set_for=system)) the set holds no updates for the host's OS ecosystem.
    type: str
  patch_set_for:
    description:
      - Which part of O(patch_set) the run installs. V(system) (the C(system_patch) role) returns the set's packages the
        host has; V(applications) (the C(app_patch) role) the set's applications the host's record lists, by name and
        ecosystem. A set holding none of the host's applications gives an empty list, not a refusal.
    type: str
    choices: [system, applications]
    default: system
  host:
    description: The host whose plan to read; default the task's C(inventory_hostname).
    type: str
  asset_db:
    description:
      - The asset database (C(patchwise_asset_db)). When the file does not exist yet there is no stored plan, and
        RV(notes) says so. Never created or changed.
      - A C(postgresql://user@host:port/database) URL instead uses a PostgreSQL asset database (password from E(PGPASSWORD)
        or a E(PGPASSFILE), never in the URL; see docs/postgresql.md).
    type: path
  policy:
    description: The risk policy (C(patchwise_policy)), a mapping or the path of a YAML file (see C(docs/policy.md)).
    type: raw
    default: {}
  register:
    description:
      - The host's register entry as a mapping (the C(patchwise_register) host variable the
        P(patchwise.patching.assets#inventory) inventory plugin sets), or the path of a register file. Default the
        register stored in the asset database.
    type: raw
  at:
    description: Judge the plan's age at this moment (C(YYYY-MM-DDTHH:MM:SSZ)) instead of now.
    type: str
seealso:
  - module: patchwise.patching.risk_assess
  - module: patchwise.patching.system_update
"""

EXAMPLES = r"""
- name: Read the host's plan and the holds in force
  patchwise.patching.patch_context:
    asset_db: /var/lib/patchwise/assets.db
    policy: "{{ patchwise_policy }}"
  delegate_to: localhost
  register: context

- name: Apply exactly the plan, with the policy's holds
  patchwise.patching.system_update:
    mode: planned
    packages: "{{ context.plan.system.packages }}"
    holds: "{{ context.holds }}"
    exclude: "{{ context.exclude }}"
  become: true
  when: context.found
"""

RETURN = r"""
patch_set:
  description:
    - With O(patch_set), the frozen set as this host installs it - C(id), C(digest), C(stage) (the host's register
      C(environment)), C(kind) (O(patch_set_for)), C(packages), the set's packages the host has, with the exact
      C(target) version to install (empty for V(applications)), and C(applications), the set's applications the host
      runs as C({name, current, target, ecosystem, scheme}) (empty for V(system)).
    - None without O(patch_set).
  returned: success
  type: dict
  sample: {id: ps-2026-12-05-staging, digest: 5d1c..., stage: production, kind: system,
           packages: [{name: openssl, target: 3.0.16-1~deb12u1}], applications: []}
found:
  description: A stored plan was found and may drive the run.
  returned: success
  type: bool
plan:
  description: The stored plan (see C(docs/plan.md)), or an empty mapping without one.
  returned: success
  type: dict
  sample: {"schema": 1, "host": "web01", "tier": "high", "system": {"mode": "security", "packages": [{"name": "libssl3",
           "target": "3.0.15-1~deb12u1"}], "reboot": "if_required", "approval_required": false}, "applications": []}
created_at:
  description: When the plan was made (UTC), or null.
  returned: success
  type: str
run_id:
  description: The run id of the assess run that made the plan, or null.
  returned: success
  type: str
age_hours:
  description: The plan's age in hours, or null.
  returned: success
  type: float
tier:
  description: The host's risk tier from the plan, or null.
  returned: success
  type: str
holds:
  description:
    - The holds in force for the host, each C(name) (package or pattern), C(reason), C(until), C(finding) and
      C(source) (V(plan) or V(policy)).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "postgresql-15", "reason": "database upgrade freeze", "until": "2026-12-31", "finding": null, "source": "policy"}]
exclude:
  description: The register's C(exclude) patterns for the host.
  returned: success
  type: list
  elements: str
register:
  description: The host's register entry.
  returned: success
  type: dict
policy:
  description: The policy parts a patch run applies - C(plan_max_age_days), C(never_restart), C(log_check), C(windows), C(approval).
  returned: success
  type: dict
policy_fingerprint:
  description: The SHA-256 fingerprint of the policy (as M(patchwise.patching.config_check) computes it).
  returned: success
  type: str
notes:
  description: Why there is no stored plan, when there is none.
  returned: success
  type: list
  elements: str
refused:
  description: True when a stored plan was refused; the task then fails with the reason in C(msg).
  returned: failure
  type: bool
"""

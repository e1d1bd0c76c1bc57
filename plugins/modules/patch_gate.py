#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: patch_gate
short_description: Decide whether a host may be patched now - its maintenance window and an approved change
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - The gate both patch roles pass before they touch a host, P(patchwise.patching.system_patch#role) for the operating
    system and P(patchwise.patching.app_patch#role) for applications.
  - Inside the host's maintenance window (O(window), defined in O(windows); no window - any time), the host may be
    patched when no approval is required; when O(approval_required) is set, only with an approved change.
  - Outside the window, only a host on the emergency path (O(emergency), or its O(tier) is one of O(emergency_tiers))
    may be patched, and only with an approved change that is flagged emergency.
  - A change is the one O(change_ref) names in O(change_source), checked as M(patchwise.patching.change_check) checks
    it - approved, open now, covering the host (by name or group), approved by one of the register's approvers for the
    host. The change the run went ahead under, and whether it took the emergency path, are returned for the outcome and
    the audit trail.
  - A refusal is not a failure - RV(allowed) is false and RV(reason) says why, so a rollout leaves the host alone and
    goes on. A change source that cannot be read (a missing or malformed file, an API answering an error or garbage)
    fails the task, naming the source.
  - Runs on the controller (it is an action plugin); it never touches managed hosts.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Read-only; decides the same in check mode.
options:
  host:
    description: The host to decide for; default the task's C(inventory_hostname).
    type: str
  groups:
    description: The host's inventory groups (a change may cover groups); default the task's C(group_names).
    type: list
    elements: str
  window:
    description: The host's maintenance window name; empty - no window, the host may be patched at any time.
    type: str
    default: ""
  windows:
    description: Window definitions, name -> C({days, time, timezone}), as the policy's C(windows) (C(docs/policy.md)).
    type: dict
    default: {}
  emergency:
    description: The run is an emergency run for this host.
    type: bool
    default: false
  tier:
    description: The host's risk tier.
    type: str
    default: ""
  emergency_tiers:
    description: Tiers whose hosts are always on the emergency path.
    type: list
    elements: str
    default: [critical]
  approval_required:
    description: An approved change is required even inside the window (the plan's C(approval_required)).
    type: bool
    default: false
  change_ref:
    description: The change reference - an id, or C({id, approver}).
    type: raw
  change_source:
    description: The change file or change API, as M(patchwise.patching.change_check)'s C(source) takes it (C(docs/changes.md)).
    type: raw
  approvers:
    description: The register's approvers for the host; default read from O(register) or O(asset_db).
    type: list
    elements: str
  register:
    description: The host's register entry (a mapping) or the path of a register file.
    type: raw
  asset_db:
    description:
      - The asset database whose stored register names the host's approvers.
      - A C(postgresql://user@host:port/database) URL instead uses a PostgreSQL asset database (password from E(PGPASSWORD)
        or a E(PGPASSFILE), never in the URL; see docs/postgresql.md).
    type: path
  at:
    description: Decide at this moment (C(YYYY-MM-DDTHH:MM:SSZ)) instead of now.
    type: str
seealso:
  - module: patchwise.patching.change_check
  - plugin: patchwise.patching.window_open
    plugin_type: test
"""

EXAMPLES = r"""
- name: May this host be patched now?
  patchwise.patching.patch_gate:
    window: "{{ patchwise_register.window | default('') }}"
    windows: "{{ patchwise_policy.windows }}"
    approval_required: true
    change_ref: "{{ patchwise_change_ref }}"
    change_source: /etc/patchwise/changes.yml
    asset_db: /var/lib/patchwise/assets.db
  delegate_to: localhost
  register: gate

- name: Leave the host alone when the gate says no
  ansible.builtin.meta: end_host
  when: not gate.allowed
"""

RETURN = r"""
allowed:
  description: The host may be patched now.
  returned: success
  type: bool
reason:
  description: Why not, in plain words (empty when allowed).
  returned: success
  type: str
  sample: "the plan requires an approved change for this host: change CHG-1003 was approved by mallory@example.org, who is not an approver of cy-db"
code:
  description:
    - Which rule refused (null when allowed) - V(window_closed), V(no_change_ref), V(no_change_source), or the
      refusal code of M(patchwise.patching.change_check) (V(unknown_id), V(not_approved), V(not_started),
      V(expired), V(wrong_host), V(approver_not_allowed), V(no_approvers), V(not_emergency)).
  returned: success
  type: str
window:
  description: The window's C(name) and whether it is C(open) now.
  returned: success
  type: dict
emergency:
  description: The run goes ahead on the emergency path (outside the window, under an emergency change).
  returned: success
  type: bool
change:
  description: The approved change the run goes ahead under (C(id), C(approver), C(start), C(end), C(emergency), C(source)), or null.
  returned: success
  type: dict
approval_required:
  description: Whether an approved change was required inside the window.
  returned: success
  type: bool
"""

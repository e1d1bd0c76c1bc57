#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: incident_event
short_description: Send one incident event per patch run and failed host (or stopped rollout) to a webhook
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Posts an incident event as JSON to a webhook (an incident management system, a chat bridge, an event router)
    when a host fails to patch (O(kind=host_failed)), a patched host's services log more errors than before the change
    (O(kind=host_degraded)), an application update fails (O(kind=app_failed)) or a rollout is stopped
    (O(kind=rollout_stopped)).
  - The event holds the run id, the host, the failed step, the reason, the change reference, where the audit trail
    records the failure (O(audit_log), O(audit_seq), O(audit_records)) and an C(incident_id), a stable hash of run
    id, kind and host that the receiver can deduplicate on. It is also sent as header C(X-Patchwise-Incident-Id).
  - Deduplicated on the controller too. A state (O(state_file), or a shared asset database, O(state_db)) remembers
    the incidents sent, so a second call for the same
    run and host (or a second stopped batch of the same run) sends nothing and reports no change.
  - Each POST has a short timeout and is retried O(retries) times. An event that still cannot be delivered is kept
    in the state as pending and retried by the next call of this module with the same O(url), in this run or a
    later one. The task then warns; it fails only with O(fail_on_error=true), so a broken incident channel does not
    hide the failure being reported.
  - Runs on the controller (it is an action plugin); it never touches managed hosts. Reason and details pass the
    audit trail's sanitiser, so secret-looking values are replaced by C(********).
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Sends nothing and writes no state; reports whether the event would be sent and which are pending.
options:
  url:
    description: The webhook receiving the events (C(POST), JSON body).
    type: str
    required: true
  kind:
    description:
      - V(host_failed) - one event per run and host (an operating-system patch failed).
      - V(host_degraded) - one event per run and host (errors in the logs of the units a change touched rose past the
        policy's C(log_check.max_error_increase)).
      - V(app_failed) - one event per run and host (an application update failed, or was rolled back).
      - V(rollout_stopped) - one event per run, whichever play or batch stopped.
    type: str
    choices: [host_failed, host_degraded, app_failed, rollout_stopped]
    default: host_failed
  run_id:
    description: The run id; default the variable C(patchwise_run_id), else the environment's C(PATCHWISE_RUN_ID)
      (which the P(patchwise.patching.audit#callback) callback exports).
    type: str
  host:
    description:
      - The failed host, default C(inventory_hostname); for O(kind=rollout_stopped) the play or batch that stopped,
        default C(ansible_play_name).
    type: str
  step:
    description: The step that failed, such as the failed task's name.
    type: str
  reason:
    description: Why it failed, such as the failed task's C(msg).
    type: str
  change_ref:
    description: The change or approval reference; default the variable C(patchwise_change_ref).
    type: str
  audit_log:
    description: Path of the audit log holding the run's records; default the environment's C(PATCHWISE_AUDIT_LOG).
    type: path
  audit_seq:
    description: The audit records of the failure as C([first, last]) sequence numbers (C(seq) of the records), or C([seq]).
    type: list
    elements: int
  audit_records:
    description: Ids of the audit records of the failure (such as their C(event_id)).
    type: list
    elements: str
  links:
    description: Further links for the receiver, such as the AWX job URL.
    type: list
    elements: str
  details:
    description: Further data to include (sanitised, shortened).
    type: dict
  state_file:
    description:
      - File remembering sent and pending incidents (JSON, mode 0600, written atomically under a lock, so forks
        handling other hosts can share it).
      - Default C(<audit_log>.incidents.json) when O(audit_log) is known, else C(~/.ansible/patchwise/incidents.json),
        unless the state is kept in an asset database (O(state_db)).
      - Mutually exclusive with O(state_db).
    type: path
  state_db:
    description:
      - Keep the incident state in this asset database (a C(postgresql://) URL, or an SQLite file) instead of a file -
        the C(incident_event) document of its C(controller_state) table, changed in one transaction under a row lock.
        Jobs that start in fresh containers (AWX) then still find the incidents sent and pending.
      - Default C(patchwise_asset_db) (or E(PATCHWISE_ASSET_DB)) when that is a PostgreSQL URL; with an SQLite asset
        database the state stays in O(state_file).
      - Mutually exclusive with O(state_file).
    type: str
  headers:
    description: Extra HTTP headers.
    type: dict
  token:
    description: "Token sent as C(Authorization: Bearer <token>) (never logged, never written to the state file)."
    type: str
  timeout:
    description: Seconds to wait for each attempt.
    type: int
    default: 5
  retries:
    description: Further attempts after a failed POST.
    type: int
    default: 2
  retry_delay:
    description: Seconds between attempts.
    type: float
    default: 1.0
  validate_certs:
    description: Verify the webhook's TLS certificate.
    type: bool
    default: true
  fail_on_error:
    description: Fail the task when the event cannot be delivered (it is kept as pending either way).
    type: bool
    default: false
  retention_days:
    description: Days the state file remembers delivered incidents; pending ones are kept until delivered.
    type: int
    default: 30
notes:
  - Delivery is at least once. Two tasks for the same run and host at the same time, or a controller that dies between
    sending and recording, can send an event twice; the receiver drops repeats of an C(incident_id).
seealso:
  - plugin: patchwise.patching.audit
    plugin_type: callback
"""

EXAMPLES = r"""
- name: Patch a host, and open an incident when it fails
  block:
    - name: Patch
      ansible.builtin.include_role:
        name: patchwise.patching.system_patch
  rescue:
    - name: Report the failed host
      patchwise.patching.incident_event:
        url: https://events.example.com/patchwise
        token: "{{ vault_incident_token }}"
        step: "{{ ansible_failed_task.name }}"
        reason: "{{ ansible_failed_result.msg | default('failed') }}"
        audit_log: /var/log/patchwise/audit.jsonl
    - name: Keep the failure
      ansible.builtin.fail:
        msg: "{{ ansible_failed_result.msg | default('patch failed') }}"

- name: Report a stopped rollout once per run
  patchwise.patching.incident_event:
    url: https://events.example.com/patchwise
    kind: rollout_stopped
    reason: "max_fail_percentage reached in batch {{ batch_number }}"
    links:
      - "https://awx.example.com/#/jobs/playbook/{{ awx_job_id }}"
  run_once: true
"""

RETURN = r"""
status:
  description:
    - V(sent) - delivered by this call.
    - V(already_sent) - delivered before (same run and host); nothing sent.
    - V(in_flight) - another task is sending it right now; nothing sent.
    - V(pending) - could not be delivered; kept in the state file for a later call.
    - V(would_send) - check mode.
  returned: always
  type: str
  sample: sent
incident_id:
  description: Stable id of the incident (32 hex digits of SHA-256 over run id, kind and host).
  returned: always
  type: str
  sample: 0d6f3b1c9a4e5f7a8b2c1d0e9f8a7b6c
event:
  description: The event (as built by this call; an earlier pending event is sent as it was first built).
  returned: always
  type: dict
  sample:
    schema: 1
    type: incident
    kind: host_failed
    incident_id: 0d6f3b1c9a4e5f7a8b2c1d0e9f8a7b6c
    run_id: "4711"
    host: web1
    step: Install security updates
    reason: "dpkg returned 100"
    change_ref: CHG-1234
    occurred_at: "2026-11-29T02:13:05.123456Z"
    audit: {log: /var/log/patchwise/audit.jsonl, seq_from: 120, seq_to: 124}
    links: []
    details: {}
delivered:
  description: Ids of the incidents delivered by this call (the own one and earlier pending ones).
  returned: always
  type: list
  elements: str
  sample: [0d6f3b1c9a4e5f7a8b2c1d0e9f8a7b6c]
pending:
  description: Ids of the incidents still waiting for delivery in the state file (in check mode, also those that would be sent).
  returned: always
  type: list
  elements: str
  sample: []
state_file:
  description: Where the state is kept - the state file, or the asset database and document.
  returned: always
  type: str
  sample: /var/log/patchwise/audit.jsonl.incidents.json
"""

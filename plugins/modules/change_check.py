#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: change_check
short_description: Check that an approved change in the change source approves this host now
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Resolves a change reference in a change source - a change file (YAML or JSON) or a ServiceNow-style Table API - and
    succeeds only when that change approves the host at this moment. See C(docs/changes.md) for the file format and the
    API field mapping.
  - 'The rules, in the order they are checked; the first one broken fails the task and names the change, the host and
    the reason in plain words, with C(refused.code):'
  - The change exists (V(unknown_id)) and is approved (V(not_approved)); in a change file a change is approved when it
    records an C(approver), in the API when its approval field says C(approved).
  - It is open at the moment checked - start <= O(at) < end - (V(not_started), V(expired)).
  - It covers the host - the host's name matches one of its C(hosts) (names or shell patterns) or the host is in one of
    its C(groups) (O(groups)) - (V(wrong_host)).
  - The host has approvers in the asset register (V(no_approvers)); an approval nobody is entitled to give is not an
    approval.
  - The approver the source records is one of them (V(approver_not_allowed)). An approver given in O(change_ref) is
    only a claim; a different one recorded by the source is warned about and the recorded one counts.
  - With O(emergency=true) the change is flagged emergency (V(not_emergency)).
  - A source that cannot be read or holds invalid data - a bad time, a time without a zone, an unknown key, a duplicate
    id, an end before the start, an HTTP error, an answer that is not JSON or has no C(result) list - fails the task
    with C(refused.code=source_error), naming the file and field or the URL and the problem.
  - Credentials never appear in the result, in warnings or in errors; the URL returned is the base URL without them.
  - Runs on the controller (it is an action plugin); it never touches managed hosts.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
options:
  change_ref:
    description:
      - The change id (for example C(CHG0030001)), or a mapping with C(id) and optionally C(approver). The approver given
        here is only a claim; the approver that counts is the one the change source records.
    type: raw
    required: true
  source:
    description:
      - The path of a change file (YAML, or JSON when the name ends in C(.json)).
      - Or the base URL (V(http://) or V(https://)) of a ServiceNow-style Table API, credentials taken from the
        environment (C(PATCHWISE_CHANGE_API_USER) and C(PATCHWISE_CHANGE_API_PASSWORD), or C(PATCHWISE_CHANGE_API_TOKEN)).
      - Or a mapping with C(url) and optionally C(user) and C(password) (basic authentication) or C(token) (sent as
        the header C(Authorization) with C(Bearer <token>)), C(validate_certs) (default V(true)), C(timeout) (seconds, default V(30)),
        C(table) (default V(change_request)) and C(fields), which overrides the default field mapping - C(number)
        (C(number)), C(approval) (C(approval)), C(start) (C(start_date)), C(end) (C(end_date)), C(type) (C(type); V(emergency)
        marks an emergency change), C(hosts) (C(cmdb_ci.name); a comma-separated list is split), C(groups) (none) and
        C(approver) (C(sysapproval_approver:approver.email) - the approved records of that table for the change; a plain
        field name reads the approver from the change record instead). When the mapping gives no credentials the
        environment's are used.
      - The request is C(GET <url>/api/now/table/<table>?number=<id>) with C(sysparm_fields), C(sysparm_display_value=false),
        C(sysparm_exclude_reference_link=true) and C(sysparm_limit=2); with the default approver mapping a second
        request, C(GET <url>/api/now/table/sysapproval_approver?sysparm_query=sysapproval=<sys_id>^state=approved), reads
        who approved it. Times are read as ServiceNow's UTC C(YYYY-MM-DD HH:MM:SS) or ISO 8601 with a zone. Redirects
        are not followed.
    type: raw
    required: true
  host:
    description: The host to approve; default C(inventory_hostname).
    type: str
  groups:
    description: The host's groups, matched against the change's C(groups); default C(group_names).
    type: list
    elements: str
  approvers:
    description:
      - The register's approvers for the host. When not given they are read from the asset register - O(register), else
        the asset database O(asset_db), else the variable C(patchwise_asset_db). A host with no approvers is refused.
    type: list
    elements: str
  register:
    description: The asset register file (YAML or CSV, see C(docs/register.md)) to read the host's C(approvers) from.
    type: path
  asset_db:
    description:
      - The asset database whose stored register holds the host's C(approvers); default C(patchwise_asset_db).
      - A C(postgresql://user@host:port/database) URL instead uses a PostgreSQL asset database (password from E(PGPASSWORD)
        or a E(PGPASSFILE), never in the URL; see docs/postgresql.md).
    type: path
  emergency:
    description: The run is an emergency (outside its maintenance window); the change must be flagged emergency.
    type: bool
    default: false
  at:
    description: Decide at this moment instead of now, an ISO 8601 time with a time zone (for example C(2026-03-01T22:00:00Z)).
    type: str
seealso:
  - module: patchwise.patching.risk_assess
"""

EXAMPLES = r"""
- name: Check that the change approves this host now
  patchwise.patching.change_check:
    change_ref: "{{ patchwise_change_ref }}"
    source: /etc/patchwise/changes.yml
    register: /etc/patchwise/register.yml
  delegate_to: localhost

- name: Check an emergency change in ServiceNow, approvers from the asset database
  patchwise.patching.change_check:
    change_ref: CHG0030001
    source:
      url: https://example.service-now.com
      user: "{{ servicenow_user }}"
      password: "{{ servicenow_password }}"
      fields:
        hosts: u_affected_hosts
    asset_db: /var/lib/patchwise/assets.db
    emergency: true
  delegate_to: localhost

- name: Preview whether the change will still be open at the start of Sunday's window
  patchwise.patching.change_check:
    change_ref: {id: CHG-1002, approver: bob@example.org}
    source: "{{ patchwise_change_source }}"
    approvers: [bob@example.org]
    at: "2026-03-01T02:00:00Z"
  delegate_to: localhost
"""

RETURN = r"""
approved:
  description: Whether the change approves the host now (V(false) on every refusal and C(source_error)).
  returned: always, except when an option is invalid
  type: bool
  sample: true
change:
  description: The change as the source records it, times in UTC; C(approver) is the recorded approver that is one of
    the host's approvers (on a refusal, the first recorded one, or null).
  returned: success, and on a refusal once the change was found
  type: dict
  sample: {"id": "CHG-1002", "approver": "bob@example.org", "hosts": ["web*"], "groups": ["web"],
           "start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z", "emergency": false,
           "source": "/etc/patchwise/changes.yml"}
  contains:
    id:
      description: The change id.
      type: str
    approver:
      description: The approver recorded by the source.
      type: str
    hosts:
      description: Host names or shell patterns the change covers.
      type: list
      elements: str
    groups:
      description: Inventory groups the change covers.
      type: list
      elements: str
    start:
      description: When the change opens (ISO 8601, UTC).
      type: str
    end:
      description: When it closes (ISO 8601, UTC); the change is open before this moment.
      type: str
    emergency:
      description: Whether the change is flagged emergency.
      type: bool
    source:
      description: The change file, or the API's base URL (never with credentials).
      type: str
refused:
  description: Why the task failed - C(code) (V(unknown_id), V(not_approved), V(not_started), V(expired), V(wrong_host),
    V(no_approvers), V(approver_not_allowed), V(not_emergency), or V(source_error) for a source that cannot be read or
    holds invalid data) and C(reason), the same text as C(msg).
  returned: failure
  type: dict
  sample: {"code": "wrong_host", "reason": "change CHG-1002 does not cover host web01 (hosts: db01; groups: db)"}
approvers_source:
  description: Where the host's approvers came from - the O(approvers) option, the asset register file or the asset database.
  returned: success and refusals
  type: str
  sample: asset register /etc/patchwise/register.yml
"""

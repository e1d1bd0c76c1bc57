#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: asset_store
short_description: Store asset records and the asset register in the asset database, with history
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Writes the asset records that M(patchwise.patching.asset_facts) returned for the hosts of a play into the
    asset database, an SQLite file on the controller, in one transaction.
  - Keeps the latest record per host and the history of what changed since the previous record - packages added,
    removed, upgraded or downgraded, kernel, OS release, services, listening sockets, applications, pending
    security updates and restart needs - with first-seen and last-seen times.
  - A record equal to the stored one (its collection time and process ids aside) only moves the host's last-seen
    time and does not count as a change. Hosts not seen for O(stale_after_days) are reported as stale, never
    deleted.
  - With O(register), validates the asset register (owner, team, criticality, exposure, environment, maintenance
    window, patch group, approvers) and stores it for the inventory plugin and the risk pass.
  - Two runs writing at once wait for each other up to O(busy_timeout) seconds; a failed run changes nothing.
  - Runs on the controller (it is an action plugin); use it with C(run_once) and pass the records of all hosts.
    The database is created readable by its owner only, because package lists show where a fleet is weak.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Reports which hosts would change and how, then rolls the transaction back.
options:
  path:
    description:
      - The asset database on the controller. It and its directory are created when missing.
      - A C(postgresql://user@host:port/database) URL instead uses a PostgreSQL asset database (password from E(PGPASSWORD)
        or a E(PGPASSFILE), never in the URL; see docs/postgresql.md).
    type: path
    required: true
  records:
    description:
      - The asset records to store, by inventory host name. Each value is either the record or the whole
        registered result of M(patchwise.patching.asset_facts) (its RV(patchwise.patching.asset_facts#module:record)
        is used; failed or skipped results are left out).
    type: dict
    default: {}
  outcomes:
    description:
      - Patch outcomes to append to the asset database's history (what the patch roles did on a host), each stamped
        with the run id.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: The host; default the task's C(inventory_hostname).
        type: str
      kind:
        description: V(system) for operating-system patches, V(app) for application patches.
        type: str
        required: true
        choices: [system, app]
      status:
        description: The outcome, such as V(ok), V(changed), V(failed), V(rolled_back).
        type: str
        required: true
      detail:
        description: What changed (packages or applications with old and new versions, health, rollback, reason).
        type: dict
        default: {}
  register:
    description:
      - An asset register file, YAML or C(.csv) (see the collection's C(docs/register.md)). It replaces the stored
        register. Unknown keys and values are refused with the file, host and key named.
    type: path
  run_id:
    description:
      - The run id stamped on the history entries. Defaults to the C(patchwise_run_id) variable, then to the
        C(PATCHWISE_RUN_ID) environment variable that the C(patchwise.patching.audit) callback exports.
    type: str
  stale_after_days:
    description: Hosts whose last record is older than this many days are reported in RV(stale). V(0) turns it off.
    type: int
    default: 14
  busy_timeout:
    description: Seconds to wait for another run that is writing the database.
    type: float
    default: 30.0
seealso:
  - module: patchwise.patching.asset_facts
  - plugin: patchwise.patching.assets
    plugin_type: inventory
"""

EXAMPLES = r"""
- name: Discover the hosts
  patchwise.patching.asset_facts:
  register: discovered

- name: Store every host's record and the register
  patchwise.patching.asset_store:
    path: "{{ patchwise_asset_db }}"
    register: "{{ patchwise_register }}"
    records: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'discovered'))) }}"
  run_once: true
  delegate_to: localhost

- name: Record what app_patch did on this host
  patchwise.patching.asset_store:
    path: "{{ patchwise_asset_db }}"
    outcomes:
      - kind: app
        status: "{{ 'failed' if app_patch_outcome.failed else 'ok' }}"
        detail: "{{ app_patch_outcome }}"
  delegate_to: localhost
"""

RETURN = r"""
outcomes:
  description: Number of patch outcomes appended.
  returned: always
  type: int
path:
  description: The asset database.
  returned: always
  type: str
schema:
  description: The database's schema version.
  returned: always
  type: int
  sample: 1
run_id:
  description: The run id stamped on this run's history entries (null when none was known).
  returned: always
  type: str
hosts:
  description:
    - Per host, whether its record changed, whether it is new, and the kinds of change recorded; a refused record has
      C(refused) with the reason instead.
  returned: always
  type: dict
  sample: {web01: {changed: true, new: false, changes: [packages, updates]}, web02: {changed: false, new: false, changes: []}}
refused:
  description:
    - The records that could not be stored, host -> reason naming the field (an empty host name, a part of the wrong
      type, no record at all). Each is refused alone; the other hosts are stored, and the task warns.
  returned: always
  type: dict
  sample: {"db01": "packages must be a list, got str"}
register_changed:
  description: Hosts whose register entry was added, changed or removed.
  returned: always
  type: list
  elements: str
stale:
  description: Hosts in the database not seen for O(stale_after_days) days.
  returned: always
  type: list
  elements: str
summary:
  description:
    - Totals over every host in the database - hosts, packages, pending_updates, security_updates,
      hosts_with_security_updates, reboot_required (hosts), restart_services (per host), stale (hosts).
    - Null in check mode when the database does not exist yet.
  returned: always
  type: dict
"""

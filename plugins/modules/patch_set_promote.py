#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: patch_set_promote
short_description: Promote a frozen patch set to the next stage when its gates pass
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Moves a frozen patch set (M(patchwise.patching.patch_set_freeze)) from the stage it is in to the next one of the
    policy's C(stages) (register environments, in order); a promotion never skips a stage.
  - "Gates, from the policy's C(promotion): C(coverage) - the set was installed on at least C(min_percent) % of the
    stage's hosts (by C(system_patch) and C(app_patch) alike: a host counts when the last run of each role that
    installed the set there succeeded); C(no_failures) - no host of the stage failed or was rolled back installing it; C(soak) - at least
    C(soak_hours) passed since its last run there; C(no_alerts) - none of O(alerts) started since that run. Each
    refusal names its gate."
  - A promotion is recorded with the set - who (the AWX user or the local one), the change reference, the run id and
    the gates - and, as the task's result, in the audit trail. Promoting to the stage the set is already in changes nothing.
  - Runs on the controller (it is an action plugin); it never touches managed hosts.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Checks the gates and records nothing.
options:
  id:
    description: The patch set to promote.
    type: str
    required: true
  to_stage:
    description: The stage to promote it to, the one after its current stage in the policy's C(stages).
    type: str
    required: true
  asset_db:
    description:
      - The asset database with the set and the patch outcomes (C(patchwise_asset_db)).
      - A C(postgresql://user@host:port/database) URL instead uses a PostgreSQL asset database (password from E(PGPASSWORD)
        or a E(PGPASSFILE), never in the URL; see docs/postgresql.md).
    type: path
    required: true
  policy:
    description: The policy (a mapping or a YAML file path) with C(stages) and C(promotion).
    type: raw
    default: {}
  alerts:
    description:
      - Alerts for the stage's hosts, as M(patchwise.patching.alertmanager_alerts) returns them (C(labels), C(startsAt));
        those that started since the set's last run in the stage fail the C(no_alerts) gate.
    type: list
    elements: dict
    default: []
  change_ref:
    description: The change reference recorded with the promotion; default C(patchwise_change_ref).
    type: raw
  run_id:
    description: The run id recorded with the promotion; default C(patchwise_run_id), else E(PATCHWISE_RUN_ID).
    type: str
  busy_timeout:
    description: Seconds to wait for another run writing the asset database.
    type: float
    default: 30
seealso:
  - module: patchwise.patching.patch_set_freeze
"""

EXAMPLES = r"""
- name: Promote the set staging tested
  patchwise.patching.patch_set_promote:
    id: 2026-12-05-staging
    to_stage: production
    asset_db: "{{ patchwise_asset_db }}"
    policy: "{{ patchwise_policy }}"
    change_ref: CHG-1234
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
from_stage:
  description: The stage the set left.
  returned: when the gates were checked
  type: str
to_stage:
  description: The stage it was promoted (or asked to be promoted) to.
  returned: success
  type: str
gates:
  description: Each gate with C(gate), C(passed) and C(detail).
  returned: when the gates were checked
  type: list
  elements: dict
  sample: [{gate: coverage, passed: true, detail: "installed on 2 of 2 hosts (100 %; min_percent 100)"}]
hosts:
  description: The hosts of the stage the set left.
  returned: when the gates were checked
  type: list
  elements: str
"""

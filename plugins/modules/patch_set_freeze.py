#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: patch_set_freeze
short_description: Freeze the updates a stage's plans make eligible into an immutable patch set
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Reads the stored plans of the hosts of one stage (hosts whose register C(environment) is O(stage)) - the updates
    the policy's baseline made eligible - and stores them as one named, immutable patch set in the asset database -
    per OS ecosystem each package with the newest target any plan names, per application ecosystem each application.
  - The set records when it was made, by which run and under which policy (its fingerprint), and a digest of its
    content. A set whose stored content no longer matches the digest is refused wherever it is used; freezing the same
    id again with the same content changes nothing, with other content it is refused.
  - M(patchwise.patching.patch_context) (the O(patchwise.patching.patch_context#module:patch_set) option, and
    C(system_patch_patch_set) of the C(system_patch) role) installs exactly the set's versions and nothing newer, on
    the hosts of its stage and of the stages it was promoted to.
  - Runs on the controller (it is an action plugin); it never touches managed hosts.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Shows the set it would freeze and writes nothing.
options:
  id:
    description: The set's id, letters, digits, C(.), C(_) and C(-) (up to 64), for example C(2026-12-05-staging).
    type: str
    required: true
  stage:
    description: The stage the set is frozen in, a register C(environment); its hosts' plans make the set.
    type: str
    required: true
  asset_db:
    description:
      - The asset database with the plans (C(patchwise_asset_db)); never created here.
      - A C(postgresql://user@host:port/database) URL instead uses a PostgreSQL asset database (password from E(PGPASSWORD)
        or a E(PGPASSFILE), never in the URL; see docs/postgresql.md).
    type: path
    required: true
  hosts:
    description: The hosts to consider (those of O(stage) among them count); default the play's hosts.
    type: list
    elements: str
  policy:
    description: The policy in force (a mapping or a YAML file path); its fingerprint is recorded with the set.
    type: raw
    default: {}
  run_id:
    description: The run id recorded with the set; default C(patchwise_run_id), else E(PATCHWISE_RUN_ID).
    type: str
  keep_existing:
    description:
      - When a set with this id exists, leave it as it is whatever the plans say now (a playbook that freezes once and
        runs again). Without it, freezing an existing id with other content is refused.
    type: bool
    default: false
  busy_timeout:
    description: Seconds to wait for another run writing the asset database.
    type: float
    default: 30
seealso:
  - module: patchwise.patching.patch_context
  - module: patchwise.patching.risk_assess
"""

EXAMPLES = r"""
- name: Freeze what staging is about to be patched with
  patchwise.patching.patch_set_freeze:
    id: "{{ '%Y-%m-%d' | strftime }}-staging"
    stage: staging
    asset_db: "{{ patchwise_asset_db }}"
    policy: "{{ patchwise_policy }}"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: The set's id.
  returned: success
  type: str
digest:
  description: SHA-256 of the set's id and content, recorded with it.
  returned: success
  type: str
content:
  description:
    - C(system) - per OS ecosystem, package name to the version to install; C(applications) - per application
      ecosystem, name to version; C(hosts) - the hosts whose plans made it.
  returned: success
  type: dict
  sample: {system: {"Debian:12": {openssl: 3.0.16-1~deb12u1}}, applications: {}, hosts: [web01]}
left_out:
  description: Hosts asked for that are not in the stage or have no stored plan.
  returned: success
  type: list
  elements: str
"""

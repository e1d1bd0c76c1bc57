#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: config_check
short_description: Validate the configuration of a patch run and record its fingerprint
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Validates the configuration that drives patching before anything uses it - the risk policy, the asset register
    and the application definitions - and fails naming the file, entry and key at fault.
  - Returns the SHA-256 fingerprint of each part. With the P(patchwise.patching.audit#callback) callback enabled the
    fingerprints land in the audit trail of the run (the record of this task carries them in C(summary.config)), so
    the configuration in force during a run can be proven later.
  - A part given as a file is fingerprinted by the SHA-256 of its bytes (C(sha256sum) prints the same value); a
    part given inline by the SHA-256 of its canonical JSON (keys sorted, no whitespace, UTF-8) after the values of
    secret-looking keys (passwords, tokens, keys, C(headers)) are replaced by the text C((secret)) - a changed
    configuration changes the fingerprint, a bare hash of a credential never reaches the audit trail.
  - The playbooks C(patchwise.patching.patch_systems) and C(patchwise.patching.assess) and the role
    P(patchwise.patching.app_patch#role) run it (or the same check inside M(patchwise.patching.risk_assess)) first.
  - Runs on the controller (it is an action plugin); it never touches managed hosts.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
options:
  policy:
    description:
      - The risk policy (C(patchwise_policy)), a mapping or the path of a YAML file, validated as
        M(patchwise.patching.risk_assess) validates it (see C(docs/policy.md)).
    type: raw
  register:
    description: The asset register file (YAML or CSV, see C(docs/register.md)).
    type: path
  applications:
    description:
      - Application definitions (C(app_patch_applications)), validated against the
        P(patchwise.patching.app_patch#role) role's argument specification and its rules (an artifact for
        V(release_dir) and V(virtualenv), exactly one of C(url) and C(path), a 64-digit C(sha256), a C(keyring) for
        a C(signature), unique names).
    type: list
    elements: dict
notes:
  - Give at least one of O(policy), O(register) and O(applications).
"""

EXAMPLES = r"""
- name: Validate the run's configuration and record its fingerprint
  patchwise.patching.config_check:
    policy: "{{ patchwise_policy | default({}) }}"
    register: /etc/patchwise/register.yml
    applications: "{{ app_patch_applications }}"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
config:
  description: The fingerprint of each part given.
  returned: success
  type: dict
  contains:
    policy:
      description: C(sha256) and C(source) (the file, or C(inline)).
      type: dict
      returned: when O(policy) is given
      sample: {"sha256": "4c1f0e5d...", "source": "/etc/patchwise/policy.yml"}
    register:
      description: C(sha256), C(source) (the file) and C(hosts) (entries in it).
      type: dict
      returned: when O(register) is given
      sample: {"sha256": "9f86d081...", "source": "/etc/patchwise/register.yml", "hosts": 120}
    applications:
      description: C(sha256), C(source) (C(inline)) and C(names) (the applications defined).
      type: dict
      returned: when O(applications) is given
      sample: {"sha256": "2c26b46b...", "source": "inline", "names": ["demo", "pwdemo"]}
sha256:
  description: One SHA-256 over the parts' fingerprints (C(<part>=<sha256>) lines in part order) - the whole configuration.
  returned: success
  type: str
  sample: 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
"""

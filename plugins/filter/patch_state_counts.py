# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: patch_state_counts
short_description: The per-host patch state counts of a patch run's outcome
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Counts what a patch run did to a host, after AWS Patch Manager's per-instance patch states, from the outcome of the
    role C(patchwise.patching.system_patch) or P(patchwise.patching.app_patch#role). The roles add these counts to
    their outcome; the report shows the same names.
  - Each package (or application) the run considered is counted once, in the first state that applies -
    C(failed) (tried, and the host failed), C(pending_reboot) (installed, reboot still needed), C(pending_restart)
    (installed, a unit using it not restarted), C(installed) (at its target, in this run or before),
    C(installed_other) (changed without being selected, a dependency), C(held), C(rejected) (excluded by a pattern),
    C(missing) (wanted and not installed - the sources lack the target, the gate refused the host, check mode),
    C(not_applicable) (planned for a package the host does not have).
options:
  _input:
    description: The outcome (C(system_patch_outcome) or C(app_patch_outcome)).
    type: dict
    required: true
  kind:
    description: Which role's outcome it is.
    type: str
    choices: [system, app]
    default: system
"""

EXAMPLES = r"""
- name: Show what the run did to the host
  ansible.builtin.debug:
    msg: "{{ system_patch_outcome | patchwise.patching.patch_state_counts }}"
"""

RETURN = r"""
_value:
  description: The count of each state.
  type: dict
  sample: {"installed": 3, "installed_other": 1, "pending_reboot": 0, "pending_restart": 0, "held": 1, "rejected": 0,
           "missing": 0, "failed": 0, "not_applicable": 0}
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.plugin_utils import patch_states


def patch_state_counts(outcome, kind='system'):
    try:
        return patch_states.patch_state_counts(outcome, kind)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {'patch_state_counts': patch_state_counts}

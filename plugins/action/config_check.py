# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.app_definitions import AppDefinitionError, validate_applications
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError, combined, value_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_inputs import policy_with_fingerprint, register_with_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskEngine, RiskError

_ARGUMENT_SPEC = {
    'policy': {'type': 'raw'},
    'register': {'type': 'path'},
    'applications': {'type': 'list', 'elements': 'dict', 'no_log': False},
}


def check_config(policy=None, register=None, applications=None):
    """Validate each part given and return ``{part: {sha256, source, ...}}``; raises on the first invalid part."""
    parts = {}
    if policy is not None:
        effective, parts['policy'] = policy_with_fingerprint(policy)
        # The same engine risk_assess builds (decision tables, point defaults, tiers), so what passes here passes there.
        RiskEngine(effective)
    if register is not None:
        parts['register'] = register_with_fingerprint(register)[1]
    if applications is not None:
        validate_applications(applications)
        parts['applications'] = dict(value_fingerprint(applications), names=[entry['name'] for entry in applications])
    return parts


class ActionModule(ActionBase):
    """Validate the configuration of a patch run and return its fingerprints for the audit trail."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        if all(args[name] is None for name in _ARGUMENT_SPEC):
            raise AnsibleActionFail('config_check: give at least one of policy, register and applications')
        try:
            parts = check_config(args['policy'], args['register'], args['applications'])
        except (AppDefinitionError, ConfigError, PolicyError, RegisterError, RiskError) as exc:
            raise AnsibleActionFail('invalid configuration: %s' % exc) from exc
        result.update(changed=False, config=parts, sha256=combined(parts),
                      msg='configuration valid: ' + ', '.join('%s %s' % (name, parts[name]['sha256'][:16]) for name in sorted(parts)))
        return result

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError, asset_db_exists
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_inputs import policy_with_fingerprint, register_with_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_context import PlanRefused, patch_context
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_sets import PatchSetRefused
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError

_ARGUMENT_SPEC = {
    'host': {'type': 'str'},
    'asset_db': {'type': 'path'},
    'policy': {'type': 'raw', 'default': {}},
    'register': {'type': 'raw'},
    'at': {'type': 'str'},
    'patch_set': {'type': 'str'},
    'patch_set_for': {'type': 'str', 'default': 'system', 'choices': ['system', 'applications']},
}


class ActionModule(ActionBase):
    """Read a host's stored plan (checked) and the holds in force, for the patch roles."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        host = args['host'] or task_vars.get('inventory_hostname')
        try:
            now = utc(args['at']) if args['at'] else datetime.datetime.now(datetime.timezone.utc)
        except ValueError as exc:
            raise AnsibleActionFail('at: %r is not a UTC time like 2026-12-05T12:00:00Z' % args['at']) from exc
        notes = []
        try:
            policy, policy_part = policy_with_fingerprint(args['policy'])
            store = None
            if args['asset_db'] and asset_db_exists(args['asset_db']):
                store = AssetStore(args['asset_db'], readonly=True)
            elif args['asset_db']:
                notes.append('no asset database at %s yet: no stored plan for %s' % (args['asset_db'], host))
            try:
                register_entry = self._register_entry(args['register'], store, host)
                context = patch_context(store, host, policy, register_entry, now, patch_set=args['patch_set'],
                                        patch_set_kind=args['patch_set_for'])
            finally:
                if store is not None:
                    store.close()
        except (PlanRefused, PatchSetRefused) as exc:
            result.update(failed=True, refused=True, msg=str(exc))
            return result
        except (AssetStoreError, ConfigError, PolicyError, RegisterError) as exc:
            raise AnsibleActionFail(str(exc)) from exc
        if not context['found'] and store is not None:
            notes.append('no stored plan for %s in %s (run assess to plan by risk)' % (host, args['asset_db']))
        result.update(context, changed=False, host=host, policy_fingerprint=policy_part['sha256'], notes=notes)
        return result

    @staticmethod
    def _register_entry(register, store, host):
        """The host's register entry: given as a mapping, read from a register file, or the one stored in the asset DB."""
        if isinstance(register, dict):
            return register
        if isinstance(register, str) and register:
            return register_with_fingerprint(register)[0].get(host, {})
        if register not in (None, ''):
            raise AnsibleActionFail('register: must be a register file path or the host\'s register entry (a mapping), got %s'
                                    % type(register).__name__)
        return store.register().get(host, {}) if store is not None else {}

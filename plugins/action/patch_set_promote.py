# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import getpass
import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_inputs import policy_with_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_set_promotion import current_stage, gates, next_stage
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_sets import PatchSetRefused, checked
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError

_ARGUMENT_SPEC = {
    'id': {'type': 'str', 'required': True},
    'to_stage': {'type': 'str', 'required': True},
    'asset_db': {'type': 'path', 'required': True},
    'policy': {'type': 'raw', 'default': {}},
    'alerts': {'type': 'list', 'elements': 'dict', 'default': []},
    'change_ref': {'type': 'raw'},
    'run_id': {'type': 'str'},
    'busy_timeout': {'type': 'float', 'default': 30.0},
}


def _operator(task_vars):
    for name in ('awx_user_name', 'tower_user_name'):
        if task_vars.get(name):
            return str(task_vars[name])
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


class ActionModule(ActionBase):
    """Promote a frozen patch set to the next stage when every gate passes, and record it."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        run_id = args['run_id'] or task_vars.get('patchwise_run_id') or os.environ.get('PATCHWISE_RUN_ID')
        change_ref = args['change_ref'] if args['change_ref'] is not None else task_vars.get('patchwise_change_ref')
        if isinstance(change_ref, dict):
            change_ref = change_ref.get('id') or change_ref.get('reference')
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            policy, _part = policy_with_fingerprint(args['policy'])
            with AssetStore(args['asset_db'], create=False, busy_timeout=args['busy_timeout']) as store:
                stored = store.patch_set(args['id'])
                if stored is None:
                    raise PatchSetRefused('patch set %s does not exist in %s (check the id)' % (args['id'], store.path))
                patch_set = checked(stored)
                if current_stage(patch_set) == args['to_stage'] and patch_set['promotions']:
                    result.update(changed=False, id=args['id'], to_stage=args['to_stage'], gates=patch_set['promotions'][-1]['gates'],
                                  msg='patch set %s is already promoted to %s' % (args['id'], args['to_stage']))
                    return result
                from_stage = next_stage(patch_set, policy['stages'], args['to_stage'])
                stage_hosts = sorted(host for host, entry in store.register().items() if entry.get('environment') == from_stage)
                outcomes = [outcome for outcome in store.patch_outcomes() if outcome['kind'] in ('system', 'app')]
                results = gates(patch_set, stage_hosts=stage_hosts, outcomes=outcomes, config=policy['promotion'], now=now,
                                alerts=args['alerts'])
                refused = [gate for gate in results if not gate['passed']]
                if not refused:
                    store.record_promotion(args['id'], from_stage=from_stage, to_stage=args['to_stage'], gates=results, run_id=run_id,
                                           operator=_operator(task_vars), change_ref=change_ref, check_mode=self._task.check_mode)
        except PatchSetRefused as exc:
            result.update(failed=True, refused=True, msg=str(exc))
            return result
        except (AssetStoreError, ConfigError, PolicyError) as exc:
            raise AnsibleActionFail(str(exc)) from exc
        result.update(id=args['id'], from_stage=from_stage, to_stage=args['to_stage'], gates=results, hosts=stage_hosts)
        if refused:
            result.update(failed=True, refused=True, changed=False, msg='patch set %s not promoted from %s to %s: %s' % (
                args['id'], from_stage, args['to_stage'], '; '.join('gate %s: %s' % (gate['gate'], gate['detail']) for gate in refused)))
        else:
            result.update(changed=True, msg='patch set %s promoted from %s to %s%s' % (
                args['id'], from_stage, args['to_stage'], ' (check mode: not recorded)' if self._task.check_mode else ''))
        return result

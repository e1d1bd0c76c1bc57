# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_inputs import policy_with_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_sets import SET_ID, content_digest, set_content
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError

_ARGUMENT_SPEC = {
    'id': {'type': 'str', 'required': True},
    'stage': {'type': 'str', 'required': True},
    'asset_db': {'type': 'path', 'required': True},
    'hosts': {'type': 'list', 'elements': 'str'},
    'policy': {'type': 'raw', 'default': {}},
    'run_id': {'type': 'str'},
    'busy_timeout': {'type': 'float', 'default': 30.0},
    'keep_existing': {'type': 'bool', 'default': False},
}


class ActionModule(ActionBase):
    """Freeze the eligible updates of a stage's stored plans into an immutable patch set."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        if not SET_ID.match(args['id']):
            raise AnsibleActionFail('id: %r is not a patch set id (letters, digits, ".", "_" and "-", up to 64, starting with a letter '
                                    'or digit)' % args['id'])
        hosts = args['hosts'] if args['hosts'] is not None else list(task_vars.get('ansible_play_hosts') or [])
        run_id = args['run_id'] or task_vars.get('patchwise_run_id') or os.environ.get('PATCHWISE_RUN_ID')
        try:
            _policy, policy_part = policy_with_fingerprint(args['policy'])
            with AssetStore(args['asset_db'], create=False, busy_timeout=args['busy_timeout']) as store:
                existing = store.patch_set(args['id']) if args['keep_existing'] else None
                if existing is not None:
                    result.update(changed=False, id=args['id'], stage=existing['stage'], digest=existing['digest'], content=existing['content'],
                                  left_out=[], msg='patch set %s already frozen (keep_existing): left as it is' % args['id'])
                    return result
                register = store.register()
                in_stage = [host for host in hosts if register.get(host, {}).get('environment') == args['stage']]
                plans = {host: plan for host in in_stage for plan in [store.plan(host)] if plan is not None}
                ecosystems = {host: ((store.record(host) or {}).get('os') or {}).get('ecosystem') for host in plans}
                content = set_content(plans, ecosystems)
                digest = content_digest(args['id'], content)
                if not plans:
                    raise AnsibleActionFail('patch set %s: no host of stage %s has a stored plan (hosts asked: %s; run assess first)'
                                            % (args['id'], args['stage'], ', '.join(hosts) or 'none'))
                created = store.freeze_patch_set(args['id'], stage=args['stage'], content=content, digest=digest, run_id=run_id,
                                                 policy_fingerprint=policy_part['sha256'], check_mode=self._task.check_mode)
        except (AssetStoreError, ConfigError, PolicyError) as exc:
            raise AnsibleActionFail(str(exc)) from exc
        left_out = sorted(set(hosts) - set(plans))
        count = sum(len(packages) for packages in content['system'].values()) + sum(len(apps) for apps in content['applications'].values())
        result.update(changed=bool(created), id=args['id'], stage=args['stage'], digest=digest, content=content, left_out=left_out,
                      msg='patch set %s %s: %d updates from %d hosts of %s' % (
                          args['id'], 'frozen' if created else 'already frozen, unchanged', count, len(plans), args['stage']))
        return result

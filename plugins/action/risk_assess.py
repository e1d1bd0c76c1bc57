# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, AdvisoryDBError
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_freshness import check_advisory_age
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError, asset_db_exists
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError, value_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_inputs import policy_with_fingerprint, register_with_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.database_kind import ADVISORY, ASSET, database_kind
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import TIER_ORDER, RiskError
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_pass import assess_fleet
from ansible_collections.patchwise.patching.plugins.plugin_utils.ssvc import SSVCError

_ARGUMENT_SPEC = {
    'asset_db': {'type': 'path', 'required': True},
    'advisory_db': {'type': 'path', 'required': True},
    'policy': {'type': 'raw', 'default': {}},
    'register': {'type': 'path'},
    'hosts': {'type': 'list', 'elements': 'str'},
    'run_id': {'type': 'str'},
    'change_ref': {'type': 'raw'},
    'allow_stale_advisories': {'type': 'bool', 'default': False},
    'busy_timeout': {'type': 'float', 'default': 30.0},
    'force': {'type': 'bool', 'default': False},
}


class ActionModule(ActionBase):
    """One controller-side risk pass over the play's hosts."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        hosts = args['hosts'] if args['hosts'] is not None else list(task_vars.get('ansible_play_hosts') or [])
        run_id = args['run_id'] or task_vars.get('patchwise_run_id') or os.environ.get('PATCHWISE_RUN_ID')
        change_ref = args['change_ref'] if args['change_ref'] is not None else task_vars.get('patchwise_change_ref')
        if (database_kind(args['asset_db']), database_kind(args['advisory_db'])) == (ADVISORY, ASSET):
            raise AnsibleActionFail('asset_db and advisory_db look swapped: asset_db %s is an advisory database and advisory_db %s '
                                    'is an asset database; nothing was read or written' % (args['asset_db'], args['advisory_db']))
        missing = [path for path, exists in ((args['advisory_db'], os.path.exists), (args['asset_db'], asset_db_exists)) if not exists(path)]
        if missing and self._task.check_mode:
            # A check run on a fresh environment: the databases this run would build do not exist yet.
            result.update(changed=False, hosts={}, tiers=dict.fromkeys(TIER_ORDER, 0), missing=[], skipped={}, ranked=[], open_findings=0,
                          unchanged=0, unaffected=0,
                          lifecycle={}, run_id=run_id, advisory_db={'path': args['advisory_db'], 'built_at': None, 'stale': None},
                          msg='nothing assessed in check mode: %s does not exist yet' % ' and '.join(missing))
            return result
        try:
            policy, policy_part = policy_with_fingerprint(args['policy'])
            advisories = AdvisoryDB(args['advisory_db'])
            try:
                now = datetime.datetime.now(datetime.timezone.utc)
                stale_note = check_advisory_age(advisories, policy, now, args['allow_stale_advisories'])
                # Assessing never creates the asset database: a mistyped path must fail, not assess nothing.
                with AssetStore(args['asset_db'], create=False, busy_timeout=args['busy_timeout']) as store:
                    if args['register']:
                        register, register_part = register_with_fingerprint(args['register'])
                    else:
                        register = store.register()
                        register_part = dict(value_fingerprint(register), source='asset database')
                    summary = assess_fleet(store, advisories, policy, register, hosts, run_id=run_id, change_ref=change_ref,
                                           check_mode=self._task.check_mode, now=now, force=args['force'])
            finally:
                advisories.close()
        except (AdvisoryDBError, AssetStoreError, ConfigError, PolicyError, RegisterError, RiskError, SSVCError) as exc:
            raise AnsibleActionFail(str(exc)) from exc
        if summary['missing']:
            result['warnings'] = ['not in the asset database (run discovery first): %s' % ', '.join(summary['missing'])]
        result.update(summary, advisory_db={'path': args['advisory_db'], 'built_at': advisories.built_at, 'stale': stale_note},
                      run_id=run_id, config={'policy': policy_part, 'register': register_part})
        return result

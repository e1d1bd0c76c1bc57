# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError, load_register
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError, asset_db_exists
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import SCHEMA

_ARGUMENT_SPEC = {
    'path': {'type': 'path', 'required': True},
    'records': {'type': 'dict', 'default': {}},
    'outcomes': {
        'type': 'list', 'elements': 'dict', 'default': [],
        'options': {
            'host': {'type': 'str'},
            'kind': {'type': 'str', 'required': True, 'choices': ['system', 'app']},
            'status': {'type': 'str', 'required': True},
            'detail': {'type': 'dict', 'default': {}},
        },
    },
    'register': {'type': 'path'},
    'run_id': {'type': 'str'},
    'stale_after_days': {'type': 'int', 'default': 14},
    'busy_timeout': {'type': 'float', 'default': 30.0},
}


def _unwrap(host, value):
    """Accept the record itself or the registered result of asset_facts that holds it."""
    if isinstance(value, dict) and 'record' in value and 'schema' not in value:
        if value.get('failed') or value.get('skipped'):
            return None
        return value['record']
    # Anything else goes to the store, which refuses a bad record alone, naming the host and the field.
    return value


class ActionModule(ActionBase):
    """Store asset records and the asset register in the asset database, on the controller."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        run_id = args['run_id'] or task_vars.get('patchwise_run_id') or os.environ.get('PATCHWISE_RUN_ID')
        records = {}
        for host, value in args['records'].items():
            record = _unwrap(host, value)
            if record is not None:
                records[host] = record
        check_mode = self._task.check_mode
        try:
            register = load_register(args['register']) if args['register'] else None
            if check_mode and not asset_db_exists(args['path'], args['busy_timeout']):
                # Nothing to compare with: every host would be new.
                result.update(changed=bool(records) or bool(args['outcomes']), path=args['path'], schema=SCHEMA, run_id=run_id,
                              outcomes=len(args['outcomes']),
                              hosts={host: {'changed': True, 'new': True, 'changes': ['first_seen']} for host in records},
                              register_changed=sorted(register or {}), stale=[], summary=None)
                return result
            outcomes = [(outcome['host'] or task_vars.get('inventory_hostname'), outcome['kind'], outcome['status'], outcome['detail'])
                        for outcome in args['outcomes']]
            with AssetStore(args['path'], busy_timeout=args['busy_timeout']) as store:
                # One transaction: the register, the records, the outcomes and the summary read back, or nothing.
                register_changed, stored, summary = store.store_run(
                    records, register=register, register_source=args['register'], outcomes=outcomes, run_id=run_id,
                    stale_after_days=args['stale_after_days'], check_mode=check_mode)
        except (AssetStoreError, RegisterError) as exc:
            raise AnsibleActionFail(str(exc)) from exc
        refused = {host: item['refused'] for host, item in stored.items() if 'refused' in item}
        if refused:
            result['warnings'] = ['%d record(s) refused, the other hosts were stored: %s' % (
                len(refused), '; '.join('host %s: %s' % (host, reason) for host, reason in sorted(refused.items())))]
        result.update(
            changed=bool(register_changed) or bool(args['outcomes']) or any(item['changed'] for item in stored.values()),
            outcomes=len(args['outcomes']),
            path=args['path'], schema=SCHEMA, run_id=run_id, hosts=stored,
            register_changed=register_changed, stale=summary['stale'], summary=summary, refused=refused,
        )
        return result

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_copy import copy_database
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStoreError

_ARGUMENT_SPEC = {
    'source': {'type': 'str', 'required': True},
    'target': {'type': 'str', 'required': True},
    'busy_timeout': {'type': 'float', 'default': 30.0},
}


class ActionModule(ActionBase):
    """Copy an asset database (SQLite file or PostgreSQL URL) into a new, empty one, on the controller."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        try:
            counts = copy_database(args['source'], args['target'], busy_timeout=args['busy_timeout'], check_mode=self._task.check_mode)
        except AssetStoreError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        result.update(changed=True, rows=counts, msg='%d hosts and their history %s' % (
            counts.get('hosts', 0), 'would be copied (check mode)' if self._task.check_mode else 'copied'))
        return result

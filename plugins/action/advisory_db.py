# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDBError, build

_ARGUMENT_SPEC = {
    'path': {'type': 'path', 'required': True},
    'feeds': {
        'type': 'list', 'elements': 'dict', 'required': True,
        'options': {
            'type': {'type': 'str', 'required': True, 'choices': ['osv', 'debian', 'kev', 'epss', 'cve5', 'updateinfo']},
            'src': {'type': 'str', 'required': True},
            'sha256': {'type': 'str'},
            'ecosystem': {'type': 'str'},
        },
    },
    'lenient': {'type': 'bool', 'default': False},
    'force': {'type': 'bool', 'default': False},
}


class ActionModule(ActionBase):
    """Build the advisory database on the controller."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        try:
            result.update(build(args['path'], args['feeds'], lenient=args['lenient'],
                                check_mode=self._task.check_mode, force=args['force']))
        except AdvisoryDBError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        return result

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.change_source import (
    ChangeRefused,
    ChangeSourceError,
    check_change,
    host_approvers,
    parse_time,
)

_ARGUMENT_SPEC = {
    'change_ref': {'type': 'raw', 'required': True},
    'source': {'type': 'raw', 'required': True},
    'host': {'type': 'str'},
    'groups': {'type': 'list', 'elements': 'str'},
    'approvers': {'type': 'list', 'elements': 'str'},
    'register': {'type': 'path'},
    'asset_db': {'type': 'path'},
    'emergency': {'type': 'bool', 'default': False},
    'at': {'type': 'str'},
}


class ActionModule(ActionBase):
    """Check that an approved change in the change source covers this host now."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        host = args['host'] or self._variable(task_vars, 'inventory_hostname')
        groups = args['groups'] if args['groups'] is not None else list(self._variable(task_vars, 'group_names') or [])
        try:
            at = parse_time(args['at']) if args['at'] else None
        except ValueError as exc:
            raise AnsibleActionFail('change_check: at: %s' % exc) from None
        # Marked free of secrets: credentials stay inside change_source, nothing returned or raised here carries one.
        result['_ansible_no_log'] = False
        approvers, approvers_where = args['approvers'], 'approvers option'
        try:
            if approvers is None:
                approvers, approvers_where = host_approvers(
                    host, register=args['register'], asset_db=args['asset_db'] or self._variable(task_vars, 'patchwise_asset_db'))
            answer = check_change(args['change_ref'], args['source'], host=host, groups=groups, approvers=approvers,
                                  approvers_where=approvers_where, emergency=args['emergency'], at=at)
        except ValueError as exc:
            raise AnsibleActionFail('change_check: %s' % exc) from None
        except ChangeSourceError as exc:
            result.update(failed=True, approved=False, changed=False, msg=str(exc), refused={'code': exc.code, 'reason': str(exc)})
            return result
        except ChangeRefused as refusal:
            result.update(failed=True, approved=False, changed=False, msg=refusal.reason,
                          refused={'code': refusal.code, 'reason': refusal.reason}, approvers_source=approvers_where)
            if refusal.change is not None:
                result['change'] = refusal.change
            return result
        change = answer['change']
        result.update(changed=False, approved=True, change=change, approvers_source=approvers_where,
                      msg='change %s approves host %s until %s (approved by %s)' % (change['id'], host, change['end'], change['approver']))
        if answer['warnings']:
            result['warnings'] = answer['warnings']
        return result

    def _variable(self, task_vars, name):
        value = task_vars.get(name)
        return self._templar.template(value) if value is not None else None

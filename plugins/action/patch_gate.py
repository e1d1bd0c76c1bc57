# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.change_source import (
    ChangeRefused,
    ChangeSourceError,
    change_reference,
    check_change,
    host_approvers,
)
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import in_window, utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_gate import GateRefusal, decide
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError, load_policy

_ARGUMENT_SPEC = {
    'host': {'type': 'str'},
    'groups': {'type': 'list', 'elements': 'str'},
    'window': {'type': 'str', 'default': ''},
    'windows': {'type': 'dict', 'default': {}},
    'emergency': {'type': 'bool', 'default': False},
    'tier': {'type': 'str', 'default': ''},
    'emergency_tiers': {'type': 'list', 'elements': 'str', 'default': ['critical']},
    'approval_required': {'type': 'bool', 'default': False},
    'change_ref': {'type': 'raw'},
    'change_source': {'type': 'raw'},
    'approvers': {'type': 'list', 'elements': 'str'},
    'register': {'type': 'raw'},
    'asset_db': {'type': 'path'},
    'at': {'type': 'str'},
}


class ActionModule(ActionBase):
    """Decide on the controller whether a host may be patched now: its window, and an approved change where needed."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        host = args['host'] or task_vars.get('inventory_hostname')
        groups = args['groups'] if args['groups'] is not None else list(task_vars.get('group_names') or [])
        try:
            moment = utc(args['at']) if args['at'] else datetime.datetime.now(datetime.timezone.utc)
        except ValueError as exc:
            raise AnsibleActionFail('patch_gate: at: %r is not a UTC time like 2026-12-05T12:00:00Z' % args['at']) from exc
        try:
            windows = load_policy({'windows': args['windows']})['windows']
        except PolicyError as exc:
            raise AnsibleActionFail('patch_gate: %s' % exc) from exc
        window = args['window'] or ''
        window_open = not window or (window in windows and in_window(windows[window], moment))
        change_ref = args['change_ref'] if args['change_ref'] not in (None, '', {}) else None
        try:
            change_id = change_reference(change_ref)[0] if change_ref is not None else ''
        except ValueError as exc:
            raise AnsibleActionFail('patch_gate: change_ref: %s' % exc) from exc
        # Credentials stay inside change_source: nothing returned or raised here carries one.
        result['_ansible_no_log'] = False

        def resolve_change(emergency):
            approvers, where = self._approvers(args, host)
            try:
                return check_change(change_ref, args['change_source'], host=host, groups=groups, approvers=approvers,
                                    approvers_where=where, emergency=emergency, at=moment)['change']
            except ChangeRefused as refusal:
                raise GateRefusal(refusal.code, refusal.reason) from None

        try:
            answer = decide(window_name=window, window_open=window_open,
                            emergency_eligible=args['emergency'] or args['tier'] in args['emergency_tiers'],
                            approval_required=args['approval_required'], change_id=change_id,
                            source_given=args['change_source'] not in (None, '', {}), resolve_change=resolve_change)
        except ChangeSourceError as exc:
            raise AnsibleActionFail('patch_gate: host %s: the change source cannot be used: %s' % (host, exc)) from None
        if window and window not in windows:
            answer['window']['note'] = 'the policy defines no window %s: treated as closed' % window
        result.update(answer, changed=False, host=host)
        return result

    @staticmethod
    def _approvers(args, host):
        """The host's register approvers: given, from its register entry, or looked up in a register file or the asset DB."""
        if args['approvers'] is not None:
            return args['approvers'], 'approvers option'
        register = args['register']
        if isinstance(register, dict):
            return list(register.get('approvers') or []), 'the host\'s register entry'
        return host_approvers(host, register=register or None, asset_db=args['asset_db'])

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import verify_lines
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_head_store import HeadStoreError, stored_head

_ARGUMENT_SPEC = {
    'path': {'type': 'path', 'required': True},
    'hmac_key': {'type': 'str', 'no_log': True},
    'expected_head': {'type': 'raw'},
    'expected_head_db': {'type': 'str'},
    'since_last_break': {'type': 'bool', 'default': False},
    'fail_on_invalid': {'type': 'bool', 'default': True},
}


class ActionModule(ActionBase):
    """Verify an audit log's hash chain on the controller."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        expected = args['expected_head']
        if args['expected_head_db']:
            if expected:
                raise AnsibleActionFail('audit_verify: expected_head and expected_head_db are mutually exclusive')
            try:
                head = stored_head(args['expected_head_db'], args['path'])
            except HeadStoreError as exc:
                raise AnsibleActionFail('audit_verify: %s' % exc) from exc
            expected = {'seq': head.get('seq'), 'hash': head['hash']}
        try:
            with open(args['path'], encoding='utf-8') as handle:
                outcome = verify_lines(handle, args['hmac_key'], expected, since_last_break=args['since_last_break'])
        except (OSError, UnicodeDecodeError) as exc:
            raise AnsibleActionFail('cannot read audit log %s: %s' % (args['path'], exc)) from exc
        except ValueError as exc:
            raise AnsibleActionFail('audit_verify: %s' % exc) from exc
        result.update(outcome)
        result['changed'] = False
        if not outcome['valid'] and args['fail_on_invalid']:
            result['failed'] = True
            result['msg'] = 'audit log %s fails verification: %s' % (args['path'], outcome['reason'])
        else:
            result['msg'] = 'audit log %s: %d records, chain head %s%s' % (
                args['path'], outcome['records'], outcome['head'], '' if outcome['valid'] else ' (INVALID)')
        return result

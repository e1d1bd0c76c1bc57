# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import functools
import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils import incident_events
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import is_url
from ansible_collections.patchwise.patching.plugins.plugin_utils.controller_state import StateDocument, StateError

_ARGUMENT_SPEC = {
    'url': {'type': 'str', 'required': True},
    'kind': {'type': 'str', 'choices': list(incident_events.KINDS), 'default': 'host_failed'},
    'run_id': {'type': 'str'},
    'host': {'type': 'str'},
    'step': {'type': 'str'},
    'reason': {'type': 'str'},
    'change_ref': {'type': 'str'},
    'audit_log': {'type': 'path'},
    'audit_seq': {'type': 'list', 'elements': 'int'},
    'audit_records': {'type': 'list', 'elements': 'str'},
    'links': {'type': 'list', 'elements': 'str'},
    'details': {'type': 'dict'},
    'state_file': {'type': 'path'},
    'state_db': {'type': 'str'},
    'headers': {'type': 'dict'},
    'token': {'type': 'str', 'no_log': True},
    'timeout': {'type': 'int', 'default': 5},
    'retries': {'type': 'int', 'default': 2},
    'retry_delay': {'type': 'float', 'default': 1.0},
    'validate_certs': {'type': 'bool', 'default': True},
    'fail_on_error': {'type': 'bool', 'default': False},
    'retention_days': {'type': 'int', 'default': 30},
}


class ActionModule(ActionBase):
    """Send one incident event per run and host (or per stopped rollout) from the controller."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        default_host = 'ansible_play_name' if args['kind'] == 'rollout_stopped' else 'inventory_hostname'
        run_id = args['run_id'] or self._variable(task_vars, 'patchwise_run_id') or os.environ.get('PATCHWISE_RUN_ID')
        host = args['host'] or self._variable(task_vars, default_host)
        audit_log = args['audit_log'] or os.environ.get('PATCHWISE_AUDIT_LOG')
        if args['state_file'] and args['state_db']:
            raise AnsibleActionFail('incident_event: state_file and state_db are mutually exclusive: the incident state is kept in one place')
        state = self._state(args, task_vars, audit_log)
        try:
            event = incident_events.build_event(
                args['kind'], run_id, host, step=args['step'], reason=args['reason'],
                change_ref=args['change_ref'] or self._variable(task_vars, 'patchwise_change_ref'),
                audit_log=audit_log, audit_seq=args['audit_seq'], audit_records=args['audit_records'],
                links=args['links'], details=args['details'])
            send = functools.partial(incident_events.send_event, args['url'], headers=args['headers'],
                                     token=args['token'], timeout=args['timeout'], retries=args['retries'],
                                     retry_delay=args['retry_delay'], validate_certs=args['validate_certs'])
            deliverer = incident_events.Deliverer(state, args['url'], send, retention_days=args['retention_days'])
            outcome = deliverer.run(event, check_mode=self._task.check_mode)
        except (incident_events.IncidentError, StateError, OSError) as exc:
            raise AnsibleActionFail('incident_event: %s' % exc) from exc
        state_file = state.where
        result.update(changed=bool(outcome['delivered']), status=outcome['status'], incident_id=event['incident_id'],
                      event=event, delivered=outcome['delivered'], pending=outcome['pending'], state_file=state_file)
        own_error = outcome['errors'].get(event['incident_id'])
        if own_error and args['fail_on_error']:
            result.update(failed=True, msg='incident_event: incident %s not delivered, kept as pending in %s: %s'
                          % (event['incident_id'], state_file, own_error))
            return result
        for key, error in sorted(outcome['errors'].items()):
            result.setdefault('warnings', []).append(
                'incident_event: incident %s not delivered, kept as pending in %s: %s' % (key, state_file, error))
        result['msg'] = {
            'sent': 'incident %s sent', 'already_sent': 'incident %s was already sent in this run',
            'in_flight': 'incident %s is being sent by another task', 'pending': 'incident %s kept as pending',
            'would_send': 'incident %s would be sent',
        }[outcome['status']] % event['incident_id']
        return result

    def _state(self, args, task_vars, audit_log):
        """The state file given, else the asset database given or the run's PostgreSQL asset database, else the file
        beside the audit log."""
        if args['state_file']:
            return incident_events.StateFile(args['state_file'])
        database = args['state_db']
        if not database:
            asset_db = self._variable(task_vars, 'patchwise_asset_db') or os.environ.get('PATCHWISE_ASSET_DB')
            database = asset_db if is_url(asset_db) else None
        if database:
            return StateDocument(os.path.expanduser(database), 'incident_event', incident_events.empty_state, incident_events.check_state)
        return incident_events.StateFile(incident_events.default_state_path(audit_log))

    def _variable(self, task_vars, name):
        value = task_vars.get(name)
        return self._templar.template(value) if value is not None else None

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Building audit records: run id, operator and the short sanitised result summary."""

from __future__ import annotations

import datetime
import getpass
import os
import uuid

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_sanitise import clean

RUN_ID_ENV = 'PATCHWISE_RUN_ID'
CENSORED = 'censored: no_log task'
# Only these result keys are summarised: enough to explain an outcome without copying module output.
# ``config`` holds the fingerprints of the configuration in force (config_check, risk_assess).
_SUMMARY_KEYS = ('msg', 'rc', 'reason', 'skip_reason', 'failed_when_result', 'stderr', 'unreachable', 'config')


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def run_id_from(extra_vars, environ=None):
    """The operator's ``patchwise_run_id``, else the AWX/AAP job id, else an inherited PATCHWISE_RUN_ID, else a new UUID.

    The roles stamp their records with ``patchwise_run_id`` when it is given, so the audit trail takes the same id
    and both join on it.
    """
    environ = os.environ if environ is None else environ
    if extra_vars.get('patchwise_run_id'):
        return str(extra_vars['patchwise_run_id'])
    for name in ('tower_job_id', 'awx_job_id'):
        if extra_vars.get(name):
            return 'awx-%s' % extra_vars[name]
    if environ.get('JOB_ID'):
        return 'awx-%s' % environ['JOB_ID']
    if environ.get(RUN_ID_ENV):
        return environ[RUN_ID_ENV]
    return str(uuid.uuid4())


def operator_from(extra_vars):
    for name in ('awx_user_name', 'tower_user_name'):
        if extra_vars.get(name):
            return str(extra_vars[name])
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def summarise(result, no_log):
    """Short sanitised summary of a task result; nothing at all from no_log results."""
    if no_log or result.get('_ansible_no_log'):
        return CENSORED
    summary = {}
    for key in _SUMMARY_KEYS:
        if key in result:
            summary[key] = clean(result[key])
    if 'results' in result and isinstance(result['results'], list):
        summary['items'] = len(result['results'])
    return summary

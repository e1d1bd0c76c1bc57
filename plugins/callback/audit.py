# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: audit
type: notification
short_description: Tamper-evident JSON-lines audit trail of every playbook, play, task and host result
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Writes one JSON object per line for playbook start and end, play start, task start and each host result
    (ok, changed, failed, skipped, unreachable) with a UTC timestamp, the run id, playbook, play, task, action,
    host, status, changed, duration, check and diff mode, the operator and a short sanitised result summary.
  - The run id is the AWX/AAP job id when present (environment C(JOB_ID), extra vars C(tower_job_id) or
    C(awx_job_id)), else an inherited E(PATCHWISE_RUN_ID), else a new UUID. It is exported as E(PATCHWISE_RUN_ID)
    at playbook start so roles read it with C(lookup('ansible.builtin.env', 'PATCHWISE_RUN_ID')).
  - The operator is the AWX launcher (C(awx_user_name) or C(tower_user_name)) or the local user.
  - Results of C(no_log) tasks are never summarised; secret-looking keys (password, token, key, secret,
    authorization, ...), vault-encrypted values, credentials and tokens in URLs and bearer tokens are redacted.
  - Each record carries C(prev_hash), the SHA-256 (or HMAC-SHA-256 with O(hmac_key)) of the previous record's
    canonical serialisation (sorted keys, compact separators); verify with M(patchwise.patching.audit_verify).
  - The log is created with mode 0600, appended and flushed per record, so a crash leaves every earlier record valid.
    Appending to an existing log continues its chain.
requirements:
  - enable in ansible.cfg C(callbacks_enabled = patchwise.patching.audit)
options:
  log_path:
    description: Audit log file (JSON lines).
    type: path
    default: ~/.ansible/patchwise-audit.jsonl
    ini:
      - section: callback_patchwise_audit
        key: log_path
    env:
      - name: PATCHWISE_AUDIT_LOG
  hmac_key:
    description:
      - Secret that keys the chain hashes (HMAC-SHA-256). Without it the chain is plain SHA-256.
      - Never written to the log. Prefer the environment variable (for example from an AWX credential).
    type: str
    ini:
      - section: callback_patchwise_audit
        key: hmac_key
    env:
      - name: PATCHWISE_AUDIT_HMAC_KEY
  fsync:
    description: Call fsync after every record (durable across power loss; slower). Records are always flushed.
    type: bool
    default: false
    ini:
      - section: callback_patchwise_audit
        key: fsync
    env:
      - name: PATCHWISE_AUDIT_FSYNC
"""

import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import Chain
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_file_sink import FileSink, current_head
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_record import RUN_ID_ENV, operator_from, run_id_from, summarise, utc_now


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'patchwise.patching.audit'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._sink = None
        self._chain = None
        self._base = {}
        self._play = None
        self._task_starts = {}
        self._check_mode = False
        self._diff_mode = False

    # -- setup ---------------------------------------------------------------------------------------------
    def _open(self):
        path = os.path.expanduser(self.get_option('log_path'))
        key = self.get_option('hmac_key') or None
        self._chain = Chain(key=key, head=current_head(path, key))
        self._sink = FileSink(path, fsync=self.get_option('fsync'))

    def _emit(self, event, **fields):
        if self._sink is None:
            return
        record = dict(self._base)
        record['ts'] = utc_now()
        record['event'] = event
        record.update(fields)
        self._sink.write(self._chain.seal(record))

    # -- playbook / play / task ------------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._playbook_name = os.path.basename(playbook._file_name)

    def v2_playbook_on_play_start(self, play):
        self._play = play
        self._check_mode = bool(play.check_mode) or bool(context.CLIARGS.get('check', False))
        self._diff_mode = bool(play.diff) or bool(context.CLIARGS.get('diff', False))
        if self._sink is None:
            extra_vars = play.get_variable_manager().extra_vars if play.get_variable_manager() else {}
            run_id = run_id_from(extra_vars)
            os.environ[RUN_ID_ENV] = run_id
            self._open()
            self._base = {'run_id': run_id, 'playbook': getattr(self, '_playbook_name', None),
                          'operator': operator_from(extra_vars)}
            self._emit('playbook_start', check_mode=self._check_mode, diff_mode=self._diff_mode)
        self._emit('play_start', play=play.get_name(), check_mode=self._check_mode, diff_mode=self._diff_mode)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_starts[task._uuid] = time.monotonic()
        self._emit('task_start', play=self._play.get_name() if self._play else None, task=task.get_name(),
                   action=task.action)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _host_result(self, result, status):
        task = result._task
        started = self._task_starts.get(task._uuid)
        res = result._result
        self._emit('host_result', play=self._play.get_name() if self._play else None, task=task.get_name(),
                   action=task.action, host=result._host.get_name(), status=status,
                   changed=bool(res.get('changed', False)),
                   duration=round(time.monotonic() - started, 3) if started else None,
                   check_mode=bool(task.check_mode) or self._check_mode, diff_mode=bool(task.diff) or self._diff_mode,
                   summary=summarise(res, bool(task.no_log)))

    def v2_runner_on_ok(self, result):
        self._host_result(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host_result(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._host_result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._host_result(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        totals = {host: stats.summarize(host) for host in hosts}
        self._emit('playbook_end', stats=totals)
        if self._sink is not None:
            self._sink.close()
            self._sink = None

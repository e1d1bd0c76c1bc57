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
  - The run id is the extra var C(patchwise_run_id) when given (the id the collection's roles stamp their records
    with), else the AWX/AAP job id when present (environment C(JOB_ID), extra vars C(tower_job_id) or
    C(awx_job_id)), else an inherited E(PATCHWISE_RUN_ID), else a new UUID. It is exported as E(PATCHWISE_RUN_ID)
    at playbook start so roles read it with C(lookup('ansible.builtin.env', 'PATCHWISE_RUN_ID')).
  - The operator is the AWX launcher (C(awx_user_name) or C(tower_user_name)) or the local user.
  - Results of C(no_log) tasks are never summarised; secret-looking keys (password, token, key, secret,
    authorization, ...), vault-encrypted values, credentials and tokens in URLs and bearer tokens are redacted.
  - Each record carries C(prev_hash), the SHA-256 (or HMAC-SHA-256 with O(hmac_key)) of the previous record's
    canonical serialisation (sorted keys, compact separators); verify with M(patchwise.patching.audit_verify).
  - The log is created with mode 0600, appended and flushed per record, so a crash leaves every earlier record valid.
    Appending to an existing log continues its chain. Each record carries C(seq), its position in the log.
  - "Forwarding (optional, both at once possible): every record also goes to syslog (O(syslog_target)) and/or a
    webhook (O(webhook_url)), identified by a unique C(event_id) (C(<run_id>:<seq>)) so receivers drop duplicates."
  - "After the playbook ends the final chain head (C(event=chain_head): run id, C(seq) and C(hash) of the last
    record, C(records) written in this run, event id C(<run_id>:head)) is sent through every configured forwarder.
    Give it to M(patchwise.patching.audit_verify) as O(patchwise.patching.audit_verify#module:expected_head) to
    detect records cut from the end of the log or a rewritten log."
  - "Syslog: one RFC 5424 message per event. MSGID is the event type, the structured data element
    C([patchwise@32473 run_id=... event_id=... seq=... status=... host=...]) (the chain head adds C(hash) and
    C(records); 32473 is the documentation enterprise number of RFC 5612) and MSG the record's JSON line.
    Severity warning for failed/unreachable results, notice for the chain head, info otherwise. TCP uses
    octet-counting framing (RFC 6587). Every send has a timeout; after a failure the sink reconnects after a
    back-off (1 s doubling to 30 s) and counts the messages dropped meanwhile (syslog is best effort)."
  - "Webhook: each event is appended to a local spool (0600 files in a 0700 directory) first; a background thread
    POSTs the spooled events as JSON, one per request, oldest first, with header C(X-Patchwise-Event-Id), and
    retries with back-off while the endpoint fails. Records are sent as C({\"event_id\": ..., \"type\":
    \"audit_record\", \"record\": {...}}), the head as C({\"event_id\": ..., \"type\": \"chain_head\", \"run_id\": ...,
    \"seq\": ..., \"hash\": ..., \"records\": ..., \"log_path\": ...}). Delivery is at least once and in order: at playbook
    end the callback waits at most O(webhook_flush_timeout); what is left stays spooled and is delivered first by
    the next run using the same spool - or, with O(spool_db), by the next run using the same O(webhook_url), wherever
    it runs. The play never waits for the endpoint."
  - Without O(syslog_target) and O(webhook_url) nothing of the forwarding is loaded and no thread is started.
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
  syslog_target:
    description:
      - Where to send RFC 5424 syslog messages; unset disables syslog forwarding.
      - V(local) is the local syslog socket C(/dev/log); V(unix:///path) another local socket;
        V(udp://host:port) or V(tcp://host:port) a remote receiver (port 514 when omitted; IPv6 as V(tcp://[::1]:514)).
      - V(tls://host:port) sends over TLS (RFC 5425, port 6514 when omitted). The receiver's certificate must chain
        to O(syslog_ca_file) (else the system's trust store) and name the host of the target; plain TCP to a
        remote receiver crosses the network in clear text.
    type: str
    ini:
      - section: callback_patchwise_audit
        key: syslog_target
    env:
      - name: PATCHWISE_AUDIT_SYSLOG_TARGET
  syslog_ca_file:
    description: PEM file of the CA(s) a V(tls://) receiver's certificate must chain to; unset, the system's trust store.
    type: path
    ini:
      - section: callback_patchwise_audit
        key: syslog_ca_file
    env:
      - name: PATCHWISE_AUDIT_SYSLOG_CA_FILE
  syslog_client_cert:
    description: PEM client certificate (with its key, or see O(syslog_client_key)) sent to a V(tls://) receiver that requires one.
    type: path
    ini:
      - section: callback_patchwise_audit
        key: syslog_client_cert
    env:
      - name: PATCHWISE_AUDIT_SYSLOG_CLIENT_CERT
  syslog_client_key:
    description: PEM private key of O(syslog_client_cert) when it is a separate file.
    type: path
    ini:
      - section: callback_patchwise_audit
        key: syslog_client_key
    env:
      - name: PATCHWISE_AUDIT_SYSLOG_CLIENT_KEY
  syslog_facility:
    description: Syslog facility of the messages.
    type: str
    default: local0
    choices: [kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0, local1, local2,
              local3, local4, local5, local6, local7]
    ini:
      - section: callback_patchwise_audit
        key: syslog_facility
    env:
      - name: PATCHWISE_AUDIT_SYSLOG_FACILITY
  syslog_app_name:
    description: APP-NAME of the messages (at most 48 printable characters).
    type: str
    default: patchwise
    ini:
      - section: callback_patchwise_audit
        key: syslog_app_name
    env:
      - name: PATCHWISE_AUDIT_SYSLOG_APP_NAME
  syslog_timeout:
    description: Seconds a syslog connect or send may take before the message is dropped.
    type: float
    default: 2.0
    ini:
      - section: callback_patchwise_audit
        key: syslog_timeout
    env:
      - name: PATCHWISE_AUDIT_SYSLOG_TIMEOUT
  webhook_url:
    description: http(s) URL that receives each event as a JSON POST; unset disables webhook forwarding.
    type: str
    ini:
      - section: callback_patchwise_audit
        key: webhook_url
    env:
      - name: PATCHWISE_AUDIT_WEBHOOK_URL
  webhook_token:
    description:
      - Bearer token sent as C(Authorization) header. Never written to the log, the spool or any message.
      - Prefer the environment variable (for example from an AWX credential).
    type: str
    env:
      - name: PATCHWISE_AUDIT_WEBHOOK_TOKEN
  webhook_headers:
    description: "Extra request headers, each as C(Name: value)."
    type: list
    elements: str
    default: []
    ini:
      - section: callback_patchwise_audit
        key: webhook_headers
    env:
      - name: PATCHWISE_AUDIT_WEBHOOK_HEADERS
  webhook_timeout:
    description: Seconds one POST may take before it counts as failed and is retried.
    type: float
    default: 5.0
    ini:
      - section: callback_patchwise_audit
        key: webhook_timeout
    env:
      - name: PATCHWISE_AUDIT_WEBHOOK_TIMEOUT
  webhook_flush_timeout:
    description:
      - Seconds to wait at playbook end for the spool to drain. What is not delivered by then stays spooled
        for the next run (a warning says how many events).
    type: float
    default: 5.0
    ini:
      - section: callback_patchwise_audit
        key: webhook_flush_timeout
    env:
      - name: PATCHWISE_AUDIT_WEBHOOK_FLUSH_TIMEOUT
  head_db:
    description:
      - An asset database (a C(postgresql://) URL, or an SQLite file) that keeps the final chain head of each run
        (C(seq), C(hash)) as the C(audit_head:<log path>) document of its C(controller_state) table, for
        M(patchwise.patching.audit_verify)'s O(patchwise.patching.audit_verify#module:expected_head_db).
      - Default E(PATCHWISE_ASSET_DB) when that is a PostgreSQL URL (as the PostgreSQL credential of the AWX kit sets
        it); with an SQLite asset database no head is stored unless this is set. A head that cannot be stored is a
        warning - the run has ended by then.
    type: str
    ini:
      - section: callback_patchwise_audit
        key: head_db
    env:
      - name: PATCHWISE_AUDIT_HEAD_DB
  fail_closed:
    description:
      - Stop the run (exit status 1, before the next task) when the audit log cannot be opened, locked, continued or
        written, so that nothing runs unaudited.
      - With V(false) the run goes on unaudited after a warning.
    type: bool
    default: true
    ini:
      - section: callback_patchwise_audit
        key: fail_closed
    env:
      - name: PATCHWISE_AUDIT_FAIL_CLOSED
  lock_timeout:
    description:
      - Seconds to wait for another run that is writing the same log (runs hold an exclusive lock on it from their
        first record to their last); after that the run is refused, as a log that cannot be opened.
    type: float
    default: 300
    ini:
      - section: callback_patchwise_audit
        key: lock_timeout
    env:
      - name: PATCHWISE_AUDIT_LOCK_TIMEOUT
  on_broken_chain:
    description:
      - What to do when the existing log's tail does not verify before a run appends to it (a record altered,
        removed or cut, the last line incomplete, a wrong or missing O(hmac_key)). Logs up to 8 MiB are verified
        whole, larger ones from their last 1000 records.
      - V(refuse) does not append and names the reason (with O(fail_closed), the run stops).
      - V(new_segment) appends a C(chain_break) record naming the reason and the last verified hash, which starts
        a new chain; M(patchwise.patching.audit_verify) lists every break and verifies each segment.
    type: str
    choices: [refuse, new_segment]
    default: refuse
    ini:
      - section: callback_patchwise_audit
        key: on_broken_chain
    env:
      - name: PATCHWISE_AUDIT_ON_BROKEN_CHAIN
  spool_max_bytes:
    description:
      - The most undelivered events the webhook spool keeps, in bytes (at least 4096); V(0) for no bound. The spool's
        files stay under twice this size.
    type: int
    default: 67108864
    ini:
      - section: callback_patchwise_audit
        key: spool_max_bytes
    env:
      - name: PATCHWISE_AUDIT_SPOOL_MAX_BYTES
  spool_on_full:
    description:
      - What a full spool does with a new event. V(drop_oldest) drops the oldest undelivered events and spools a
        C(spool_dropped) event counting them, so the receiver sees the gap. V(refuse) refuses it, which stops
        the run under O(fail_closed) (else webhook forwarding stops for the run, with a warning).
    type: str
    choices: [drop_oldest, refuse]
    default: drop_oldest
    ini:
      - section: callback_patchwise_audit
        key: spool_on_full
    env:
      - name: PATCHWISE_AUDIT_SPOOL_ON_FULL
  spool_db:
    description:
      - An asset database (a C(postgresql://) URL, or an SQLite file) that keeps the webhook events still undelivered
        when a run ends, as the C(audit_webhook_spool:<digest of webhook_url>) document of its C(controller_state)
        table. The next run with the same O(webhook_url) takes them back and sends them before its own, wherever it
        runs - an AWX/AAP job's local spool is gone with the job's container. During the run events are spooled
        locally (O(spool_dir)), so the play never waits for the database.
      - Default E(PATCHWISE_ASSET_DB) when that is a PostgreSQL URL (as the PostgreSQL credential of the AWX kit sets
        it); with an SQLite asset database undelivered events stay in the local spool unless this is set. A database
        that cannot be reached is a warning, and the events stay in the local spool.
    type: str
    ini:
      - section: callback_patchwise_audit
        key: spool_db
    env:
      - name: PATCHWISE_AUDIT_SPOOL_DB
  spool_dir:
    description: Directory of the webhook spool. Default the audit log path with C(.spool) appended.
    type: path
    ini:
      - section: callback_patchwise_audit
        key: spool_dir
    env:
      - name: PATCHWISE_AUDIT_SPOOL_DIR
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = patchwise.patching.audit
#
# [callback_patchwise_audit]
# log_path = /var/log/patchwise/audit.jsonl
# syslog_target = tls://logs.example.com:6514
# syslog_ca_file = /etc/pki/patchwise/logs-ca.pem
# syslog_facility = authpriv
# webhook_url = https://audit.example.com/patchwise/events
# webhook_flush_timeout = 10
#
# and in the environment (from a vault or an AWX credential):
# PATCHWISE_AUDIT_HMAC_KEY=...
# PATCHWISE_AUDIT_WEBHOOK_TOKEN=...
"""

import json
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import CHAIN_BREAK, GENESIS, Chain, chain_break
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_file_sink import AuditLogError, FileSink, tail_state
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_record import RUN_ID_ENV, operator_from, run_id_from, summarise, utc_now
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_sanitise import Masker, is_secret_key, is_vault


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
        self._log_path = None
        self._syslog = None
        self._webhook = None
        self._started = False
        self._masker = Masker()
        self._hosts_learned = set()
        self._fork_hook = False

    # -- secrets ---------------------------------------------------------------------------------------------
    def _learn(self, variables, play, host=None):
        """Learn the values of secret-named and vaulted ``variables``, templated when they are templates."""
        for name, value in (variables or {}).items():
            if not is_secret_key(name) and not is_vault(value):
                continue
            self._masker.add(self._templated(value, play, host) if isinstance(value, str) and '{{' in value else value)

    @staticmethod
    def _templated(value, play, host):
        # Only secret-named values that are templates get here; the full variables are computed for them alone.
        try:
            from ansible.template import Templar  # noqa: PLC0415 - only when a secret is a template
            manager = play.get_variable_manager()
            variables = manager.get_vars(play=play, host=host, include_hostvars=False)
            return Templar(loader=play._loader, variables=variables).template(value)
        except Exception:  # an untemplatable value is masked as written
            return value

    def _learn_play(self, play):
        manager = play.get_variable_manager()
        if manager is None:
            return
        self._learn(manager.extra_vars, play)
        self._learn(play.get_vars(), play)

    def _learn_host(self, result):
        host = result._host
        if host is None or host.get_name() in self._hosts_learned or self._play is None:
            return
        self._hosts_learned.add(host.get_name())
        self._learn(host.get_vars(), self._play, host)
        for group in host.get_groups():
            self._learn(group.get_vars(), self._play, host)

    def _learn_no_log(self, result):
        # What a no_log task was given and produced is secret wherever it shows up later: a fact it set, a
        # registered output.  Ansible hands callbacks a censored result but the task's templated arguments.
        self._masker.add(result._task.args)
        res = result._result
        self._masker.add(res.get('ansible_facts') or {})
        for key in ('stdout', 'stdout_lines'):
            self._masker.add(res.get(key))

    # -- setup ---------------------------------------------------------------------------------------------
    def _open(self):
        """Open and lock the log, and continue its chain; the chain_break record to write first, or None."""
        path = os.path.expanduser(self.get_option('log_path'))
        key = self.get_option('hmac_key') or None
        # The lock comes first: the head is read by the one run that will append to it.
        sink = FileSink(path, fsync=self.get_option('fsync'), lock_timeout=self.get_option('lock_timeout'))
        try:
            state = tail_state(path, key)
        except (OSError, ValueError) as exc:
            sink.close()
            raise AuditLogError('%s: cannot read the audit log to continue its chain: %s' % (path, exc)) from exc
        pending_break = None
        if state['problem'] is None:
            self._chain = Chain(key=key, head=state['head'], seq=state['records'])
        elif self.get_option('on_broken_chain') == 'new_segment':
            self._chain = Chain(key=key, head=GENESIS, seq=state['lines'])
            pending_break = chain_break(state['problem'], state['lines'], state['head'])
        else:
            sink.close()
            raise AuditLogError('%s does not verify: %s. Refusing to append, which would fork the chain: keep the log as '
                                'evidence and check it with patchwise.patching.audit_verify, then start a new log, or set '
                                'on_broken_chain=new_segment to continue after a chain_break record' % (path, state['problem']))
        self._sink = sink
        self._log_path = path
        if not self._fork_hook:
            # Ansible forks a worker per task: none of them may keep the log (and its lock) open.
            os.register_at_fork(after_in_child=self._drop_log_in_child)
            self._fork_hook = True
        # Forwarders are imported only when configured, so a file-only audit loads nothing more and starts no thread.
        if self.get_option('syslog_target'):
            self._syslog = self._forwarder('syslog', self._open_syslog)
        if self.get_option('webhook_url'):
            self._webhook = self._forwarder('webhook', self._open_webhook)
        return pending_break

    def _forwarder(self, name, opener):
        try:
            return opener()
        except (OSError, ValueError) as exc:
            # A callback cannot stop the play; the file sink still records everything, so say it loudly.
            self._warn('patchwise.patching.audit: %s forwarding disabled: %s' % (name, exc))
            return None

    def _open_syslog(self):
        # Imported here, not at load: a file-only audit must not pay for forwarding.
        from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_syslog_sink import SyslogSink  # noqa: PLC0415
        tls = {'ca_file': self.get_option('syslog_ca_file'), 'client_cert': self.get_option('syslog_client_cert'),
               'client_key': self.get_option('syslog_client_key')}
        return SyslogSink(self.get_option('syslog_target'), facility=self.get_option('syslog_facility'),
                          app_name=self.get_option('syslog_app_name'), timeout=self.get_option('syslog_timeout'), tls=tls)

    def _open_webhook(self):
        # Imported here, not at load (HTTP client, thread): a file-only audit must not pay for forwarding.
        from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool import Spool  # noqa: PLC0415
        from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_webhook_sink import WebhookSink, parse_headers  # noqa: PLC0415
        headers = parse_headers(self.get_option('webhook_headers'))
        spool = Spool(os.path.expanduser(self.get_option('spool_dir') or self._log_path + '.spool'),
                      max_bytes=self.get_option('spool_max_bytes') or None, on_full=self.get_option('spool_on_full'))
        self._take_kept_events(spool)
        return WebhookSink(self.get_option('webhook_url'), spool, timeout=self.get_option('webhook_timeout'),
                           headers=headers, token=self.get_option('webhook_token') or None)

    def _controller_db(self, option):
        """The database named by ``option``, else PATCHWISE_ASSET_DB when it is PostgreSQL (a job's disk does not last)."""
        location = self.get_option(option) or os.environ.get('PATCHWISE_ASSET_DB', '')
        if not self.get_option(option) and not location.startswith(('postgresql://', 'postgres://')):
            return None
        return location

    def _take_kept_events(self, spool):
        """Events earlier runs left undelivered in spool_db go into the local spool first, before this run's."""
        location = self._controller_db('spool_db')
        if not location:
            return
        # Loaded only when used: a run without a spool database never imports the asset store or psycopg.
        from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool import SpoolFull  # noqa: PLC0415
        from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool_store import SpoolStoreError, take_spooled  # noqa: PLC0415

        def receive(lines):
            for index, line in enumerate(lines):
                try:
                    spool.append(line)
                except SpoolFull:
                    return lines[index:]
            return []

        try:
            taken = take_spooled(location, self.get_option('webhook_url'), receive)
        except SpoolStoreError as exc:
            self._warn('patchwise.patching.audit: the webhook events earlier runs kept in the spool database could not be '
                       'taken: %s; they stay there for the next run' % exc)
            return
        if taken:
            self._display.vv('patchwise.patching.audit: %d webhook event(s) kept by earlier runs are sent first' % taken)

    def _keep_undelivered(self, webhook, left):
        """Hand the events still undelivered to spool_db; returns where they are kept now (for the warning)."""
        location = self._controller_db('spool_db')
        if not location:
            return 'the spool %s' % webhook.spool.directory
        from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import display_location  # noqa: PLC0415
        from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool_store import SpoolStoreError, keep_spooled  # noqa: PLC0415
        pending = webhook.spool.pending(limit=left)
        try:
            keep_spooled(location, self.get_option('webhook_url'), [line for _end, line in pending],
                         max_bytes=self.get_option('spool_max_bytes') or None)
        except SpoolStoreError as exc:
            self._warn('patchwise.patching.audit: undelivered webhook events could not be kept in the spool database: %s' % exc)
            return 'the spool %s' % webhook.spool.directory
        # Handed over: the local spool no longer owes them (a spool directory that does last would send them twice).
        webhook.spool.ack(pending[-1][0])
        webhook.spool.compact()
        return 'the spool database %s' % display_location(location)

    def _drop_log_in_child(self):
        if self._sink is not None:
            self._sink.drop_in_child()
            self._sink = None

    def _audit_failed(self, message):
        """The log cannot be written: stop the run (fail_closed), or go on unaudited after saying so."""
        if self._sink is not None:
            try:
                self._sink.close()
            except OSError:
                pass
            self._sink = None
        if self.get_option('fail_closed'):
            self._display.error('patchwise.patching.audit: %s. The run stops here (fail_closed): nothing runs unaudited' % message, wrap_text=False)
            # A callback's exceptions are turned into warnings by ansible; leaving is the one way to stop the run.
            raise SystemExit(1)
        self._warn('patchwise.patching.audit: %s. The run goes on UNAUDITED (fail_closed is false)' % message)

    def _emit(self, event, **fields):
        if self._sink is None:
            return
        record = dict(self._base)
        record['ts'] = utc_now()
        record['event'] = event
        record.update(fields)
        record = self._masker.mask(record)
        line = self._chain.seal(record)
        try:
            self._sink.write(line)
        except OSError as exc:
            self._audit_failed('%s: cannot append to the audit log: %s' % (self._log_path, exc))
            return
        if self._syslog is not None or self._webhook is not None:
            self._forward(record, line)

    def _forward(self, record, line):
        event_id = '%s:%d' % (record['run_id'], record['seq'])
        if self._syslog is not None:
            self._syslog.send({'ts': record['ts'], 'event': record['event'], 'run_id': record['run_id'],
                               'event_id': event_id, 'seq': record['seq'], 'status': record.get('status'),
                               'host': record.get('host')}, line)
        if self._webhook is not None:
            self._spool_send(b'{"event_id":%s,"type":"audit_record","record":%s}' % (json.dumps(event_id).encode('utf-8'), line))

    def _spool_send(self, body):
        # Loaded already: only a configured webhook gets here.
        from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_spool import SpoolFull  # noqa: PLC0415
        try:
            self._webhook.send(body)
        except SpoolFull as exc:
            # spool_on_full=refuse: off-host delivery can no longer be promised, which fail_closed does not accept.
            webhook, self._webhook = self._webhook, None
            webhook.close(0.0)
            if self.get_option('fail_closed'):
                self._audit_failed(str(exc))
            self._warn('patchwise.patching.audit: %s; webhook forwarding stops for this run' % exc)

    def _warn(self, message):
        # Unwrapped (ansible-core 2.18 wraps at 79 columns, even inside a path), so paths in it can be copied.
        self._display.warning(message, formatted=True)

    def _store_head(self, head):
        """The head in the asset database as well (head_db), where a later job or audit_verify finds it."""
        location = self._controller_db('head_db')
        if not location:
            return
        # Loaded only when used: a run without a head database never imports the asset store or psycopg.
        from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_head_store import HeadStoreError, store_head  # noqa: PLC0415
        try:
            store_head(location, self._log_path, {key: head[key] for key in ('run_id', 'seq', 'hash', 'records', 'ts')})
        except HeadStoreError as exc:
            self._warn('patchwise.patching.audit: the chain head was not stored in the head database: %s' % exc)

    def _send_head(self):
        """The final chain head, off-host: a later cut or rewrite of the log no longer matches it."""
        run_id = self._base['run_id']
        head = {'event_id': '%s:head' % run_id, 'type': 'chain_head', 'event': 'chain_head', 'ts': utc_now(),
                'run_id': run_id, 'seq': self._chain.seq, 'hash': self._chain.head, 'records': self._chain.count,
                'log_path': self._log_path}
        body = json.dumps(head, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
        if self._syslog is not None:
            self._syslog.send(head, body)
            self._syslog.close()
            if self._syslog.dropped:
                self._warn('patchwise.patching.audit: %d of %d syslog messages could not be sent (%s)' % (
                    self._syslog.dropped, self._syslog.dropped + self._syslog.sent, self._syslog.last_error))
            self._syslog = None
        self._store_head(head)
        if self._webhook is not None:
            self._spool_send(body)
        if self._webhook is not None:
            left = self._webhook.flush(self.get_option('webhook_flush_timeout'))
            if self._webhook.spool.dropped:
                self._warn('patchwise.patching.audit: the webhook spool was full (spool_max_bytes): %d undelivered '
                           'event(s) were dropped, oldest first; a spool_dropped event tells the receiver'
                           % self._webhook.spool.dropped)
            if left:
                kept_in = self._keep_undelivered(self._webhook, left)
                self._warn('patchwise.patching.audit: %d audit event(s) not yet delivered to the webhook '
                           '(%s); they stay in %s and are sent first by the next run' % (
                               left, self._webhook.last_error or 'still sending', kept_in))
            self._webhook.close(0.0)
            self._webhook = None

    # -- playbook / play / task ------------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._playbook_name = os.path.basename(playbook._file_name)

    def v2_playbook_on_play_start(self, play):
        self._play = play
        self._hosts_learned = set()
        self._learn_play(play)
        self._check_mode = bool(play.check_mode) or bool(context.CLIARGS.get('check', False))
        self._diff_mode = bool(play.diff) or bool(context.CLIARGS.get('diff', False))
        if not self._started:
            self._started = True
            extra_vars = play.get_variable_manager().extra_vars if play.get_variable_manager() else {}
            run_id = run_id_from(extra_vars)
            os.environ[RUN_ID_ENV] = run_id
            self._base = {'run_id': run_id, 'playbook': getattr(self, '_playbook_name', None),
                          'operator': operator_from(extra_vars)}
            try:
                pending_break = self._open()
            except AuditLogError as exc:
                self._audit_failed(str(exc))
                return
            if pending_break is not None:
                self._warn('patchwise.patching.audit: %s: %s; a chain_break record starts a new segment'
                           % (self._log_path, pending_break['reason']))
                self._emit(CHAIN_BREAK, reason=pending_break['reason'], after_line=pending_break['after_line'],
                           last_verified_head=pending_break['last_verified_head'])
            self._emit('playbook_start', check_mode=self._check_mode, diff_mode=self._diff_mode)
        self._emit('play_start', play=play.get_name(), check_mode=self._check_mode, diff_mode=self._diff_mode)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_starts[task._uuid] = time.monotonic()
        self._emit('task_start', play=self._play.get_name() if self._play else None, task=task.get_name(),
                   action=task.action)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _host_result(self, result, status):
        task = result._task
        self._learn_host(result)
        if task.no_log or result._result.get('_ansible_no_log'):
            self._learn_no_log(result)
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
            self._send_head()

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Incident events of a patch run: one per (run id, failed host) or per stopped rollout, deduplicated on the
controller by a state that also keeps undelivered events for a later call to retry: a state file (``StateFile``),
or a document in a shared asset database (controller_state.StateDocument) where jobs start in fresh containers."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import tempfile
import time

from ansible.module_utils.urls import open_url
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_sanitise import clean, clean_text

SCHEMA = 1
KINDS = ('host_failed', 'host_degraded', 'rollout_stopped', 'app_failed')
INCIDENT_ID_HEADER = 'X-Patchwise-Incident-Id'
DEFAULT_STATE_PATH = os.path.join('~', '.ansible', 'patchwise', 'incidents.json')


class IncidentError(Exception):
    """An unusable state file or argument."""


class DeliveryError(Exception):
    """The webhook did not accept the event after every attempt."""


def incident_id(run_id, kind, host):
    """Stable id the receiver deduplicates on: SHA-256 over run id, kind and host (a stopped rollout has one per
    run, whatever play or batch stopped it)."""
    subject = '' if kind == 'rollout_stopped' else host
    return hashlib.sha256('\n'.join((str(run_id), kind, str(subject))).encode('utf-8')).hexdigest()[:32]


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def build_event(kind, run_id, host, *, step=None, reason=None, change_ref=None, audit_log=None, audit_seq=None,
                audit_records=None, links=None, details=None, occurred_at=None):
    """The JSON event: what failed, where, why, and where the audit trail records it. Step, reason, links and
    details pass the audit trail's sanitiser (secret-looking values masked, long texts shortened)."""
    if kind not in KINDS:
        raise IncidentError('kind must be one of %s, not %r' % (', '.join(KINDS), kind))
    if not run_id:
        raise IncidentError('no run id: give run_id or set patchwise_run_id (or PATCHWISE_RUN_ID)')
    if not host:
        raise IncidentError('no host: give host (the failed host, or the play/batch of a stopped rollout)')
    audit = {}
    if audit_log:
        audit['log'] = audit_log
    if audit_seq:
        seq = [int(number) for number in audit_seq]
        if len(seq) not in (1, 2) or seq[0] > seq[-1]:
            raise IncidentError('audit_seq must be [first, last] or [seq] with first <= last, not %r' % (audit_seq,))
        audit['seq_from'], audit['seq_to'] = seq[0], seq[-1]
    if audit_records:
        audit['record_ids'] = [str(record) for record in audit_records]
    return {
        'schema': SCHEMA,
        'type': 'incident',
        'kind': kind,
        'incident_id': incident_id(run_id, kind, host),
        'run_id': str(run_id),
        'host': str(host),
        'step': clean_text(step or ''),
        'reason': clean_text(reason or ''),
        'change_ref': change_ref or '',
        'occurred_at': occurred_at or utc_now(),
        'audit': audit,
        'links': [clean_text(str(link)) for link in links or []],
        'details': clean(details or {}),
    }


def default_state_path(audit_log=None):
    """Beside the audit log when there is one (one state per trail), else in the user's Ansible directory."""
    if audit_log:
        return os.path.expanduser(audit_log) + '.incidents.json'
    return os.path.expanduser(DEFAULT_STATE_PATH)


@contextlib.contextmanager
def locked(path):
    """Exclusive lock on ``<path>.lock``: forks handling other hosts update the same state file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(path + '.lock', os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def load_state(path):
    try:
        with open(path, encoding='utf-8') as handle:
            state = json.load(handle)
    except FileNotFoundError:
        return {'schema': SCHEMA, 'incidents': {}}
    except (OSError, ValueError) as exc:
        raise IncidentError('cannot read incident state file %s: %s' % (path, exc)) from exc
    if not isinstance(state, dict) or not isinstance(state.get('incidents'), dict):
        raise IncidentError('incident state file %s has no "incidents" mapping' % path)
    return state


def save_state(path, state):
    """Write atomically (temporary file, fsync, rename), mode 0600."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix='.incidents.', dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            json.dump(state, handle, indent=1, sort_keys=True)
            handle.write('\n')
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def prune(state, retention_days, now):
    """Forget delivered incidents older than ``retention_days`` (undelivered ones stay until delivered); how many."""
    limit = now - retention_days * 86400
    old = [key for key, entry in state['incidents'].items()
           if entry.get('status') == 'sent' and entry.get('sent_epoch', now) < limit]
    for key in old:
        del state['incidents'][key]
    return len(old)


def check_state(state, where):
    """``state`` when it is an incident state, else IncidentError naming ``where``."""
    if not isinstance(state, dict) or not isinstance(state.get('incidents'), dict):
        raise IncidentError('incident state %s has no "incidents" mapping' % where)
    return state


def empty_state():
    return {'schema': SCHEMA, 'incidents': {}}


class StateFile:
    """The incident state in a JSON file, changed under an exclusive lock (forks handling other hosts share it)."""

    def __init__(self, path):
        self.path = self.where = path

    def read(self):
        """The state as it is; creates nothing (check mode)."""
        return load_state(self.path)

    def update(self, change):
        """``change(state)`` -> ``(answer, changed)`` under the lock; the state is written back when changed."""
        with locked(self.path):
            state = load_state(self.path)
            answer, changed = change(state)
            if changed:
                save_state(self.path, state)
            return answer


def pending_ids(state):
    return sorted(key for key, entry in state['incidents'].items() if entry.get('status') == 'pending')


def send_event(url, event, *, headers=None, token=None, timeout=5, retries=2, retry_delay=1.0, validate_certs=True):
    """POST the event as JSON; retried ``retries`` times after a failure. Raises DeliveryError with the last error."""
    all_headers = {'Content-Type': 'application/json', INCIDENT_ID_HEADER: event['incident_id']}
    all_headers.update(headers or {})
    if token:
        all_headers['Authorization'] = 'Bearer %s' % token
    body = json.dumps(event, sort_keys=True).encode('utf-8')
    error = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(retry_delay)
        try:
            with open_url(url, data=body, headers=all_headers, method='POST', timeout=timeout,
                          validate_certs=validate_certs, follow_redirects='none') as response:
                response.read()
            return
        except Exception as exc:  # pylint: disable=broad-except  # any failure of the channel is retried
            error = '%s: %s' % (type(exc).__name__, getattr(exc, 'reason', None) or exc)
    raise DeliveryError('POST %s failed after %d attempt(s): %s' % (url, retries + 1, error))


class Deliverer:
    """One call of incident_event: claim the own event and the earlier undelivered ones (same URL) under the lock,
    send them without holding it, record the results under the lock again. A claim keeps other forks from sending
    the same event meanwhile; it lapses after ``claim_seconds`` should this process die."""

    def __init__(self, state, url, send, *, retention_days=30, claim_seconds=120, clock=time.time):
        """``state``: a StateFile, a controller_state.StateDocument, or the path of a state file."""
        self.state = StateFile(state) if isinstance(state, str) else state
        self.url = url
        self.send = send
        self.retention_days = retention_days
        self.claim_seconds = claim_seconds
        self.clock = clock

    def run(self, event, check_mode=False):
        """Outcome: status of the own event (sent, already_sent, in_flight, pending, would_send), the ids delivered
        by this call, those still pending and the errors met."""
        own = event['incident_id']
        outgoing = self._claim(event, check_mode)
        if check_mode or not outgoing['events']:
            return self._outcome(outgoing['status'], [], outgoing['pending'], {})
        delivered, errors = [], {}
        for key, payload in outgoing['events']:
            try:
                self.send(payload)
                delivered.append(key)
            except DeliveryError as exc:
                errors[key] = str(exc)

        def record(state):
            for key, payload in outgoing['events']:
                item = state['incidents'].setdefault(key, {'status': 'pending', 'event': payload, 'url': self.url})
                item['claimed_until'] = 0
                item['attempts'] = item.get('attempts', 0) + 1
                if key in delivered:
                    item.update(status='sent', sent_at=utc_now(), sent_epoch=self.clock())
                    item.pop('event', None)
                    item.pop('last_error', None)
                else:
                    item['last_error'] = errors[key]
            return pending_ids(state), True

        pending = self.state.update(record)
        status = outgoing['status']
        if status == 'claimed':
            status = 'sent' if own in delivered else 'pending'
        return self._outcome(status, delivered, pending, errors)

    def _claim(self, event, check_mode):
        """Under the lock: decide about the own event and claim it with the undelivered ones for this URL."""
        own = event['incident_id']
        now = self.clock()

        def claim(state):
            pruned = prune(state, self.retention_days, now)
            entry = state['incidents'].get(own)
            if entry and entry.get('status') == 'sent':
                status = 'already_sent'
            elif entry and entry.get('claimed_until', 0) > now:
                status = 'in_flight'
            elif check_mode:
                status = 'would_send'
            else:
                status = 'claimed'
                state['incidents'][own] = entry or {'status': 'pending', 'event': event, 'url': self.url,
                                                    'attempts': 0, 'created_at': event['occurred_at']}
            retry = [key for key, item in state['incidents'].items()
                     if key != own and item.get('status') == 'pending' and item.get('url') == self.url
                     and item.get('claimed_until', 0) <= now]
            claimed = retry + ([own] if status in ('claimed', 'would_send') else [])
            if check_mode:
                return {'status': status, 'events': [], 'pending': sorted(set(pending_ids(state) + claimed))}, False
            for key in claimed:
                state['incidents'][key]['claimed_until'] = now + self.claim_seconds
            return ({'status': status, 'events': [(key, state['incidents'][key]['event']) for key in claimed],
                     'pending': pending_ids(state)}, bool(claimed or pruned))

        # Check mode only reads: no lock file, no directory, no database row is created.
        return claim(self.state.read())[0] if check_mode else self.state.update(claim)

    @staticmethod
    def _outcome(status, delivered, pending, errors):
        return {'status': status, 'delivered': delivered, 'pending': sorted(pending), 'errors': errors}

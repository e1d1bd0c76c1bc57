# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Webhook forwarding of audit events: JSON POSTs (ansible.module_utils.urls.open_url) from a background thread that drains a local spool in order.

The play only appends to the spool; a daemon thread posts the spooled events one by one, oldest first, and
moves the spool offset after each 2xx answer. While the endpoint fails the thread retries the oldest event
with an exponential back-off (a new event triggers an earlier retry). At the end of the run ``flush`` waits a
bounded time; whatever is left stays spooled and the next run's sender delivers it first.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote

from ansible.module_utils.urls import open_url
from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_sanitise import clean_text

EVENT_ID_HEADER = 'X-Patchwise-Event-Id'
_BACKOFF_MIN = 0.5
_BACKOFF_MAX = 30.0
# Even when new events keep arriving, failed attempts are at least this far apart.
_RETRY_GAP = 0.2


def parse_headers(lines):
    """Dict of 'Name: value' strings (option webhook_headers)."""
    headers = {}
    for line in lines or ():
        name, sep, value = str(line).partition(':')
        if not sep or not name.strip():
            raise ValueError("webhook_headers entry %r: expected 'Name: value'" % (line,))
        try:
            # http.client sends headers as latin-1; a value it cannot encode would fail every POST forever.
            (name + value).encode('latin-1')
        except UnicodeEncodeError:
            raise ValueError('webhook_headers entry for %s: only latin-1 characters can be sent' % name.strip()) from None
        headers[name.strip()] = value.strip()
    return headers


def event_id_of(line):
    """The event_id of a spooled event, read from the front of the line without parsing the whole body."""
    # The envelope starts with {"event_id":"..." (see the callback).
    marker = b'"event_id":"'
    start = line.find(marker)
    if start < 0:
        return None
    text = line.decode('utf-8', 'replace')
    try:
        return json.decoder.scanstring(text, text.find('"event_id":"') + len(marker))[0]
    except ValueError:
        return None


class WebhookSink:

    def __init__(self, url, spool, timeout=5.0, headers=None, token=None):
        if not url.startswith(('http://', 'https://')):
            raise ValueError('webhook_url %s: expected an http:// or https:// URL' % clean_text(url))
        self.url = url
        self.spool = spool
        self._timeout = timeout
        self._headers = {'Content-Type': 'application/json'}
        self._headers.update(headers or {})
        if token:
            self._headers['Authorization'] = 'Bearer %s' % token
        self.delivered = 0
        self.failures = 0
        self.last_error = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._thread = threading.Thread(target=self._run, name='patchwise-audit-webhook', daemon=True)
        self._thread.start()

    def send(self, line):
        """Spool one event (JSON bytes whose first key is event_id) and wake the sender."""
        self.spool.append(line)
        self._wake.set()

    def _post(self, line):
        headers = dict(self._headers)
        event_id = event_id_of(line)
        if event_id:
            # Percent-encoded beyond plain ASCII (a run id from the environment may hold anything).
            headers[EVENT_ID_HEADER] = quote(event_id, safe=':@-._~+')
        # open_url raises for 4xx/5xx and connection errors; certificates are verified for https.
        with open_url(self.url, data=line, headers=headers, method='POST', timeout=self._timeout,
                      http_agent='patchwise-audit', follow_redirects='none') as response:
            status = response.status
        if not 200 <= status < 300:
            raise ValueError('unexpected HTTP status %s' % status)

    def _run(self):
        backoff = _BACKOFF_MIN
        while not self._stop.is_set():
            self._wake.clear()
            batch = self.spool.pending()
            if not batch:
                self._wake.wait()
                continue
            for end_offset, line in batch:
                if self._stop.is_set():
                    return
                try:
                    self._post(line)
                except Exception as exc:  # pylint: disable=broad-except  # any failure: keep it spooled, retry later
                    self.failures += 1
                    self.last_error = clean_text('%s: %s' % (self.url, exc))
                    failed_at = time.monotonic()
                    self._wake.wait(backoff)
                    self._stop.wait(max(0.0, failed_at + _RETRY_GAP - time.monotonic()))
                    backoff = min(backoff * 2, _BACKOFF_MAX)
                    break
                backoff = _BACKOFF_MIN
                self.spool.ack(end_offset)
                self.delivered += 1
                with self._progress:
                    self._progress.notify_all()

    def flush(self, timeout):
        """Wait up to ``timeout`` seconds for the spool to drain, then stop the sender; return the backlog."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._progress:
            while self.spool.backlog() and time.monotonic() < deadline:
                self._wake.set()
                self._progress.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        self._stop.set()
        self._wake.set()
        # A POST in flight finishes within its own timeout; do not wait for it past the flush bound.
        self._thread.join(max(0.0, deadline - time.monotonic()) + 0.05)
        left = self.spool.backlog()
        if not left and not self._thread.is_alive():
            self.spool.compact()
        return left

    def close(self, timeout=0.0):
        left = self.flush(timeout)
        if not self._thread.is_alive():
            self.spool.close()
        return left

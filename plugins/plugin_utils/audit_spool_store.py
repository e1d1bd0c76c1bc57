# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The webhook events a job could not deliver, kept in the asset database for the next job (controller only).

The audit callback spools webhook events in a local directory while the play runs (an append per event, no
database round trip on the play's path).  What is still undelivered when the job ends is handed to the asset
database, as the ``audit_webhook_spool:<digest of the URL>`` document of ``controller_state``; the next job
using the same webhook takes it back first and sends it before its own events.  An AWX job's container, and its
local spool with it, is gone after the job; the database is not.

Taking and keeping each run in one transaction that holds the document's row, so two jobs starting at once never
both take the same events; a job that dies between taking them and sending them loses nothing that reached its
local spool (they are sent at least once, and carry their event id for de-duplication).
"""

from __future__ import annotations

import hashlib
import json
import time

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError

DOCUMENT_PREFIX = 'audit_webhook_spool:'


class SpoolStoreError(Exception):
    """The database spool cannot be read or written; the message names the database."""


def document_name(url):
    # The URL may carry credentials (a token in its query): only its digest is stored.
    return DOCUMENT_PREFIX + hashlib.sha256(url.encode('utf-8')).hexdigest()[:32]


def _events(document):
    events = (document or {}).get('events') if isinstance(document, dict) else None
    return [event for event in events or [] if isinstance(event, str)]


def take_spooled(location, url, receive):
    """Hand the events kept for ``url`` (bytes, oldest first) to ``receive`` and remove them from the database.

    ``receive`` runs inside the transaction: the events leave the database only once it returned (a crash in
    between sends them twice, never not at all).  What ``receive`` returns - the events it could not take - stays.
    Returns how many were taken.
    """
    def change(document):
        events = _events(document)
        if not events:
            return 0, None
        refused = receive([event.encode('utf-8') for event in events]) or []
        return len(events) - len(refused), {'events': [line.decode('utf-8') for line in refused]}

    try:
        with AssetStore(location) as store:
            return store.update_state_document(document_name(url), change)
    except AssetStoreError as exc:
        raise SpoolStoreError(str(exc)) from exc


def _bounded(events, max_bytes):
    """The newest events that fit in ``max_bytes``, after a ``spool_dropped`` event counting the others."""
    if not max_bytes or sum(len(event) + 1 for event in events) <= max_bytes:
        return events
    kept, size = [], 256            # room for the marker
    for event in reversed(events):
        if size + len(event) + 1 > max_bytes:
            break
        kept.append(event)
        size += len(event) + 1
    dropped = len(events) - len(kept)
    for event in events[:dropped]:
        # A marker dropped in turn: its count moves to the new one, so none is lost.
        if '"type":"spool_dropped"' in event:
            dropped += json.loads(event).get('dropped', 1) - 1
    marker = {'event_id': 'spool-dropped:db:%d' % time.time_ns(), 'type': 'spool_dropped', 'dropped': dropped,
              'ts': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
    return [json.dumps(marker, separators=(',', ':')), *reversed(kept)]


def keep_spooled(location, url, lines, max_bytes=None):
    """Add ``lines`` (bytes, oldest first) after the events already kept for ``url``; bounded like the local spool."""
    added = [line.decode('utf-8') for line in lines]
    try:
        with AssetStore(location) as store:
            store.update_state_document(document_name(url),
                                        lambda document: (None, {'events': _bounded(_events(document) + added, max_bytes)}))
    except AssetStoreError as exc:
        raise SpoolStoreError(str(exc)) from exc

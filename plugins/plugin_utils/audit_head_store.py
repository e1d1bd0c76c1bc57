# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An audit log's chain head kept in the asset database (controller only).

The audit callback writes the final head of each run (seq, hash) there as well as to its forwarders, as the
``audit_head:<log path>`` document of ``controller_state``; audit_verify's ``expected_head_db`` reads it back.
A log cut or rewritten on the controller no longer matches a head kept in a shared database the controller's
disk does not hold.
"""

from __future__ import annotations

import os

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import display_location
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError, asset_db_exists


class HeadStoreError(Exception):
    """The head cannot be stored or read; the message names the database."""


def document_name(log_path):
    return 'audit_head:%s' % os.path.abspath(os.path.expanduser(log_path))


def store_head(location, log_path, head):
    """Record ``head`` (``{run_id, seq, hash, records, ts}``) as the latest head of the log at ``log_path``."""
    try:
        with AssetStore(location) as store:
            store.update_state_document(document_name(log_path), lambda _previous: (None, head))
    except AssetStoreError as exc:
        raise HeadStoreError(str(exc)) from exc


def stored_head(location, log_path):
    """The head recorded for the log at ``log_path``; HeadStoreError when there is none."""
    try:
        head = None
        if asset_db_exists(location):
            with AssetStore(location, readonly=True) as store:
                head = store.state_document(document_name(log_path))
    except AssetStoreError as exc:
        raise HeadStoreError(str(exc)) from exc
    if not isinstance(head, dict) or not head.get('hash'):
        raise HeadStoreError('no chain head of %s is recorded in %s (the audit callback records one at the end of each run '
                             'when head_db or a PostgreSQL PATCHWISE_ASSET_DB is set)' % (log_path, display_location(location)))
    return head

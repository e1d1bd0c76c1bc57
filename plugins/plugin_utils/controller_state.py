# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side state kept in the asset database instead of a file (controller only).

An AWX job starts in a fresh container: a state file that promises "the next run retries" is gone with it unless
it sits on a persistent volume. With a shared asset database (PostgreSQL), such state lives there instead, as a
named JSON document of the ``controller_state`` table (asset schema 8), changed in one transaction that holds the
document's row, so two jobs never both act on the old value.
"""

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import display_location
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError, asset_db_exists


class StateError(Exception):
    """The database cannot hold or give the state; the message names it."""


class StateDocument:
    """The document ``name`` of the asset database at ``location``, shaped by ``empty`` and checked by ``check``.

    ``read()`` gives the document as it is and creates nothing (check mode: a database that does not exist yet
    reads as ``empty()``); ``update(change)`` runs ``change(state)`` -> ``(answer, changed)`` under the row lock and
    writes the state back when it changed, returning the answer.
    """

    def __init__(self, location, name, empty, check, busy_timeout=30.0):
        self.location = location
        self.name = name
        self.where = '%s (controller_state %s)' % (display_location(location), name)
        self._empty = empty
        self._check = check
        self._busy_timeout = busy_timeout

    def _state(self, value):
        return self._empty() if value is None else self._check(value, self.where)

    def read(self):
        try:
            if not asset_db_exists(self.location, busy_timeout=self._busy_timeout):
                return self._empty()
            with AssetStore(self.location, readonly=True, busy_timeout=self._busy_timeout) as store:
                return self._state(store.state_document(self.name))
        except AssetStoreError as exc:
            raise StateError(str(exc)) from exc

    def update(self, change):
        def step(value):
            state = self._state(value)
            answer, changed = change(state)
            return answer, (state if changed else None)

        try:
            with AssetStore(self.location, busy_timeout=self._busy_timeout) as store:
                return store.update_state_document(self.name, step)
        except AssetStoreError as exc:
            raise StateError(str(exc)) from exc

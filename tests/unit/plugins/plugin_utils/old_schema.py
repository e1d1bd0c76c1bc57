# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An SQLite asset database as an older version of the collection left it, for the migration tests."""

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store_schema import MIGRATIONS, statements


def create_at_schema(connection, number):
    """Give ``connection``'s empty database the tables of asset schema ``number`` (migrations 1 to ``number``)."""
    for script in MIGRATIONS[:number]:
        for statement in statements(script):
            connection.execute(statement)
    connection.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(number),))

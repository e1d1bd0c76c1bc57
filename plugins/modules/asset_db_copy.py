#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: asset_db_copy
short_description: Copy an asset database, history and all, into a new one (SQLite to PostgreSQL or back)
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Copies every table of an asset database - records, history, the register, risk results, findings with their
    lifecycle, plans and patch outcomes - into a new or empty asset database, for example when a fleet that grew up
    on the embedded SQLite file moves to a shared PostgreSQL database for AWX.
  - Both ends are brought to the current schema; the target is written in one transaction, ids included, so a
    failure leaves it as it was. A target that already holds data is refused.
  - Runs on the controller (it is an action plugin); it never touches managed hosts.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Counts the rows that would be copied and writes nothing.
options:
  source:
    description:
      - The asset database to copy, opened read-only. An SQLite file path or a C(postgresql://user@host:port/database) URL
        (the password from E(PGPASSWORD) or a E(PGPASSFILE), never in the URL).
    type: str
    required: true
  target:
    description: The new or empty asset database to copy into; a path or a URL as O(source).
    type: str
    required: true
  busy_timeout:
    description: Seconds to wait for another run writing either database.
    type: float
    default: 30
seealso:
  - module: patchwise.patching.asset_store
notes:
  - A PostgreSQL asset database needs the Python package C(psycopg) (version 3) on the controller.
"""

EXAMPLES = r"""
- name: Move the fleet's asset database to PostgreSQL
  patchwise.patching.asset_db_copy:
    source: /var/lib/patchwise/assets.db
    target: postgresql://patchwise@db.example.org:5432/patchwise
  environment:
    PGPASSFILE: /etc/patchwise/pgpass
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
rows:
  description: Rows copied (in check mode, that would be copied) per table.
  returned: always
  type: dict
  sample: {hosts: 120, history: 5310, findings: 48211, plans: 120, patch_outcomes: 640}
msg:
  description: What was copied.
  returned: always
  type: str
  sample: 120 hosts and their history copied
"""

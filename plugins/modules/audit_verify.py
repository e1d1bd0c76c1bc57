#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: audit_verify
short_description: Verify the hash chain of a patchwise.patching.audit log
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Reads a JSON-lines log written by the P(patchwise.patching.audit#callback) callback and re-computes its hash chain.
  - Reports the first altered, inserted or removed record (by line number) and, given O(expected_head), detects
    records cut from the end or a wholly rewritten log.
  - Runs on the controller (it is an action plugin); it never touches managed hosts.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
options:
  path:
    description: The audit log on the controller.
    type: path
    required: true
  hmac_key:
    description: The HMAC key the log was written with (the callback's C(hmac_key)); omit for plain SHA-256 chains.
    type: str
  expected_head:
    description:
      - The chain head the P(patchwise.patching.audit#callback) callback sent off-host (syslog, webhook) at the end
        of a run, to detect records cut from the end of the log or a rewritten log.
      - A mapping with C(seq) and C(hash), such as the C(chain_head) event itself (other keys are ignored). The log
        must hold at least C(seq) records and record number C(seq) must have that hash; records appended by later
        runs after it are fine. Fewer records means the tail was cut, another hash that the log was rewritten.
      - A bare hash string instead means the log's last record must have that hash.
      - Mutually exclusive with O(expected_head_db).
    type: raw
  expected_head_db:
    description:
      - Take the expected head from this asset database (a C(postgresql://) URL, or an SQLite file), where the
        P(patchwise.patching.audit#callback) callback records the final head of each run of the log at O(path) when
        its C(head_db) is set (by default with a PostgreSQL E(PATCHWISE_ASSET_DB)). The same check as O(expected_head)
        with C(seq) and C(hash); a log without a recorded head fails with a message saying so.
      - Mutually exclusive with O(expected_head).
    type: str
  since_last_break:
    description:
      - Verify only the last segment, from the last C(chain_break) record (written by the
        P(patchwise.patching.audit#callback) callback with C(on_broken_chain=new_segment)) to the end, the part
        later runs append to. Without it every segment must verify, so a log with a break never does.
      - Breaks are listed in RV(breaks) either way.
    type: bool
    default: false
  fail_on_invalid:
    description: Fail the task when the log does not verify; when false, report C(valid=false) without failing.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Verify the audit trail
  patchwise.patching.audit_verify:
    path: /var/log/patchwise/audit.jsonl
    hmac_key: "{{ vault_audit_hmac_key }}"
  register: audit_check

- name: Verify against the chain head the webhook received at the end of the run
  patchwise.patching.audit_verify:
    path: /var/log/patchwise/audit.jsonl
    expected_head:
      seq: 1234
      hash: 6b4d05720e7fc873284ba40d6d8d42a5213d7a6a22274c8f40fc7923b9ed48b9

- name: Verify against the head the last run recorded in the shared PostgreSQL asset database
  patchwise.patching.audit_verify:
    path: /var/lib/patchwise/audit/patchwise-audit.jsonl
    hmac_key: "{{ vault_audit_hmac_key }}"
    expected_head_db: "{{ patchwise_asset_db }}"
"""

RETURN = r"""
valid:
  description: Whether the whole log verifies.
  returned: always
  type: bool
  sample: false
records:
  description: Number of records verified before the first bad one (all of them when valid).
  returned: always
  type: int
  sample: 41
head:
  description: Hash of the last good record (the chain head when valid).
  returned: always
  type: str
  sample: 6b4d05720e7fc873284ba40d6d8d42a5213d7a6a22274c8f40fc7923b9ed48b9
first_bad_line:
  description:
    - Line number (1-based) of the first record that fails; null when valid or when only the head differs
      or the records the head names were cut.
    - With an O(expected_head) whose hash differs, the line of record C(seq).
  returned: always
  type: int
  sample: 42
reason:
  description:
    - Why verification failed; empty when valid.
    - Starts with C(wrong or missing key) when the first record of the log (or of a segment) does not verify with
      the key given - none of its records would - rather than naming it altered.
  returned: always
  type: str
  sample: "line 42: previous-record hash does not match"
breaks:
  description: The C(chain_break) records of the log, each starting a new segment, with the reason it gives.
  returned: always
  type: list
  elements: dict
  sample: [{line: 120, reason: "line 87 was altered (its hash does not match its content)", after_line: 119}]
"""

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hash chain of audit records: canonical serialisation, link hashing and verification."""

from __future__ import annotations

import hashlib
import hmac
import json

GENESIS = '0' * 64
PREV_FIELD = 'prev_hash'
# Each record also carries its own hash so an edited record is named itself, not only by its successor.
HASH_FIELD = 'hash'


def canonical(record):
    """Canonical bytes of a record: sorted keys, compact separators, UTF-8."""
    return json.dumps(record, sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=str).encode('utf-8')


def link_hash(line_bytes, key=None):
    """SHA-256 (or HMAC-SHA-256 with ``key``) over one record's canonical bytes."""
    if key:
        return hmac.new(key.encode('utf-8') if isinstance(key, str) else key, line_bytes, hashlib.sha256).hexdigest()
    return hashlib.sha256(line_bytes).hexdigest()


class Chain:
    """Stamps each record with the hash of the previous one and returns its serialised line."""

    def __init__(self, key=None, head=GENESIS):
        self._key = key
        self.head = head
        self.count = 0

    def seal(self, record):
        record[PREV_FIELD] = self.head
        self.head = link_hash(canonical(record), self._key)
        record[HASH_FIELD] = self.head
        self.count += 1
        return canonical(record)


def verify_lines(lines, key=None, expected_head=None):
    """Verify an iterable of log lines; return a dict naming the first bad record, if any."""
    head = GENESIS
    count = 0
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip('\n')
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            return _bad(number, count, head, 'line %d is not valid JSON (truncated or edited)' % number)
        if not isinstance(record, dict) or PREV_FIELD not in record or HASH_FIELD not in record:
            return _bad(number, count, head, 'line %d has no %s/%s fields' % (number, PREV_FIELD, HASH_FIELD))
        if canonical(record) != text.encode('utf-8'):
            return _bad(number, count, head, 'line %d is not in canonical form (edited)' % number)
        claimed = record.pop(HASH_FIELD)
        if link_hash(canonical(record), key) != claimed:
            return _bad(number, count, head, 'line %d was altered (its hash does not match its content)' % number)
        if record[PREV_FIELD] != head:
            return _bad(number, count, head, 'line %d: previous-record hash does not match; a record was inserted or '
                        'removed before it' % number)
        head = claimed
        count += 1
    if expected_head and expected_head != head:
        return _bad(None, count, head, 'chain head %s differs from the expected head %s: records were cut from the '
                    'end or the log was rewritten' % (head, expected_head))
    return {'valid': True, 'records': count, 'head': head, 'first_bad_line': None, 'reason': ''}


def _bad(number, count, head, reason):
    return {'valid': False, 'records': count, 'head': head, 'first_bad_line': number, 'reason': reason}

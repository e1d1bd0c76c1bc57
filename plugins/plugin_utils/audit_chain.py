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
# Position of the record in its log (1-based, continuing across runs): names the record a chain head points at.
SEQ_FIELD = 'seq'
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

    def __init__(self, key=None, head=GENESIS, seq=0):
        self._key = key
        self.head = head
        self.seq = seq
        self.count = 0

    def seal(self, record):
        self.seq += 1
        record[SEQ_FIELD] = self.seq
        record[PREV_FIELD] = self.head
        self.head = link_hash(canonical(record), self._key)
        record[HASH_FIELD] = self.head
        self.count += 1
        return canonical(record)


def parse_expected_head(expected_head):
    """(seq or None, hash) of an expected head: a bare hash (the log's last record) or a mapping with
    ``hash`` and optionally ``seq`` (the chain_head event the callback sends off-host)."""
    if not expected_head:
        return None, None
    if isinstance(expected_head, str):
        return None, expected_head
    if isinstance(expected_head, dict) and expected_head.get('hash'):
        seq = expected_head.get('seq')
        try:
            return (int(seq) if seq not in (None, '') else None), str(expected_head['hash'])
        except (TypeError, ValueError):
            raise ValueError('expected_head seq must be an integer, got %r' % (seq,)) from None
    raise ValueError('expected_head must be a hash string or a mapping with hash and seq, got %r' % (expected_head,))


def verify_lines(lines, key=None, expected_head=None):
    """Verify an iterable of log lines; return a dict naming the first bad record, if any.

    ``expected_head`` (see parse_expected_head) is the head sent off-host: with a ``seq`` the record at that
    position must carry that hash (later runs may append after it); without, the log's last record must."""
    expected_seq, expected_hash = parse_expected_head(expected_head)
    head = GENESIS
    count = 0
    hash_at_expected_seq = line_at_expected_seq = None
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
        if count == expected_seq:
            hash_at_expected_seq, line_at_expected_seq = claimed, number
    if expected_seq is not None:
        if count < expected_seq:
            return _bad(None, count, head, 'the log ends at record %d but the chain head sent off-host is record %d: '
                        '%d record(s) were cut from the end' % (count, expected_seq, expected_seq - count))
        if hash_at_expected_seq != expected_hash:
            return _bad(line_at_expected_seq, count, head, 'record %d has hash %s, the chain head sent off-host says %s: the '
                        'log was rewritten' % (expected_seq, hash_at_expected_seq, expected_hash))
    elif expected_hash and expected_hash != head:
        return _bad(None, count, head, 'chain head %s differs from the expected head %s: records were cut from the '
                    'end or the log was rewritten' % (head, expected_head))
    return {'valid': True, 'records': count, 'head': head, 'first_bad_line': None, 'reason': ''}


def _bad(number, count, head, reason):
    return {'valid': False, 'records': count, 'head': head, 'first_bad_line': number, 'reason': reason}

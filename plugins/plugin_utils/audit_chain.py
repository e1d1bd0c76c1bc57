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
# The event of a record that starts a new segment of the chain (see chain_break).
CHAIN_BREAK = 'chain_break'


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


def chain_break(reason, after_line, last_verified_head):
    """The record that starts a new segment after a log that no longer verifies (the callback's on_broken_chain).

    It is sealed like any record but starts from GENESIS: it says where and why the earlier chain ended, and
    every verification reports it.
    """
    return {'event': CHAIN_BREAK, 'reason': reason, 'after_line': after_line, 'last_verified_head': last_verified_head}


class _Segment:
    """The state of verifying one segment: from the log's start or a chain_break record to the next one."""

    def __init__(self, first_line, records_before):
        self.first_line = first_line
        self.head = GENESIS
        self.count = records_before     # records of the log before and in this segment: a record's position
        self.bad = None                 # (line, reason) of the first bad record
        self.suspect = None             # (line, reason) of a first record that fails its hash: wrong key or altered?
        self.checked = 0


def _key_problem(record_line, key, content, claimed):
    """Why the first record of a segment fails its hash (``content``: the record without it), when the key is the likely cause."""
    if key and link_hash(canonical(content), None) == claimed:
        return 'wrong or missing key: line %d is a plain SHA-256 record but an HMAC key was given' % record_line
    if key:
        return 'wrong or missing key: line %d does not verify with the HMAC key given (wrong key, unless the line was altered)' % record_line
    return ('wrong or missing key: line %d does not verify as plain SHA-256; the log was probably written with an HMAC key '
            '(give hmac_key), unless the line was altered' % record_line)


def _check(segment, number, text, key):
    """Verify one line against its segment; returns the parsed record (None when not JSON)."""
    try:
        record = json.loads(text)
    except ValueError:
        segment.bad = (number, 'line %d is not valid JSON (truncated or edited)' % number)
        return None
    if not isinstance(record, dict) or PREV_FIELD not in record or HASH_FIELD not in record:
        segment.bad = (number, 'line %d has no %s/%s fields' % (number, PREV_FIELD, HASH_FIELD))
        return record
    if canonical(record) != text.encode('utf-8'):
        segment.bad = (number, 'line %d is not in canonical form (edited)' % number)
        return record
    content = dict(record)
    claimed = content.pop(HASH_FIELD)
    matches = link_hash(canonical(content), key) == claimed
    if segment.suspect is not None:
        # The first record failed; a second that fails too means the key, one that verifies an altered first line.
        line, reason = segment.suspect
        segment.bad = (line, reason if not matches else 'line %d was altered (its hash does not match its content)' % line)
        return record
    if not matches:
        if segment.checked == 0:
            segment.suspect = (number, _key_problem(number, key, content, claimed))
            return record
        segment.bad = (number, 'line %d was altered (its hash does not match its content)' % number)
        return record
    if content[PREV_FIELD] != segment.head:
        segment.bad = (number, 'line %d: previous-record hash does not match; a record was inserted or removed before it' % number)
        return record
    segment.head = claimed
    segment.count += 1
    segment.checked += 1
    return record


def _is_break(text):
    if '"event":"%s"' % CHAIN_BREAK not in text:
        return False
    try:
        record = json.loads(text)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get('event') == CHAIN_BREAK and record.get(PREV_FIELD) == GENESIS


def verify_lines(lines, key=None, expected_head=None, since_last_break=False, start=None):
    """Verify an iterable of log lines; return a dict naming the first bad record, if any.

    A ``chain_break`` record (see ``chain_break``) starts a new segment; every break is listed in ``breaks``.
    The log is valid when every segment verifies, or with ``since_last_break`` when the last one does (the
    segment new runs append to).  ``expected_head`` (see parse_expected_head) is the head sent off-host: with a
    ``seq`` the record at that position must carry that hash (later runs may append after it); without, the
    log's last record must.  ``start``: (previous hash, records before) when ``lines`` is the tail of a log.
    """
    expected_seq, expected_hash = parse_expected_head(expected_head)
    # Lines of a tail are numbered from their position in the log (one record per line).
    first_line = start[1] + 1 if start else 1
    segments = [_Segment(first_line, start[1] if start else 0)]
    if start:
        segments[0].head = start[0]
    breaks = []
    at_expected_seq = None
    seen = start[1] if start else 0    # records (non-empty lines) before this one: its position is seen + 1
    for number, raw in enumerate(lines, start=first_line):
        text = raw.rstrip('\n')
        if not text.strip():
            continue
        segment = segments[-1]
        if number > segment.first_line and _is_break(text):
            if segment.suspect is not None and segment.bad is None:
                segment.bad = segment.suspect
            record = json.loads(text)
            breaks.append({'line': number, 'reason': record.get('reason'), 'after_line': record.get('after_line')})
            segment = _Segment(number, seen)
            segments.append(segment)
        seen += 1
        if segment.bad is not None:
            continue
        _check(segment, number, text, key)
        if segment.bad is None and segment.suspect is None and segment.count == expected_seq:
            at_expected_seq = (segment.head, number)
    last = segments[-1]
    if last.suspect is not None and last.bad is None:
        last.bad = last.suspect     # a single record that fails: the key, or that record altered
    considered = segments[-1:] if since_last_break else segments
    first_bad = next((segment.bad for segment in considered if segment.bad is not None), None)
    if first_bad is not None:
        return _bad(first_bad[0], last.count, last.head, first_bad[1], breaks)
    if expected_seq is not None:
        if last.count < expected_seq:
            return _bad(None, last.count, last.head, 'the log ends at record %d but the chain head sent off-host is record %d: '
                        '%d record(s) were cut from the end' % (last.count, expected_seq, expected_seq - last.count), breaks)
        hash_at, line_at = at_expected_seq or (None, None)
        if hash_at != expected_hash:
            return _bad(line_at, last.count, last.head, 'record %d has hash %s, the chain head sent off-host says %s: the '
                        'log was rewritten' % (expected_seq, hash_at, expected_hash), breaks)
    elif expected_hash and expected_hash != last.head:
        return _bad(None, last.count, last.head, 'chain head %s differs from the expected head %s: records were cut from the '
                    'end or the log was rewritten' % (last.head, expected_head), breaks)
    return {'valid': True, 'records': last.count, 'head': last.head, 'first_bad_line': None, 'reason': '', 'breaks': breaks}


def _bad(number, count, head, reason, breaks):
    return {'valid': False, 'records': count, 'head': head, 'first_bad_line': number, 'reason': reason, 'breaks': breaks}

"""finding_rows.rows_to_write: what storing one host's findings over its stored rows writes."""

from __future__ import annotations

import json

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_details import DetailRows
from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_rows import _HOST_EXTRAS, rows_to_write

FIRST, SECOND, THIRD = '2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', '2026-12-03T00:00:00Z'


def _findings():
    decided = {'id': 'CVE-2026-1', 'package': 'openssl', 'kind': 'os', 'tier': 'high', 'due': '2026-12-31', 'detail_key': 'openssl|high',
               'summary': 'decided by an engine', 'host_reasons': ['due 2026-12-31']}
    # No engine decided it (no detail key): its detail is its own fields, under a key of this host.
    undecided = {'id': 'CVE-2026-2', 'package': 'zlib', 'kind': 'os', 'tier': 'low', 'due': '2027-03-01', 'summary': 'from elsewhere',
                 'held_binaries': ['zlib1g'], 'host_reasons': ['due 2027-03-01']}
    return [decided, undecided]


def _write(findings, known, now, written):
    details = DetailRows({'openssl|high': {'summary': 'the detail'}}, {}, 'context', written)
    return rows_to_write('web-1', findings, known, now=now, details=details, stored_parts={}, moved_from=set())


def _as_stored(host_rows):
    """The rows as the store reads them back (finding_rows): {(id, package): (status, first seen, ..., extra, closed)}."""
    return {(row[1], row[2]): (*row[3:], None) for row in host_rows.rows}


def test_a_first_pass_opens_every_finding_and_writes_each_detail_once():
    written = set()
    first, detail_rows, decided = _write(_findings(), {}, FIRST, written)
    assert first.opened == 2 and first.gone == [] and first.before == []
    assert [row[:5] for row in first.rows] == [('web-1', 'CVE-2026-1', 'openssl', 'open', FIRST), ('web-1', 'CVE-2026-2', 'zlib', 'open', FIRST)]
    assert not decided
    # Without the engine's parts, a detail is stored whole.
    assert [(key, json.loads(text)['summary'], context, parts) for key, text, context, *parts in detail_rows] == [
        ('openssl|high', 'the detail', 'context', [None, None]), ('web-1|CVE-2026-2|zlib', 'from elsewhere', None, [None, None])]
    # The host's own fields go in the row's extra, not in the detail.
    assert json.loads(first.rows[1][9]) == {'held_binaries': ['zlib1g']} and 'held_binaries' not in json.loads(detail_rows[1][1])
    assert len(first.after) == 2 and written == {'openssl|high', 'web-1|CVE-2026-2|zlib'}
    _again, detail_rows, _decided = _write(_findings(), {}, FIRST, written)
    assert detail_rows == []


def test_an_unchanged_host_writes_nothing_and_a_finding_no_longer_there_is_fixed():
    first, _details, _decided = _write(_findings(), {}, FIRST, set())
    known = _as_stored(first)
    findings = _findings()
    second, _detail_rows, _decided = _write(findings, known, SECOND, set())
    assert second.rows == [] and second.opened == 0 and second.gone == [] and second.before == second.after == []
    # Each finding keeps the first seen it was stored with.
    assert [finding['first_seen'] for finding in findings] == [FIRST, FIRST]
    third, _details, decided = _write(_findings()[:1], known, THIRD, set())
    assert third.rows == [] and third.gone == [('CVE-2026-2', 'zlib')]
    assert third.before == [known[('CVE-2026-2', 'zlib')]] and third.after == [('fixed', *known[('CVE-2026-2', 'zlib')][1:7], THIRD)]
    assert decided


def test_a_fixed_finding_seen_again_is_opened_again():
    first, _details, _decided = _write(_findings(), {}, FIRST, set())
    known = _as_stored(first)
    known[('CVE-2026-1', 'openssl')] = ('fixed', FIRST, *known[('CVE-2026-1', 'openssl')][2:7], SECOND)
    third, _details, _decided = _write(_findings(), known, THIRD, set())
    assert third.opened == 1 and [row[1:5] for row in third.rows] == [('CVE-2026-1', 'openssl', 'open', THIRD)]


@pytest.mark.parametrize('field', _HOST_EXTRAS)
def test_each_host_own_field_goes_in_the_row_not_in_the_detail(field):
    """Every field of the host's own (finding_fields, the policy's hold and acceptance) set alone on a finding is kept in
    its row's extra and left out of the detail an undecided finding is stored with (_host_extra_text names each one)."""
    finding = {'id': 'CVE-2026-3', 'package': 'curl', 'kind': 'os', 'tier': 'low', 'summary': 'from elsewhere', field: ['its value']}
    host_rows, detail_rows, _decided = _write([finding], {}, FIRST, set())
    assert json.loads(host_rows.rows[0][9]) == {field: ['its value']}
    assert field not in json.loads(detail_rows[0][1])

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import os
import re

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import ssvc


def _rows(preset):
    with open(os.path.join(ssvc.TABLE_DIR, ssvc.PRESETS[preset]), encoding='utf-8') as handle:
        document = json.load(handle)
    return document, document['mapping']


@pytest.mark.parametrize('preset, row_count', [('bod-26-04', 16), ('ssvc-deployer', 72), ('cisa-coordinator', 36)])
def test_every_row_of_each_preset_is_reproduced(preset, row_count):
    table = ssvc.resolve_table(preset)
    document, rows = _rows(preset)
    assert len(rows) == row_count
    for row in rows:
        inputs = {point: value for point, value in row.items() if point != document['outcome']}
        assert table.outcome_for(inputs) == row[document['outcome']], row


def test_bod_26_04_known_rows():
    table = ssvc.resolve_table('bod-26-04')
    kev_public_total = {'cisa:PE:1.0.0': 'Y', 'cisa:KEV:1.0.0': 'Y', 'ssvc:A:2.0.0': 'Y', 'ssvc:TI:1.0.0': 'T'}
    assert table.outcome_for(kev_public_total) == '3DF'
    assert table.outcomes == ['FSU', '60D', '14D', '3D', '3DF']


def _truncated(tmp_path, drop_index):
    document, rows = _rows('bod-26-04')
    document = dict(document, mapping=[row for index, row in enumerate(rows) if index != drop_index])
    path = tmp_path / 'bod.json'
    path.write_text(json.dumps(document))
    return path, rows[drop_index]


def test_incomplete_mapping_names_file_and_combination(tmp_path):
    path, dropped = _truncated(tmp_path, 5)
    with pytest.raises(ssvc.SSVCError) as error:
        ssvc.load_table(str(path))
    message = str(error.value)
    assert str(path) in message
    for point in ('cisa:PE:1.0.0', 'cisa:KEV:1.0.0', 'ssvc:A:2.0.0', 'ssvc:TI:1.0.0'):
        assert '%s=%s' % (point, dropped[point]) in message


def test_contradicting_rows_rejected(tmp_path):
    document, rows = _rows('bod-26-04')
    flipped = dict(rows[0], **{'cisa:BOD2604:1.0.0': '3DF' if rows[0]['cisa:BOD2604:1.0.0'] != '3DF' else 'FSU'})
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(dict(document, mapping=[*rows, flipped])))
    with pytest.raises(ssvc.SSVCError, match=re.escape('contradicts')):
        ssvc.load_table(str(path))


def test_unknown_value_and_schema_rejected(tmp_path):
    document, rows = _rows('bod-26-04')
    path = tmp_path / 'old.json'
    path.write_text(json.dumps(dict(document, schemaVersion='1.0.0')))
    with pytest.raises(ssvc.SSVCError, match=re.escape('schemaVersion')):
        ssvc.load_table(str(path))
    bad_row = dict(rows[0], **{'cisa:KEV:1.0.0': 'maybe'})
    path.write_text(json.dumps(dict(document, mapping=[bad_row, *rows[1:]])))
    with pytest.raises(ssvc.SSVCError, match=re.escape("'maybe' is not a value of cisa:KEV:1.0.0")):
        ssvc.load_table(str(path))


def test_lookup_errors_name_the_point():
    table = ssvc.resolve_table('bod-26-04')
    with pytest.raises(ssvc.SSVCError, match=re.escape('ssvc:TI:1.0.0')):
        table.outcome_for({'cisa:PE:1.0.0': 'Y', 'cisa:KEV:1.0.0': 'Y', 'ssvc:A:2.0.0': 'Y'})
    with pytest.raises(ssvc.SSVCError, match=re.escape('cisa:PE:1.0.0')):
        table.outcome_for({'cisa:PE:1.0.0': 'X', 'cisa:KEV:1.0.0': 'Y', 'ssvc:A:2.0.0': 'Y', 'ssvc:TI:1.0.0': 'T'})


def test_point_neither_derivable_nor_defaulted_is_an_error():
    table = ssvc.resolve_table('ssvc-deployer')
    supplied = {'ssvc:E:1.1.0', 'ssvc:EXP:1.0.1', 'ssvc:A:2.0.0'}
    with pytest.raises(ssvc.SSVCError, match=re.escape('ssvc:HI:2.0.2')):
        table.check_suppliable(supplied, {})
    table.check_suppliable(supplied, {'ssvc:HI:2.0.2': 'M'})
    with pytest.raises(ssvc.SSVCError, match=re.escape('not a value of ssvc:HI:2.0.2')):
        table.check_suppliable(supplied, {'ssvc:HI:2.0.2': 'Z'})


def test_unknown_preset_or_missing_file():
    with pytest.raises(ssvc.SSVCError, match=re.escape('neither a preset')):
        ssvc.resolve_table('no-such-table')


def test_digest_follows_the_content_not_the_file(tmp_path):
    """A table is known by what it decides: the same content under another name is the same table, an edit is another."""
    document, mapping = _rows('ssvc-deployer')
    copy = tmp_path / 'copy.json'
    copy.write_text(json.dumps(document, indent=4))
    preset = ssvc.resolve_table('ssvc-deployer')
    assert ssvc.resolve_table(str(copy)).digest == preset.digest
    outcomes = preset.outcomes
    row = mapping[0]
    row[document['outcome']] = next(outcome for outcome in outcomes if outcome != row[document['outcome']])
    copy.write_text(json.dumps(document))
    assert ssvc.resolve_table(str(copy)).digest != preset.digest
    assert ssvc.resolve_table('bod-26-04').digest != preset.digest

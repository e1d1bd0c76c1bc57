# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import risk_points as rp
from ansible_collections.patchwise.patching.plugins.plugin_utils import ssvc

EPSS_THRESHOLD = 0.1
VECTORS = {
    ('Y', 'T'): 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    ('Y', 'P'): 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N',
    ('N', 'T'): 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
    ('N', 'P'): 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N',
}
EXPOSURE = {'O': 'internet', 'C': 'internal', 'S': 'isolated'}
CRITICALITY = {'L': 'low', 'M': 'medium', 'H': 'high', 'VH': 'very_high'}


def finding_and_register(row):
    """Build the advisory facts and register entry that should yield ``row``'s input values."""
    exploitation = row.get(rp.EXPLOITATION, 'A' if row.get(rp.KEV) == 'Y' else 'N')
    finding = {
        'kev': {'added': '2025-01-02', 'due': '2025-01-23'} if exploitation == 'A' or row.get(rp.KEV) == 'Y' else None,
        'epss': 0.5 if exploitation == 'P' else 0.001,
        'cvss': {'vector': VECTORS[(row[rp.AUTOMATABLE], row.get(rp.TECHNICAL_IMPACT, 'T'))]},
    }
    if rp.SYSTEM_EXPOSURE in row:
        exposure = EXPOSURE[row[rp.SYSTEM_EXPOSURE]]
    else:
        exposure = 'internet' if row.get(rp.PUBLICLY_EXPOSED) == 'Y' else 'internal'
    criticality = CRITICALITY[row.get(rp.HUMAN_IMPACT, row.get(rp.MISSION_WELLBEING, 'L'))]
    return finding, {'exposure': exposure, 'criticality': criticality}


@pytest.mark.parametrize('preset', sorted(ssvc.PRESETS))
def test_every_row_reproduced_from_constructed_findings(preset):
    table = ssvc.resolve_table(preset)
    with open(os.path.join(ssvc.TABLE_DIR, ssvc.PRESETS[preset]), encoding='utf-8') as handle:
        document = json.load(handle)
    table.check_suppliable(rp.DERIVABLE_POINTS, {})
    for row in document['mapping']:
        finding, register = finding_and_register(row)
        values, _reasons = rp.derive_points(finding, register, EPSS_THRESHOLD)
        assert table.outcome_for(values) == row[table.outcome_point], (row, values)


def test_kev_means_active_exploitation_with_reason():
    values, reasons = rp.derive_points({'kev': {'added': '2024-01-01'}, 'epss': 0.0}, {'exposure': 'internal', 'criticality': 'low'}, 0.1)
    assert values[rp.KEV] == 'Y'
    assert values[rp.EXPLOITATION] == 'A'
    assert 'exploitation active: listed in CISA KEV' in reasons


def test_epss_threshold_and_public_exploit():
    register = {'exposure': 'internal', 'criticality': 'low'}
    assert rp.derive_points({'epss': 0.1}, register, 0.1)[0][rp.EXPLOITATION] == 'P'
    assert rp.derive_points({'epss': 0.09}, register, 0.1)[0][rp.EXPLOITATION] == 'N'
    assert rp.derive_points({'epss': None, 'exploit_public': True}, register, 0.1)[0][rp.EXPLOITATION] == 'P'


def test_vulnrichment_values_win_over_cvss():
    finding = {
        'cvss': {'vector': VECTORS[('N', 'P')]},
        'vulnrichment': [{'Exploitation': 'poc'}, {'Automatable': 'yes'}, {'Technical Impact': 'total'}],
    }
    values, reasons = rp.derive_points(finding, {'exposure': 'internal', 'criticality': 'low'}, 0.9)
    assert (values[rp.EXPLOITATION], values[rp.AUTOMATABLE], values[rp.TECHNICAL_IMPACT]) == ('P', 'Y', 'T')
    assert 'technical impact total: CISA Vulnrichment' in reasons


def test_scope_changed_is_total_impact():
    values, _reasons = rp.derive_points({'cvss': {'vector': 'CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:C/C:L/I:N/A:N'}}, {}, 0.1)
    assert values[rp.TECHNICAL_IMPACT] == 'T'
    assert values[rp.AUTOMATABLE] == 'N'


def test_missing_data_takes_conservative_or_policy_defaults_and_says_so():
    values, reasons = rp.derive_points({}, {}, 0.1)
    for point, value in rp.CONSERVATIVE_DEFAULTS.items():
        assert values[point] == value
    assert any('no CVSS vector' in reason for reason in reasons)
    assert any('register has no exposure' in reason for reason in reasons)
    values, _reasons = rp.derive_points({}, {}, 0.1, defaults={rp.HUMAN_IMPACT: 'M', rp.SYSTEM_EXPOSURE: 'C'})
    assert values[rp.HUMAN_IMPACT] == 'M'
    assert values[rp.SYSTEM_EXPOSURE] == 'C'


@pytest.mark.parametrize('register', [{'exposure': 'internet', 'criticality': 'low'}, {'exposure': 'isolated'}, {}, None])
def test_the_finding_and_the_register_decide_their_own_points(register):
    """The engine works out each part once (per raw finding, per register class): together they are derive_points."""
    finding = {'cvss': {'vector': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'score': 9.8}, 'epss': 0.5, 'kev': None,
               'vulnrichment': [{'Exploitation': 'poc'}]}
    values, reasons = rp.derive_points(finding, register, 0.1, {rp.AUTOMATABLE: 'N'})
    by_finding, finding_reasons = rp.finding_points(finding, 0.1, {rp.AUTOMATABLE: 'N'})
    by_register, register_reasons = rp.register_points(register, {rp.AUTOMATABLE: 'N'})
    assert set(by_finding) == {rp.KEV, rp.EXPLOITATION, rp.AUTOMATABLE, rp.TECHNICAL_IMPACT}
    assert set(by_register) == {rp.PUBLICLY_EXPOSED, rp.SYSTEM_EXPOSURE, rp.HUMAN_IMPACT, rp.MISSION_WELLBEING}
    assert values == dict(by_finding, **by_register) and reasons == finding_reasons + register_reasons
    assert rp.finding_points(finding, 0.1, {rp.AUTOMATABLE: 'N'}) == (by_finding, finding_reasons)

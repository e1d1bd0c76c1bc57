"""CVSS v3 base scores against the examples in FIRST's calculator and NVD."""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.cvss import base_score, is_automatable, is_total_impact, parse_vector


@pytest.mark.parametrize(
    'vector, score',
    [
        ('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8),
        ('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0),
        ('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 8.8),
        ('CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8),
        ('CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', 5.9),
        ('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1),
        ('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5),
        ('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0.0),
        ('CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N', 1.6),
    ],
)
def test_base_score(vector, score):
    assert base_score(vector) == score


def test_v4_vectors_have_no_computed_score():
    assert base_score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N') is None


@pytest.mark.parametrize('vector', ['', 'AV:N/AC:L', 'CVSS:3.1/AV:N/AV:L', 'CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
                                    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H'])
def test_invalid_vectors(vector):
    with pytest.raises(ValueError, match='CVSS vector'):
        base_score(vector)


def test_ssvc_proxies():
    assert is_automatable('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N')
    assert not is_automatable('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H')
    assert is_total_impact('CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H')
    assert is_total_impact('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N')
    assert not is_total_impact('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N')
    assert is_total_impact('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')
    assert parse_vector('CVSS:3.1/AV:N')['version'] == '3.1'

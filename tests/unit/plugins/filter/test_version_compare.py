from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.filter.version_compare import FilterModule


def _filter():
    return FilterModule().filters()['version_compare']


@pytest.mark.parametrize(
    'a, b, scheme, expected',
    [
        ('3.0.11-1~deb12u2', '3.0.11-1~deb12u3', 'deb', -1),
        ('1:2.0', '3.0', 'deb', 1),
        ('1.0^git1', '1.0', 'rpm', 1),
        ('1.0', '1.0.0', 'generic', 0),
    ],
)
def test_version_compare(a, b, scheme, expected):
    assert _filter()(a, b, scheme) == expected


def test_default_scheme_is_generic():
    assert _filter()('1.10', '1.9') == 1


def test_invalid_version_names_it():
    with pytest.raises(AnsibleFilterError, match=r"'1:' .*|deb version '1:'"):
        _filter()('1:', '1.0', 'deb')

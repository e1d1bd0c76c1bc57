from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.test.version import TestModule as VersionTestPlugin  # not Test*: pytest would collect it


def _test():
    return VersionTestPlugin().tests()['version']


@pytest.mark.parametrize(
    'operator, expected',
    [('<', True), ('lt', True), ('<=', True), ('le', True), ('==', False), ('eq', False), ('=', False),
     ('!=', True), ('ne', True), ('<>', True), ('>', False), ('gt', False), ('>=', False), ('ge', False)],
)
def test_operators(operator, expected):
    assert _test()('1.0~rc1', '1.0', operator, scheme='deb') is expected


def test_equal_versions():
    assert _test()('1.0', '1.00', 'eq', scheme='deb') is True


def test_unknown_operator():
    with pytest.raises(AnsibleFilterError, match='unknown operator'):
        _test()('1', '2', 'newer')


def test_invalid_version():
    with pytest.raises(AnsibleFilterError, match='semver'):
        _test()('1.0', '1.0.0', 'lt', scheme='semver')

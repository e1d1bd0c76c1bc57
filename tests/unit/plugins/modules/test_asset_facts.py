from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.modules import asset_facts


class _FailingModule:
    def fail_json(self, msg):
        raise ValueError(msg)


@pytest.mark.parametrize('requested, expected', [
    (['all'], ['listening', 'os', 'packages', 'restart', 'services', 'updates']),
    (['packages'], ['os', 'packages']),
    (['!services', '!listening'], ['os', 'packages', 'restart', 'updates']),
    (['all', '!updates'], ['listening', 'os', 'packages', 'restart', 'services']),
])
def test_subsets(requested, expected):
    assert asset_facts._subsets(_FailingModule(), requested) == expected


def test_unknown_subset():
    with pytest.raises(ValueError, match="unknown subset 'pakages'"):
        asset_facts._subsets(_FailingModule(), ['pakages'])

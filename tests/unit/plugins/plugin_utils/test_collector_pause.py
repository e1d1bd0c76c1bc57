# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import gc

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.collector_pause import cyclic_collector_paused


@pytest.fixture(autouse=True)
def collector_enabled():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_paused_in_the_block_and_runs_again_after():
    with cyclic_collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_runs_again_after_an_error():
    with pytest.raises(KeyError), cyclic_collector_paused():
        raise KeyError('boom')
    assert gc.isenabled()


def test_nested_pauses_end_with_the_outermost():
    with cyclic_collector_paused():
        with cyclic_collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off():
    gc.disable()
    with cyclic_collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_as_a_decorator_it_pauses_each_call():
    @cyclic_collector_paused()
    def state():
        return gc.isenabled()

    assert state() is False and state() is False
    assert gc.isenabled()

"""forked_call: a call in a forked process gives back its value or a named failure, and never outlives its caller."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.forked_call import ForkedCall, ForkedCallFailed


class Expected(Exception):
    pass


def test_the_value_comes_back_and_the_process_is_gone():
    state = {'rows': [1, 2, 3]}
    call = ForkedCall(lambda: {'sum': sum(state['rows']), 'pid': os.getpid()}, name='sum', doing='adding')
    value = call.result()
    assert value['sum'] == 6 and value['pid'] != os.getpid(), 'computed in another process, from what this one had'
    assert multiprocessing.active_children() == []


def test_an_expected_failure_comes_back_with_its_message():
    def fail():
        raise Expected('  the database is locked\n')

    with pytest.raises(ForkedCallFailed, match=r'^the database is locked$') as raised:
        ForkedCall(fail, name='fail', doing='reading', failures=(Expected,)).result()
    assert raised.value.exitcode is None and multiprocessing.active_children() == []


@pytest.mark.parametrize('end, exitcode', [(lambda: os._exit(3), 3), (lambda: 1 / 0, 1), (lambda: os.kill(os.getpid(), 9), -9)])
def test_any_other_end_is_told_by_its_exit_code(end, exitcode):
    with pytest.raises(ForkedCallFailed, match=r'^the process reading them ended without a result \(exit code %s\)$' % exitcode) as raised:
        ForkedCall(end, name='end', doing='reading them', failures=(Expected,)).result()
    assert raised.value.exitcode == exitcode and multiprocessing.active_children() == []


def test_a_call_abandoned_is_stopped_not_waited_for():
    started = time.monotonic()
    call = ForkedCall(lambda: time.sleep(60), name='slow', doing='sleeping')
    call.stop()
    call.stop()
    assert multiprocessing.active_children() == [] and time.monotonic() - started < 30

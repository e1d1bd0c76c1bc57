# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gate before a host is patched, rule by rule."""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_gate import GateRefusal, decide

CHANGE = {'id': 'CHG-2', 'approver': 'alice', 'emergency': False}


def _resolver(calls, refusal=None, change=None):
    def resolve(emergency):
        calls.append(emergency)
        if refusal:
            raise GateRefusal(*refusal)
        return change or CHANGE
    return resolve


# (window open, emergency eligible, approval required, change id, source given, refusal, allowed, code, emergency flags asked)
CASES = [
    (True, False, False, '', False, None, True, None, []),                    # open window, nothing required
    (True, False, True, 'CHG-2', True, None, True, None, [False]),             # approval required and given
    (True, False, True, '', True, None, False, 'no_change_ref', []),
    (True, False, True, 'CHG-2', False, None, False, 'no_change_source', []),
    (True, False, True, 'CHG-2', True, ('expired', 'change CHG-2 ended at 2026-12-01T00:00:00Z'), False, 'expired', [False]),
    (False, False, False, 'CHG-2', True, None, False, 'window_closed', []),    # closed window, no emergency path
    (False, True, False, 'CHG-9', True, None, True, None, [True]),             # emergency path with an emergency change
    (False, True, False, 'CHG-2', True, ('not_emergency', 'change CHG-2 is not an emergency change'), False, 'not_emergency', [True]),
    (False, True, False, '', True, None, False, 'no_change_ref', []),
]


@pytest.mark.parametrize('case', CASES)
def test_gate_rules(case):
    window_open, eligible, required, change_id, source, refusal, allowed, code, asked = case
    calls = []
    answer = decide(window_name='sun-early', window_open=window_open, emergency_eligible=eligible, approval_required=required,
                    change_id=change_id, source_given=source, resolve_change=_resolver(calls, refusal))
    assert answer['allowed'] is allowed and answer['code'] == code
    assert calls == asked, 'the change source is asked only when the run needs a change, with the emergency flag'
    assert answer['emergency'] is (allowed and not window_open)
    assert (answer['change'] is not None) is (allowed and bool(asked))
    if not allowed:
        assert answer['reason']


def test_refusal_reasons_name_the_window_and_the_change():
    answer = decide(window_name='sun-early', window_open=False, emergency_eligible=True, approval_required=False, change_id='CHG-2',
                    source_given=True, resolve_change=_resolver([], ('not_emergency', 'change CHG-2 is not flagged emergency')))
    assert answer['reason'] == ("the maintenance window 'sun-early' is closed; the emergency path needs an approved emergency change: "
                                'change CHG-2 is not flagged emergency')
    answer = decide(window_name='', window_open=True, emergency_eligible=False, approval_required=True, change_id='CHG-3',
                    source_given=False, resolve_change=_resolver([]))
    assert 'no change source is configured to check CHG-3 in' in answer['reason']

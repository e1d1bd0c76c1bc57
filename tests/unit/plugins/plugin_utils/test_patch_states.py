# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.filter.patch_state_counts import patch_state_counts as state_filter
from ansible_collections.patchwise.patching.plugins.plugin_utils.patch_states import STATES, patch_state_counts

SELECTED = [{'name': 'pw-libdemo', 'target': '1.0-2'}, {'name': 'pw-demo-stepped', 'target': '1.0-2'}]
CHANGED = [{'name': 'pw-libdemo', 'from': '1.0-1', 'to': '1.0-2'}, {'name': 'pw-demo-stepped', 'from': '1.0-1', 'to': '1.0-2'},
           {'name': 'pw-newdep', 'from': None, 'to': '1'}]
BASE = {'status': 'changed', 'step': 'post_hooks', 'check_mode': False, 'selected': SELECTED, 'packages': CHANGED,
        'held': [{'name': 'pw-demo-security', 'reason': 'policy hold: freeze'}], 'excluded': [{'name': 'pw-failing', 'pattern': 'pw-fail*'}],
        'unavailable': [{'name': 'openssl', 'installed': False}, {'name': 'pw-old', 'reason': 'the sources offer 1.0, older than 2.0'}],
        'reached': [], 'restart_deferred': [], 'reboot': {'required': False, 'performed': False}}


def _counts(**changes):
    return {state: count for state, count in patch_state_counts(dict(BASE, **changes)).items() if count}


@pytest.mark.parametrize('changes, expected', [
    ({}, {'installed': 2, 'installed_other': 1, 'held': 1, 'rejected': 1, 'missing': 1, 'not_applicable': 1}),
    ({'reached': [{'name': 'pw-x'}]}, {'installed': 3, 'installed_other': 1, 'held': 1, 'rejected': 1, 'missing': 1, 'not_applicable': 1}),
    ({'reboot': {'required': True, 'performed': False}},
     {'pending_reboot': 2, 'installed_other': 1, 'held': 1, 'rejected': 1, 'missing': 1, 'not_applicable': 1}),
    ({'reboot': {'required': True, 'performed': True}, 'restart_deferred': ['pw-demod.service']},
     {'pending_restart': 2, 'installed_other': 1, 'held': 1, 'rejected': 1, 'missing': 1, 'not_applicable': 1}),
    ({'status': 'rolled_back', 'step': 'apply'}, {'failed': 2, 'held': 1, 'rejected': 1, 'missing': 1, 'not_applicable': 1}),
    ({'status': 'failed', 'step': 'precheck', 'packages': []}, {'missing': 3, 'held': 1, 'rejected': 1, 'not_applicable': 1}),
    ({'status': 'refused', 'step': 'gate', 'packages': []}, {'missing': 3, 'held': 1, 'rejected': 1, 'not_applicable': 1}),
    ({'check_mode': True}, {'missing': 3, 'held': 1, 'rejected': 1, 'not_applicable': 1}),
    ({'packages': CHANGED[:1]}, {'installed': 1, 'missing': 2, 'held': 1, 'rejected': 1, 'not_applicable': 1}),
    ({'plan_held': [{'finding': 'CVE-1', 'package': 'pw-demo', 'packages': ['pw-demo-security', 'pw-demo-extra']}]},
     {'installed': 2, 'installed_other': 1, 'held': 2, 'rejected': 1, 'missing': 1, 'not_applicable': 1}),
])
def test_system_counts(changes, expected):
    assert _counts(**changes) == expected


@pytest.mark.parametrize('outcome, expected', [
    ({'applications': [{'name': 'a', 'target': '2', 'current': '2', 'changed': True, 'health': 'passed'},
                       {'name': 'b', 'target': '3', 'current': '3', 'changed': False, 'health': 'skipped'},
                       {'name': 'c', 'target': '5', 'current': '4', 'changed': True, 'health': 'failed', 'rolled_back': True}]},
     {'installed': 2, 'failed': 1}),
    ({'status': 'refused', 'applications': [{'name': 'a', 'target': '2', 'current': '1', 'changed': False}]}, {'missing': 1}),
    ({'planned_missing': [{'name': 'd'}], 'applications': []}, {'missing': 1}),
])
def test_app_counts(outcome, expected):
    assert {state: count for state, count in patch_state_counts(outcome, 'app').items() if count} == expected


def test_every_state_is_always_present_and_bad_input_is_refused():
    assert set(patch_state_counts({})) == set(STATES)
    with pytest.raises(AnsibleFilterError, match='must be a system_patch or app_patch outcome'):
        state_filter('oops')
    with pytest.raises(AnsibleFilterError, match='kind must be system or app'):
        state_filter({}, kind='os')

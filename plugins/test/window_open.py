# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: window_open
short_description: Test whether a host's maintenance window is open now (or at a given time)
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - The input is the name of a maintenance window (the asset register's C(window) of a host); the test is true
    when the moment falls inside the window of that name in O(windows), the policy's C(windows) (see docs/policy.md).
  - An empty name means the host has no maintenance window and may be patched at any time (true); a name that
    O(windows) does not define counts as closed (false), as for the patch plan.
  - A malformed window fails the task with a message naming the key.
options:
  _input:
    description: The window's name.
    type: string
    required: true
  windows:
    description: Window definitions, name -> C({days, time, timezone}), as in the policy.
    type: dict
    required: true
  at:
    description: The moment to test, C(YYYY-MM-DDTHH:MM:SSZ) in UTC; default now.
    type: string
seealso:
  - plugin: patchwise.patching.patch_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Patch only inside the host's window
  ansible.builtin.assert:
    that: patchwise_register.window | default('') is patchwise.patching.window_open(patchwise_policy.windows)
    fail_msg: the maintenance window {{ patchwise_register.window }} is closed

- name: Saturday 23:00 UTC is inside a Saturday-night window that crosses midnight
  ansible.builtin.assert:
    that: "'sat-night' is patchwise.patching.window_open(windows, at='2026-11-28T23:00:00Z')"
  vars:
    windows: {sat-night: {days: [sat], time: "22:00-04:00", timezone: UTC}}
"""

RETURN = r"""
_value:
  description: Whether the window is open at the moment.
  type: boolean
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.plugin_utils.maintenance_windows import in_window, utc
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError, load_policy


def window_open(name, windows, at=None):
    if not name:
        return True
    try:
        windows = load_policy({'windows': dict(windows or {})})['windows']
        moment = utc(at)
    except PolicyError as exc:
        raise AnsibleFilterError('window_open: %s' % exc) from exc
    except ValueError as exc:
        raise AnsibleFilterError('window_open: at=%r is not YYYY-MM-DDTHH:MM:SSZ' % (at,)) from exc
    window = windows.get(str(name))
    return window is not None and in_window(window, moment)


class TestModule:
    def tests(self):
        return {'window_open': window_open}

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper: give a host the facts stored in a JSON file, as a facts module would.

bench/bench_fact_overhead.py needs 200 hosts to carry the fact that
patchwise.patching.asset_facts sets, without running asset_facts 200 times.
The facts are returned under ``ansible_facts``, so Ansible stores them with
set_host_facts exactly as it stores a module's facts (not as set_fact's
host variables).  Not part of the collection's content.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('src',))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        src = self._task.args.get('src')
        try:
            with open(src, encoding='utf-8') as handle:
                facts = json.load(handle)
        except (OSError, TypeError, ValueError) as error:
            raise AnsibleActionFail('bench_host_facts: cannot read facts from %r: %s' % (src, error)) from error
        result.update(changed=False, ansible_facts=facts)
        return result

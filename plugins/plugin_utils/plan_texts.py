# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plans as the asset database stores them: without their run id (their row keeps it), and the copies of one plan
that hosts alike take encoded once (``PlanTexts``)."""

from __future__ import annotations

import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.stored_json import dumps

# Plans (and briefs) one call keeps the text of for the copies that follow: as many as the risk pass shares results
# (risk_pass._SHARED_LIMIT); past this many it starts again.
_PLANS_LIMIT = 32


def plan_text(plan):
    """A plan as stored: without its run id, which the row's ``run_id`` column keeps (``with_run_id`` puts it back).

    A pass that keeps a plan moves the run id on; in the column alone, it does not rewrite the plan (tens of kB).
    """
    return dumps({name: value for name, value in plan.items() if name != 'run_id'} if isinstance(plan, dict) else plan)


class PlanTexts:
    """The stored texts (``plan_text``) of the plans and briefs one call stores.

    Hosts alike take copies of one plan that differ by their host alone, and one brief (risk_pass): a plan is tens
    of kB of JSON, encoded once here with a mark where the host goes; each copy's text is that with its host's name.
    """

    _MARK = '\x00patchwise: the host of a plan\x00'

    def __init__(self):
        # {id(a plan's system part): (the plan, its text before the host, after it)}, {id(brief): (brief, text)}: each
        # kept with its object, so that no other object can have its id meanwhile.
        self._plans, self._briefs = {}, {}

    def plan(self, plan):
        system = plan.get('system') if isinstance(plan, dict) and 'host' in plan else None
        if not isinstance(system, dict):
            return plan_text(plan)
        known = self._plans.get(id(system))
        if known is None or known[0].keys() != plan.keys() or any(
                value is not known[0][name] for name, value in plan.items() if name not in ('host', 'run_id')):
            before, mark, after = plan_text(dict(plan, host=self._MARK)).partition(dumps(self._MARK))
            if not mark or mark in after:
                return plan_text(plan)
            if len(self._plans) >= _PLANS_LIMIT:
                self._plans.clear()
            known = self._plans[id(system)] = (plan, before, after)
        return known[1] + dumps(plan['host']) + known[2]

    def brief(self, brief):
        if brief is None:
            return None
        known = self._briefs.get(id(brief))
        if known is None:
            if len(self._briefs) >= _PLANS_LIMIT:
                self._briefs.clear()
            known = self._briefs[id(brief)] = (brief, dumps(brief))
        return known[1]


def with_run_id(text, run_id):
    """The stored plan ``text`` as the plan it was made as, with the run id of its row (see ``plan_text``)."""
    plan = json.loads(text)
    if isinstance(plan, dict):
        plan['run_id'] = run_id
    return plan

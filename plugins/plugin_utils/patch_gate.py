# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gate before a host is patched: its maintenance window, and an approved change where one is needed.

The same rules for the operating system (``system_patch``) and applications
(``app_patch``):

- inside the window, a host patches when no approval is required, or with an
  approved change that covers it;
- outside the window, only a host on the emergency path (asked for, or its
  tier is an emergency tier) patches, and only with an approved change that
  is flagged emergency;
- anything else is refused with the reason, and the host is left as it is.

A change source that cannot be read (a file with a bad date, an API answering
500) is not a refusal but an error: it propagates, naming the source.
"""

from __future__ import annotations


class GateRefusal(Exception):
    """A change does not approve this run (``code`` says which rule, the message says why in plain words)."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def decide(*, window_name, window_open, emergency_eligible, approval_required, change_id, source_given, resolve_change):
    """``{allowed, reason, code, window, emergency, change, approval_required}`` for one host.

    ``resolve_change(emergency)`` returns the approved change (a mapping) or raises GateRefusal;
    it is called only when the run needs a change.
    """
    answer = {'allowed': False, 'reason': '', 'code': None, 'window': {'name': window_name or '', 'open': bool(window_open)},
              'emergency': False, 'change': None, 'approval_required': bool(approval_required)}
    window_text = "the maintenance window '%s' is closed" % window_name
    if not window_open and not emergency_eligible:
        answer.update(code='window_closed', reason='%s and the host is not on the emergency path' % window_text)
        return answer
    if window_open and not approval_required:
        answer['allowed'] = True
        return answer
    need = ('%s; the emergency path needs an approved emergency change' % window_text if not window_open
            else 'the plan requires an approved change for this host')
    if not change_id:
        answer.update(code='no_change_ref', reason='%s, and no change reference was given (patchwise_change_ref)' % need)
        return answer
    if not source_given:
        answer.update(code='no_change_source',
                      reason='%s, and no change source is configured to check %s in (patchwise_change_source)' % (need, change_id))
        return answer
    try:
        change = resolve_change(not window_open)
    except GateRefusal as refusal:
        answer.update(code=refusal.code, reason='%s: %s' % (need, refusal.reason))
        return answer
    answer.update(allowed=True, change=change, emergency=not window_open)
    return answer

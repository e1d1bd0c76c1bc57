# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A finding's shared detail as the asset database stores it: two shared parts, or (undecided, or from before) whole.

The risk engine decides a detail per raw finding and register class (``risk.RiskEngine._detail``): a fleet's ~100,000
details are made of ~10,000 advisory parts (the raw finding's fields, the reasons its advisory data gives, its score),
shared by every register class, and a few dozen decision parts (the SSVC points, the tables' outcomes, tier, due days
and their reasons), shared by every finding decided alike.  Stored once each and named by a digest of their text
(schema 14), instead of ~1 kB of JSON per detail, the details of a first pass over 1,000 hosts are ~5x less to encode
and write.  A detail no engine decided (a finding given to the store with no ``detail_key``), or stored before schema
14, keeps its whole text in ``finding_details.detail``.
"""

from __future__ import annotations

import hashlib

from ansible_collections.patchwise.patching.plugins.plugin_utils.stored_json import dumps

# Part texts one pass keeps encoded, with their parts: past this many it starts again (a fleet has ~10,000).
_ENCODED_LIMIT = 50000


def merged_detail(detail_key, advisory, decision):
    """The detail made of its ``advisory`` and ``decision`` parts: the advisory's reasons come first."""
    detail = dict(advisory)
    detail.update(decision)
    detail['reasons'] = [*advisory.get('reasons', ()), *decision.get('reasons', ())]
    detail['detail_key'] = detail_key
    return detail


def part_key(text):
    """The key a part is stored under: a digest of its text, so a part decided again alike is the same row."""
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


class DetailRows:
    """What storing a pass's details writes: ``finding_details`` rows, and the parts they name not written yet.

    ``details`` and ``parts``: the engine's ``{detail_key: detail}`` and ``{detail_key: (advisory, decision)}``
    (empty when no engine decided the findings).  ``written``: the detail keys stored under ``decided_under``
    already; ``parted``: those stored as parts under another context.  Each part is encoded once per pass, found by
    its identity (the engine shares one part dict between details); ``take_parts`` hands over those not handed over
    yet.  ``replaced``: whether a row replaces one of ``parted`` (its old parts may be named by no detail now).
    """

    def __init__(self, details, parts, decided_under, written, parted=frozenset()):
        self.details, self.parts, self.decided_under, self.written, self._parted = details, parts, decided_under, written, parted
        self._encoded = {}
        self._handed = set()
        self._pending = {'advisory': [], 'decision': []}
        self.replaced = False

    def _key(self, kind, part):
        known = self._encoded.get(id(part))
        if known is None:
            text = dumps(part)
            if len(self._encoded) >= _ENCODED_LIMIT:
                self._encoded.clear()
            # The part is kept with its key: while it is, no other object can have its id.
            known = self._encoded[id(part)] = (part, part_key(text))
            if (kind, known[1]) not in self._handed:
                self._handed.add((kind, known[1]))
                self._pending[kind].append((known[1], text))
        return known[1]

    def decided(self, detail_key, finding, shared_part):
        """The row of an engine's detail (``shared_part``: the finding's stored part, when the engine kept no detail)."""
        self._written(detail_key)
        parts = self.parts.get(detail_key)
        if parts is None:
            return (detail_key, dumps(self.details.get(detail_key) or shared_part(finding)), self.decided_under, None, None)
        return (detail_key, None, self.decided_under, self._key('advisory', parts[0]), self._key('decision', parts[1]))

    def undecided(self, detail_key, part):
        """The row of a detail no engine decided: its whole text, under no context (every pass writes it again)."""
        self._written(detail_key)
        return (detail_key, dumps(part), None, None, None)

    def _written(self, detail_key):
        self.written.add(detail_key)
        if detail_key in self._parted:
            self.replaced = True

    def take_parts(self):
        """``(advisory rows, decision rows)``: the ``(key, text)`` of the parts named since the last call."""
        taken = self._pending['advisory'], self._pending['decision']
        self._pending = {'advisory': [], 'decision': []}
        return taken


def stored_detail(detail_key, whole, advisory, decision, parse):
    """A detail as read back: its whole text parsed, else its two parts' (``parse``: text -> value, {} when missing)."""
    if whole:
        return parse(whole)
    if advisory is None and decision is None:
        return {}
    return merged_detail(detail_key, parse(advisory) if advisory else {}, parse(decision) if decision else {})


# The columns a reader selects, after ``finding_details d``, to get a detail back with ``stored_detail``.
DETAIL_COLUMNS = 'd.detail, a.part, c.part'
PARTS_JOIN = ('LEFT JOIN finding_advisories a ON a.advisory_key = d.advisory_key '
              'LEFT JOIN finding_decisions c ON c.decision_key = d.decision_key')


def delete_unnamed_parts(db):
    """Delete the parts no detail names any more (details replaced under a new context, or deleted); a scan of the details."""
    db.execute('DELETE FROM finding_advisories WHERE advisory_key NOT IN '
               '(SELECT advisory_key FROM finding_details WHERE advisory_key IS NOT NULL)')
    db.execute('DELETE FROM finding_decisions WHERE decision_key NOT IN '
               '(SELECT decision_key FROM finding_details WHERE decision_key IS NOT NULL)')

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What storing one host's findings writes: its finding rows, the details not written yet, the rows its counts change.

The asset store's risk pass (``AssetStore.store_risk_results``) writes them; hosts alike that share a findings list
(``risk_pass``) write the first one's rows under their own name (``HostRows``).
"""

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.finding_fields import HOST_OWN_FIELDS
from ansible_collections.patchwise.patching.plugins.plugin_utils.stored_json import dumps

# The host's own fields a finding row keeps in ``extra`` when set (with host_reasons when there is more than the due date's):
# those the engine keeps out of shared details, and the policy's hold and acceptance of this host.
_HOST_EXTRAS = ('hold', 'acceptance', *sorted(HOST_OWN_FIELDS))
# Fields of a finding that belong to one host; everything else is shared by the hosts with the same detail_key.
_HOST_FIELDS = frozenset(('status', 'first_seen', 'closed', 'due', 'tier', 'host_reasons', 'reasons', 'host', *_HOST_EXTRAS))
# Shared findings whose stored parts one pass keeps: past this many it starts again.  Kept with their findings (a
# couple of kB each), which the engine may have let go of (risk._MEMO_LIMIT): this bounds what they add to memory.
_STORED_PARTS_LIMIT = 50000


def _host_extra_text(finding):
    """The stored ``extra`` of a finding: its host's own fields that are set, as JSON, or None (most findings)."""
    # Each of _HOST_EXTRAS spelled out: 0.25 us a finding against 0.44 us for any(map(finding.get, _HOST_EXTRAS)), on a
    # million findings a pass (test_finding_rows checks that they are the same fields).
    if not (finding.get('hold') or finding.get('acceptance') or finding.get('distribution_security_update') or finding.get('held_binaries')
            or finding.get('candidate') or finding.get('unfinished_binaries') or len(finding.get('host_reasons') or ()) > 1):
        return None
    extra = {name: finding[name] for name in _HOST_EXTRAS if finding.get(name)}
    if len(finding.get('host_reasons') or ()) > 1:
        extra['host_reasons'] = finding['host_reasons']
    return dumps(extra)


def _shared_part(finding):
    """A finding without its host's own fields: its detail when no engine's detail comes with it."""
    return {name: value for name, value in finding.items() if name not in _HOST_FIELDS}


class HostRows:
    """What one host's findings write (``rows_to_write``), kept for the hosts alike that share its findings list.

    The list is kept with it, so that no other list can have its id meanwhile.  ``host``: the host that wrote the
    rows.  ``tally``: the rows counted once (``FindingCounts.tally``), from the second host that writes them on.
    """

    __slots__ = ('after', 'before', 'findings', 'gone', 'host', 'known', 'opened', 'rows', 'tally')

    def __init__(self, host, findings, known, *, rows, gone, before, after, opened):
        self.host, self.findings, self.known, self.rows, self.gone = host, findings, known, rows, gone
        self.before, self.after, self.opened, self.tally = before, after, opened, None


def rows_to_write(host, findings, known, *, now, details, stored_parts, moved_from):
    """What storing ``host``'s ``findings`` over its ``known`` rows writes: ``(HostRows, detail_rows, decided)``.

    The ``HostRows``: ``rows``, the finding rows to insert or replace (those unchanged are left as they are);
    ``gone``, the keys of the known rows not fixed that no finding names any more; ``before`` and ``after``, the
    counted rows as stored and as written (``FindingCounts.count``); ``opened``, how many findings are (re)opened.
    ``detail_rows``: the ``finding_details`` rows not written yet (``details``, a ``finding_details.DetailRows``,
    knows which; not kept with the rows: hosts alike find them written); ``decided``: whether an engine decided
    every detail (the rows name no detail of this host's own).  Sets each finding's status and first seen; adds to
    ``stored_parts`` and ``moved_from`` (the detail keys rows no longer name).
    """
    written = details.written
    current = set()
    rows, detail_rows = [], []
    opened = 0
    all_decided = True
    # The counts of this host's rows as stored (before) and as written (after), for the finding counts.
    before, after = [], []
    for finding in findings:
        key = (finding['id'], finding['package'])
        current.add(key)
        stored = known.get(key)
        if stored is None or stored[0] == 'fixed':
            first_seen = now
            opened += 1
        else:
            first_seen = stored[1]
        status = finding['status'] = finding.get('status') or 'open'
        finding['first_seen'] = first_seen
        known_parts = stored_parts.get(id(finding))
        if known_parts is not None:
            stored_as = known_parts[1]
        else:
            detail_key = finding.get('detail_key')
            decided = detail_key is not None
            if not decided:
                # Not decided by an engine: the finding's own fields, under no context, written by every pass.
                all_decided = False
                detail_key = '%s|%s|%s' % (host, key[0], key[1])
                if detail_key not in written:
                    detail_rows.append(details.undecided(detail_key, _shared_part(finding)))
            elif detail_key not in written:
                detail_rows.append(details.decided(detail_key, finding, _shared_part))
            stored_as = (finding.get('kind', 'os'), finding.get('tier'), finding.get('due'), detail_key, _host_extra_text(finding))
            if decided:
                if len(stored_parts) >= _STORED_PARTS_LIMIT:
                    stored_parts.clear()
                # The finding is kept with its parts: while it is, no other object can have its id.
                stored_parts[id(finding)] = (finding, stored_as)
        row = (status, first_seen, *stored_as)
        if stored is None or row != stored[:7]:  # a steady fleet rewrites nothing
            rows.append((host, key[0], key[1], *row))
            if stored is not None:
                before.append(stored)
                if stored[5] is not None and stored[5] != row[5]:
                    moved_from.add(stored[5])
            after.append((*row, None))
    gone = [key for key, stored in known.items() if key not in current and stored[0] != 'fixed']
    for fid, pkg in gone:
        stored = known[(fid, pkg)]
        before.append(stored)
        after.append(('fixed', *stored[1:7], now))
    return HostRows(host, findings, known, rows=rows, gone=gone, before=before, after=after, opened=opened), detail_rows, all_decided

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Random assess passes over a few hosts: findings opened, decided again (tier, due date, status, detail), fixed
and reopened from one pass to the next, as the store receives them from the risk engine."""

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

# The passes' moments, a day apart.
TIMES = ['2026-11-%02dT02:00:00Z' % day for day in range(1, 29)]
_DUE_CLASSES = ('3DF', '3D', '14D', '60D', 'FSU', None)


def _finding(rng, number):
    """One of a small pool of findings, with what a pass may decide differently each time."""
    status = rng.choice(('open', 'open', 'open', 'accepted'))
    finding = {'id': 'CVE-2099-%04d' % number, 'package': 'pkg%d' % (number % 7), 'kind': rng.choice(('os', 'os', 'app')),
               'tier': rng.choice(('critical', 'high', 'medium', 'low', None)), 'due': rng.choice(('2026-11-10', '2026-12-01', None)),
               'status': status, 'decision': 'O', 'due_class': rng.choice(_DUE_CLASSES), 'installed': '1.0', 'fixed': '1.1',
               'kev': {'due': '2026-11-05'} if number % 5 == 0 else None}
    if rng.random() < 0.3:
        finding['detail_key'] = 'shared|%d|%s' % (number, finding['tier'])
    if status == 'accepted':
        finding['acceptance'] = {'owner': 'risk-board', 'reason': 'compensating control', 'expires': rng.choice(('2026-12-05', '2027-01-31'))}
    if rng.random() < 0.1:
        finding['hold'] = {'until': '2026-12-31', 'reason': 'vendor regression'}
    return finding


def random_pass(rng, hosts):
    """``{host: risk result}`` for a random part of ``hosts``."""
    results = {}
    for host in rng.sample(hosts, rng.randint(1, len(hosts))):
        findings = [_finding(rng, number) for number in rng.sample(range(12), rng.randint(0, 8))]
        results[host] = {'tier': 'high', 'findings': findings}
    return results


def random_fleet(path, rng, hosts=6, passes=8):
    """An asset database at ``path``: ``hosts`` hosts with records, assessed ``passes`` times; returns ``path``."""
    names = ['host%d' % number for number in range(hosts)]
    with AssetStore(path) as store:
        store.store_records({name: record(name, collected_at=TIMES[0]) for name in names}, run_id='discover', now=TIMES[0])
        for now in TIMES[:passes]:
            store.store_risk_results(random_pass(rng, names), run_id=now, now=now)
    return path

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CVSS v3.x base scores from vector strings (FIRST's CVSS v3.1 specification, section 7).

Feeds such as OSV carry the vector, not always the score; the risk engine
needs both.  CVSS v4.0 scores come from large lookup tables and are not
computed here: ``base_score`` returns None for them and callers keep the vector.
"""

from __future__ import annotations

import math

_WEIGHTS = {
    'AV': {'N': 0.85, 'A': 0.62, 'L': 0.55, 'P': 0.2},
    'AC': {'L': 0.77, 'H': 0.44},
    'UI': {'N': 0.85, 'R': 0.62},
    'C': {'H': 0.56, 'L': 0.22, 'N': 0.0},
    'I': {'H': 0.56, 'L': 0.22, 'N': 0.0},
    'A': {'H': 0.56, 'L': 0.22, 'N': 0.0},
}
# Privileges Required weighs more when the scope changes.
_PRIVILEGES = {'U': {'N': 0.85, 'L': 0.62, 'H': 0.27}, 'C': {'N': 0.85, 'L': 0.68, 'H': 0.5}}
_BASE_METRICS = ('AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A')


def parse_vector(vector):
    """Split a CVSS vector into its metrics; raise ValueError when it is malformed."""
    if not isinstance(vector, str) or not vector.startswith('CVSS:'):
        raise ValueError('invalid CVSS vector %r: it must start with "CVSS:<version>/"' % (vector,))
    parts = vector.split('/')
    metrics = {'version': parts[0][5:]}
    for part in parts[1:]:
        key, colon, value = part.partition(':')
        if not colon or not key or not value or key in metrics:
            raise ValueError('invalid CVSS vector %r: bad or repeated metric %r' % (vector, part))
        metrics[key] = value
    return metrics


def _roundup(value):
    # CVSS v3.1 Roundup: the smallest number with one decimal >= value,
    # computed on integers to avoid floating-point surprises.
    as_int = round(value * 100000)
    if as_int % 10000 == 0:
        return as_int / 100000.0
    return (math.floor(as_int / 10000) + 1) / 10.0


def base_score(vector):
    """The base score of a CVSS v3.0/v3.1 vector; None for other versions."""
    metrics = parse_vector(vector)
    if metrics['version'] not in ('3.0', '3.1'):
        return None
    try:
        scope = metrics['S']
        weights = {key: _WEIGHTS[key][metrics[key]] for key in _WEIGHTS}
        privileges = _PRIVILEGES[scope][metrics['PR']]
    except KeyError as exc:
        raise ValueError('invalid CVSS vector %r: missing or unknown value for %s' % (vector, exc)) from None
    iss = 1 - (1 - weights['C']) * (1 - weights['I']) * (1 - weights['A'])
    if scope == 'U':
        impact = 6.42 * iss
    else:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    exploitability = 8.22 * weights['AV'] * weights['AC'] * privileges * weights['UI']
    if impact <= 0:
        return 0.0
    if scope == 'U':
        return _roundup(min(impact + exploitability, 10))
    return _roundup(min(1.08 * (impact + exploitability), 10))


def is_automatable(vector):
    """SSVC's Automatable proxy: network reachable, low complexity, no privileges, no user action."""
    metrics = parse_vector(vector)
    return (metrics.get('AV'), metrics.get('AC'), metrics.get('PR'), metrics.get('UI')) == ('N', 'L', 'N', 'N')


def is_total_impact(vector):
    """SSVC's Technical Impact ``total`` proxy: high C, I and A impact, or a scope change."""
    metrics = parse_vector(vector)
    if metrics.get('S') == 'C':
        return True
    if metrics['version'].startswith('4'):
        return (metrics.get('VC'), metrics.get('VI'), metrics.get('VA')) == ('H', 'H', 'H')
    return (metrics.get('C'), metrics.get('I'), metrics.get('A')) == ('H', 'H', 'H')

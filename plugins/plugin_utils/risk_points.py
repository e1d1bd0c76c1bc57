# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SSVC decision point values derived from one finding and the host's register entry.

A finding here is a dict with the advisory facts the engine has: ``cvss`` {score,
vector}, ``epss`` (probability 0..1 or None), ``kev`` ({added, due} or None),
``exploit_public`` (a public exploit reference is known) and ``vulnrichment``
(the CISA ADP SSVC options of CVE JSON 5, either the ``options`` list
``[{"Exploitation": "poc"}, ...]`` or a flat dict). Vulnrichment values win over
values computed from other data because they are an analyst's decision.

The register entry gives ``exposure`` (internet|internal|isolated) and
``criticality`` (low|medium|high|very_high). When a point cannot be derived, the
policy's default is used and a reason says so; ``CONSERVATIVE_DEFAULTS`` are the
documented defaults (the worst case, so missing data never lowers a priority).
"""

from __future__ import annotations

KEV = 'cisa:KEV:1.0.0'
PUBLICLY_EXPOSED = 'cisa:PE:1.0.0'
EXPLOITATION = 'ssvc:E:1.1.0'
SYSTEM_EXPOSURE = 'ssvc:EXP:1.0.1'
AUTOMATABLE = 'ssvc:A:2.0.0'
TECHNICAL_IMPACT = 'ssvc:TI:1.0.0'
HUMAN_IMPACT = 'ssvc:HI:2.0.2'
MISSION_WELLBEING = 'ssvc:MWI:1.0.0'

DERIVABLE_POINTS = frozenset((KEV, PUBLICLY_EXPOSED, EXPLOITATION, SYSTEM_EXPOSURE, AUTOMATABLE, TECHNICAL_IMPACT,
                              HUMAN_IMPACT, MISSION_WELLBEING))

CONSERVATIVE_DEFAULTS = {
    PUBLICLY_EXPOSED: 'Y',
    SYSTEM_EXPOSURE: 'O',
    AUTOMATABLE: 'Y',
    TECHNICAL_IMPACT: 'T',
    HUMAN_IMPACT: 'VH',
    MISSION_WELLBEING: 'H',
}

EXPOSURE_VALUES = {
    'internet': {PUBLICLY_EXPOSED: 'Y', SYSTEM_EXPOSURE: 'O'},
    'internal': {PUBLICLY_EXPOSED: 'N', SYSTEM_EXPOSURE: 'C'},
    'isolated': {PUBLICLY_EXPOSED: 'N', SYSTEM_EXPOSURE: 'S'},
}
CRITICALITY_VALUES = {
    'low': {HUMAN_IMPACT: 'L', MISSION_WELLBEING: 'L'},
    'medium': {HUMAN_IMPACT: 'M', MISSION_WELLBEING: 'M'},
    'high': {HUMAN_IMPACT: 'H', MISSION_WELLBEING: 'H'},
    'very_high': {HUMAN_IMPACT: 'VH', MISSION_WELLBEING: 'H'},
}
VULNRICHMENT_EXPLOITATION = {'none': 'N', 'poc': 'P', 'active': 'A'}
VULNRICHMENT_YES_NO = {'yes': 'Y', 'no': 'N'}
VULNRICHMENT_IMPACT = {'partial': 'P', 'total': 'T'}
AUTOMATABLE_METRICS = {'AV': 'N', 'AC': 'L', 'PR': 'N', 'UI': 'N'}


def vulnrichment_options(finding):
    """Flatten the Vulnrichment SSVC options to {name lower-case: value lower-case}."""
    options = finding.get('vulnrichment') or {}
    if isinstance(options, list):
        merged = {}
        for option in options:
            merged.update(option)
        options = merged
    return {str(name).lower(): str(value).lower() for name, value in options.items()}


def vector_metrics(vector):
    """``CVSS:3.1/AV:N/AC:L/...`` -> {'AV': 'N', 'AC': 'L', ...}; empty for no vector."""
    metrics = {}
    for part in (vector or '').split('/'):
        name, sep, value = part.partition(':')
        if sep and name != 'CVSS':
            metrics[name] = value
    return metrics


def _exploitation(finding, epss_threshold, options, reasons):
    if finding.get('kev'):
        reasons.append('exploitation active: listed in CISA KEV')
        return 'A'
    if options.get('exploitation') in VULNRICHMENT_EXPLOITATION:
        reasons.append('exploitation %s: CISA Vulnrichment' % options['exploitation'])
        return VULNRICHMENT_EXPLOITATION[options['exploitation']]
    epss = finding.get('epss')
    if epss is not None and epss >= epss_threshold:
        reasons.append('exploitation public PoC: EPSS %.3f >= %.3f' % (epss, epss_threshold))
        return 'P'
    if finding.get('exploit_public'):
        reasons.append('exploitation public PoC: public exploit reference')
        return 'P'
    return 'N'


def _from_vector(finding, options, reasons, defaults, values):
    metrics = vector_metrics((finding.get('cvss') or {}).get('vector'))
    if options.get('automatable') in VULNRICHMENT_YES_NO:
        values[AUTOMATABLE] = VULNRICHMENT_YES_NO[options['automatable']]
        reasons.append('automatable %s: CISA Vulnrichment' % options['automatable'])
    elif metrics:
        automatable = all(metrics.get(name) == value for name, value in AUTOMATABLE_METRICS.items())
        values[AUTOMATABLE] = 'Y' if automatable else 'N'
        if automatable:
            reasons.append('automatable: CVSS AV:N/AC:L/PR:N/UI:N')
    else:
        values[AUTOMATABLE] = defaults[AUTOMATABLE]
        reasons.append('automatable %s: policy default, no CVSS vector' % defaults[AUTOMATABLE])
    if options.get('technical impact') in VULNRICHMENT_IMPACT:
        values[TECHNICAL_IMPACT] = VULNRICHMENT_IMPACT[options['technical impact']]
        reasons.append('technical impact %s: CISA Vulnrichment' % options['technical impact'])
    elif metrics:
        total = metrics.get('S') == 'C' or all(metrics.get(name) == 'H' for name in ('C', 'I', 'A'))
        values[TECHNICAL_IMPACT] = 'T' if total else 'P'
        if total:
            reasons.append('technical impact total: CVSS %s' % ('scope changed' if metrics.get('S') == 'C' else 'C:H/I:H/A:H'))
    else:
        values[TECHNICAL_IMPACT] = defaults[TECHNICAL_IMPACT]
        reasons.append('technical impact %s: policy default, no CVSS vector' % defaults[TECHNICAL_IMPACT])


def _from_register(register, reasons, defaults, values):
    exposure = (register or {}).get('exposure')
    if exposure in EXPOSURE_VALUES:
        values.update(EXPOSURE_VALUES[exposure])
    else:
        for point in (PUBLICLY_EXPOSED, SYSTEM_EXPOSURE):
            values[point] = defaults[point]
        reasons.append('exposure: policy default (register has no exposure)')
    criticality = (register or {}).get('criticality')
    if criticality in CRITICALITY_VALUES:
        values.update(CRITICALITY_VALUES[criticality])
    else:
        for point in (HUMAN_IMPACT, MISSION_WELLBEING):
            values[point] = defaults[point]
        reasons.append('impact: policy default (register has no criticality)')


def finding_points(finding, epss_threshold, defaults=None):
    """Return ({point id: value key}, [reasons]) of the points the finding alone decides: KEV, exploitation,
    automatable and technical impact (the same for every host that has the finding)."""
    effective_defaults = dict(CONSERVATIVE_DEFAULTS, **(defaults or {}))
    options = vulnrichment_options(finding)
    reasons = []
    values = {KEV: 'Y' if finding.get('kev') else 'N'}
    values[EXPLOITATION] = _exploitation(finding, epss_threshold, options, reasons)
    _from_vector(finding, options, reasons, effective_defaults, values)
    return values, reasons


def register_points(register, defaults=None):
    """Return ({point id: value key}, [reasons]) of the points the host's register entry decides: exposure and impact."""
    values, reasons = {}, []
    _from_register(register, reasons, dict(CONSERVATIVE_DEFAULTS, **(defaults or {})), values)
    return values, reasons


def derive_points(finding, register, epss_threshold, defaults=None):
    """Return ({point id: value key} for every derivable point, [reasons])."""
    values, reasons = finding_points(finding, epss_threshold, defaults)
    register_values, register_reasons = register_points(register, defaults)
    values.update(register_values)
    return values, reasons + register_reasons

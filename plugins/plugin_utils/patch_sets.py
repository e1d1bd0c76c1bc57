# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Frozen patch sets: the exact updates tested in one stage, installed as they are in the next.

A set is frozen from the stored plans of a stage's hosts - the updates the baseline made eligible -
as one target version per package and OS ecosystem (and per application), the newest any host's plan
names.  It is immutable: its content has a digest recorded at freeze time, and a set whose stored
content no longer matches it is refused.  A patch run given a set installs, of the set's packages
the host has, exactly the frozen versions, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import re

from ansible_collections.patchwise.patching.plugins.module_utils.asset_apps import normalize_pypi_name
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions, scheme_for_ecosystem

SET_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$')


class PatchSetRefused(Exception):
    """A patch set may not be used as asked; the message names the set and why."""


def _scheme(ecosystem):
    try:
        return scheme_for_ecosystem(ecosystem)
    except ValueError:
        return 'generic'


def _later(ecosystem, left, right):
    if right is None:
        return left
    try:
        return left if compare_versions(left, right, _scheme(ecosystem)) > 0 else right
    except ValueError:
        return max(left, right)


def set_content(plans, ecosystems):
    """The content of a set frozen from ``plans`` ({host: plan}) of hosts whose OS ecosystem is ``ecosystems[host]``.

    ``{'system': {ecosystem: {package: version}}, 'applications': {ecosystem: {name: version}}, 'hosts': [...]}``.
    """
    system, applications = {}, {}
    for host, plan in sorted(plans.items()):
        ecosystem = ecosystems.get(host) or ''
        packages = system.setdefault(ecosystem, {})
        for entry in (plan.get('system') or {}).get('packages') or []:
            packages[entry['name']] = _later(ecosystem, entry['target'], packages.get(entry['name']))
        for app in plan.get('applications') or []:
            apps = applications.setdefault(app.get('ecosystem') or '', {})
            apps[app['name']] = _later(app.get('ecosystem'), app['target'], apps.get(app['name']))
    return {'system': {eco: dict(sorted(pkgs.items())) for eco, pkgs in sorted(system.items()) if pkgs},
            'applications': {eco: dict(sorted(apps.items())) for eco, apps in sorted(applications.items()) if apps},
            'hosts': sorted(plans)}


def content_digest(set_id, content):
    """SHA-256 over the set's id and canonical content: recorded at freeze time, checked on every use."""
    text = json.dumps({'id': set_id, 'content': content}, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def checked(stored):
    """The stored set (``AssetStore.patch_set``), refused when its content no longer has its frozen digest."""
    if content_digest(stored['id'], stored['content']) != stored['digest']:
        raise PatchSetRefused('patch set %s was changed after it was frozen (its content no longer matches the digest %s recorded '
                              'then): refusing to install from it; freeze a new set' % (stored['id'], stored['digest']))
    return stored


def host_packages(patch_set, record):
    """``[{name, target}]`` of the set's packages for the host of ``record`` (those it has installed), or PatchSetRefused."""
    ecosystem = ((record or {}).get('os') or {}).get('ecosystem') or ''
    system = patch_set['content']['system']
    if ecosystem not in system:
        raise PatchSetRefused('patch set %s holds no updates for %s (it was frozen for %s): refusing to patch this host from it'
                              % (patch_set['id'], ecosystem or 'an unknown OS ecosystem', ', '.join(sorted(system)) or 'no OS ecosystem'))
    installed = {package.get('name') for package in (record or {}).get('packages') or [] if isinstance(package, dict)}
    return [{'name': name, 'target': version} for name, version in system[ecosystem].items() if name in installed]


def _app_key(ecosystem, name):
    # PyPI names compare in their normalised form (Django, django and django_ are one project); others as written.
    return (ecosystem, normalize_pypi_name(name) if (ecosystem or '').split(':', 1)[0] == 'PyPI' else name)


def host_applications(patch_set, record):
    """``[{name, current, target, ecosystem, scheme}]``: the set's applications that the host of ``record`` runs.

    An application counts when the host's record has it under the same name in the same ecosystem.  Applications the
    set does not hold are left out (a set never widens a run); a set holding none of the host's is not an error.
    """
    frozen = {}
    for ecosystem, apps in (patch_set['content'].get('applications') or {}).items():
        for name, version in apps.items():
            frozen[_app_key(ecosystem, name)] = (name, version)
    selected = {}
    for app in (record or {}).get('applications') or []:
        if not isinstance(app, dict) or not app.get('name'):
            continue
        ecosystem = app.get('ecosystem') or 'generic'
        hit = frozen.get(_app_key(ecosystem, app['name']))
        if hit is not None:
            selected[hit[0]] = {'name': hit[0], 'current': app.get('version'), 'target': hit[1], 'ecosystem': ecosystem,
                                'scheme': _scheme(ecosystem)}
    return [selected[name] for name in sorted(selected)]

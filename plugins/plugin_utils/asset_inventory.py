# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hosts, host variables and groups built from the asset database and the register.

``inventory_hosts(store_rows, register)`` yields ``(host, vars, groups)``
for the ``patchwise.patching.assets`` inventory plugin: plain data, so the
plugin can cache it and the tests can check it without an inventory.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r'[^A-Za-z0-9_]')


def group_name(prefix, value):
    """``prefix_value`` with everything but letters, digits and ``_`` replaced by ``_``, lower-cased."""
    return _UNSAFE.sub('_', '%s_%s' % (prefix, value)).lower()


def _major(version):
    return str(version or '').split('.', maxsplit=1)[0]


def host_entry(row, register_entry):
    """One host's variables and groups from its store row (or None) and register entry (or None)."""
    host_vars, groups = {}, []
    if register_entry:
        host_vars['patchwise_register'] = register_entry
        if register_entry.get('address'):
            host_vars['ansible_host'] = register_entry['address']
        for key, prefix in (('environment', 'env'), ('criticality', 'criticality'), ('exposure', 'exposure'),
                            ('window', 'window'), ('patch_group', 'patch_group')):
            if register_entry.get(key):
                groups.append(group_name(prefix, register_entry[key]))
    if row is not None:
        summary = row['summary']
        os_info = summary.get('os') or {}
        counts = summary.get('counts') or {}
        host_vars.update({
            'patchwise_os': os_info,
            'patchwise_kernel': summary.get('kernel') or {},
            'patchwise_first_seen': row['first_seen'],
            'patchwise_last_seen': row['last_seen'],
            'patchwise_stale': row['stale'],
            'patchwise_pending_updates': counts.get('updates', 0),
            'patchwise_security_updates': counts.get('security_updates', 0),
            'patchwise_reboot_required': bool(summary.get('reboot_required')),
            'patchwise_applications': summary.get('applications') or [],
        })
        if os_info.get('family'):
            groups.append(group_name('os', os_info['family']))
        # The os-release ID (debian, ubuntu, rhel), not its NAME ("Debian GNU/Linux").
        distribution = os_info.get('id') or os_info.get('distribution')
        if distribution and os_info.get('version'):
            groups.append(group_name('os', '%s_%s' % (distribution, _major(os_info['version']))))
        groups.extend(group_name('app', app['name']) for app in summary.get('applications') or [] if app.get('name'))
        if counts.get('security_updates'):
            groups.append('pending_security')
        if summary.get('reboot_required'):
            groups.append('reboot_required')
        if row['stale']:
            groups.append('stale')
        if row.get('tier'):
            host_vars['patchwise_risk_tier'] = row['tier']
            host_vars['patchwise_risk_due'] = row.get('due')
            groups.append(group_name('risk', row['tier']))
    return host_vars, sorted(set(groups))


def inventory_hosts(store_rows, register):
    """Yield ``(host, vars, groups)`` for every host in the database (in its order), then the register's others."""
    register = register or {}
    seen = set()
    for row in store_rows:
        seen.add(row['name'])
        yield (row['name'], *host_entry(row, register.get(row['name'])))
    for name in sorted(set(register) - seen):
        yield (name, *host_entry(None, register[name]))

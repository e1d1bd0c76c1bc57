# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet summary printed after discovery: hosts, packages, pending (security) updates, reboots."""

from __future__ import annotations


def fleet_summary(hosts):
    """Totals over ``AssetStore.hosts()`` rows (any iterable of them, read once)."""
    summary = {'hosts': 0, 'packages': 0, 'pending_updates': 0, 'security_updates': 0,
               'hosts_with_security_updates': [], 'reboot_required': [], 'restart_services': {}, 'stale': []}
    for host in hosts:
        summary['hosts'] += 1
        counts = host['summary'].get('counts') or {}
        summary['packages'] += counts.get('packages', 0)
        summary['pending_updates'] += counts.get('updates', 0)
        summary['security_updates'] += counts.get('security_updates', 0)
        if counts.get('security_updates'):
            summary['hosts_with_security_updates'].append(host['name'])
        if host['summary'].get('reboot_required'):
            summary['reboot_required'].append(host['name'])
        if host['summary'].get('restart_services'):
            summary['restart_services'][host['name']] = host['summary']['restart_services']
        if host['stale']:
            summary['stale'].append(host['name'])
    return summary

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Asset records shaped like asset_facts' output, for the store's tests."""

from __future__ import annotations

import copy

BASE = {
    'schema': 1,
    'collected_at': '2026-11-01T10:00:00Z',
    'host': {'hostname': 'web01', 'fqdn': 'web01.example.org', 'machine_id': 'a' * 32},
    'os': {'family': 'debian', 'distribution': 'Debian GNU/Linux', 'id': 'debian', 'version': '12', 'codename': 'bookworm', 'arch': 'amd64',
           'pkg_mgr': 'apt', 'ecosystem': 'Debian:12'},
    'kernel': {'running': '6.1.0-25-amd64', 'latest_installed': '6.1.0-25-amd64'},
    'packages': [
        {'name': 'openssl', 'version': '3.0.14-1~deb12u1', 'arch': 'amd64', 'source_name': 'openssl', 'source_version': '3.0.14-1~deb12u1'},
        {'name': 'libssl3', 'version': '3.0.14-1~deb12u1', 'arch': 'amd64', 'source_name': 'openssl', 'source_version': '3.0.14-1~deb12u1'},
        {'name': 'bash', 'version': '5.2.15-2+b7', 'arch': 'amd64', 'source_name': 'bash', 'source_version': '5.2.15-2'},
    ],
    'service_manager': 'systemd',
    'services': [{'name': 'ssh.service', 'state': 'running', 'enabled': 'enabled'},
                 {'name': 'cron.service', 'state': 'running', 'enabled': 'enabled'}],
    'listening': [{'proto': 'tcp', 'address': '0.0.0.0', 'port': 22, 'process': 'sshd'}],
    'applications': [],
    'updates': [{'name': 'openssl', 'current': '3.0.14-1~deb12u1', 'available': '3.0.15-1~deb12u1', 'security': True,
                 'origin': 'Debian-Security:bookworm-security'}],
    'restart': {'reboot_required': False, 'reasons': [], 'services': [],
                'processes': []},
    'collected': ['listening', 'os', 'packages', 'restart', 'services', 'updates'],
}


def record(hostname='web01', **changes):
    """A copy of BASE for ``hostname`` with top-level keys replaced."""
    made = copy.deepcopy(BASE)
    made['host'] = dict(made['host'], hostname=hostname, fqdn=hostname + '.example.org')
    made.update(copy.deepcopy(changes))
    return made

#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: asset_facts
short_description: Discover what runs on a host - OS, packages, services, sockets, pending updates, restart needs
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Collects the asset record of the host (schema 1, see the collection's design document) on Debian/Ubuntu
    (dpkg/apt) and RHEL-family (rpm/dnf) systems. It only reads; it never changes the host.
  - Installed packages come from one C(dpkg-query) (or C(rpm -qa)) call, with the source package name and
    version, since Debian files advisories against source packages.
  - Pending updates come from C(apt-get -s dist-upgrade); an update is a security update when its candidate
    comes from the C(Debian-Security) label or a C(*-security) suite, the rule unattended-upgrades uses. The
    package lists are not refreshed unless O(update_cache=true).
  - Services come from systemd when it runs as PID 1; without it (in most containers) the record says
    C(service_manager=none) and lists no services.
  - Restart needs follow needrestart's method - processes that still map deleted or replaced shared
    libraries, mapped to their systemd units - plus C(/var/run/reboot-required) and a newer installed kernel
    than the running one.
  - A large fact makes every later task of the host slower, so by default only a summary goes to
    C(ansible_facts.patchwise); the full record is returned as RV(record) for the asset store.
    Set O(facts_detail=full) to put the whole record in the facts.
  - Works in C(FACTS_MODULES) so C(gather_facts) collects it.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.FACTS
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode runs it as usual.
  diff_mode:
    support: none
  facts:
    support: full
options:
  gather_subset:
    description:
      - What to collect. V(all), or any of V(os), V(packages), V(services), V(listening), V(updates),
        V(restart); prefix with V(!) to leave one out of V(all). V(os) is always collected.
    type: list
    elements: str
    default: [all]
  update_cache:
    description: Refresh the package lists before looking for updates (C(apt-get update)). This is the only
      change the module can make, so it reports C(changed) when it does it.
    type: bool
    default: false
  facts_detail:
    description:
      - V(summary) puts counts and the pending security updates in C(ansible_facts.patchwise); V(full) puts the
        whole record there. The full record is always returned as RV(record).
    type: str
    default: summary
    choices: [summary, full]
notes:
  - Run with privileges (C(become)) to see every process's mapped libraries and sockets.
"""

EXAMPLES = r"""
- name: Discover the host
  patchwise.patching.asset_facts:
  register: discovered

- name: Only packages and pending updates, refreshing the package lists first
  patchwise.patching.asset_facts:
    gather_subset: [packages, updates]
    update_cache: true
  become: true

- name: Pending security updates
  ansible.builtin.debug:
    msg: "{{ ansible_facts.patchwise.updates_security }}"
"""

RETURN = r"""
record:
  description: The full asset record (schema 1).
  returned: always
  type: dict
  contains:
    schema:
      description: Record format version.
      type: int
      sample: 1
    collected_at:
      description: When it was collected, in UTC (ISO 8601).
      type: str
    host:
      description: The host's hostname, fqdn and machine_id.
      type: dict
    os:
      description: family, distribution, id, version, codename, arch, pkg_mgr and the OSV ecosystem (such as C(Debian:12)).
      type: dict
    kernel:
      description: The running and latest_installed kernel releases.
      type: dict
    packages:
      description: Installed packages - name, version, arch, source_name, source_version, held.
      type: list
      elements: dict
    service_manager:
      description: C(systemd) or C(none).
      type: str
    services:
      description: Services with their name, state and enabled status.
      type: list
      elements: dict
    listening:
      description: Listening sockets - proto, address, port, process (empty when not permitted to see it).
      type: list
      elements: dict
    applications:
      description: Discovered applications (this version of the module does not discover any yet).
      type: list
      elements: dict
    updates:
      description: Pending updates - name, current, available, security, origin.
      type: list
      elements: dict
    restart:
      description: reboot_required, reasons, services (units to restart) and processes (pid, process, unit, libraries).
      type: dict
    collected:
      description: The subsets collected.
      type: list
      elements: str
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: complex
  contains:
    patchwise:
      description:
        - With O(facts_detail=summary) - schema, collected_at, host, os, kernel, counts (packages, services,
          updates, security updates), updates_security (names), and restart. With V(full) - the record.
      type: dict
"""

import datetime
import os
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils import asset_runtime, asset_system
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

SUBSETS = ('os', 'packages', 'services', 'listening', 'updates', 'restart')


def _subsets(module, requested):
    chosen = set()
    for item in requested:
        name = item[1:] if item.startswith('!') else item
        if name != 'all' and name not in SUBSETS:
            module.fail_json(msg='gather_subset: unknown subset %r; use all or %s' % (item, ', '.join(SUBSETS)))
    if 'all' in requested or all(item.startswith('!') for item in requested):
        chosen.update(SUBSETS)
    chosen.update(item for item in requested if not item.startswith('!') and item != 'all')
    chosen.difference_update(item[1:] for item in requested if item.startswith('!'))
    chosen.add('os')
    return sorted(chosen)


def _read(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return handle.read()
    except OSError:
        return ''


def _run(module, args, environ=None):
    rc, out, err = module.run_command(args, environ_update=environ or {'LC_ALL': 'C'})
    if rc != 0:
        module.fail_json(msg='%s failed (rc=%d): %s' % (' '.join(args), rc, err.strip()[:500]))
    return out


def main():
    module = AnsibleModule(
        argument_spec={
            'gather_subset': {'type': 'list', 'elements': 'str', 'default': ['all']},
            'update_cache': {'type': 'bool', 'default': False},
            'facts_detail': {'type': 'str', 'default': 'summary', 'choices': ['summary', 'full']},
        },
        supports_check_mode=True,
    )
    subsets = _subsets(module, module.params['gather_subset'])
    changed = False
    os_info = asset_system.os_identity(asset_system.parse_os_release(_read('/etc/os-release')), asset_system.machine_arch())
    if os_info['pkg_mgr'] == 'apt':
        dpkg_arch = module.get_bin_path('dpkg')
        if dpkg_arch:
            os_info['arch'] = _run(module, [dpkg_arch, '--print-architecture']).strip()
    record = {
        'schema': 1,
        'collected_at': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'host': {'hostname': socket.gethostname(), 'fqdn': socket.getfqdn(), 'machine_id': _read('/etc/machine-id').strip()},
        'os': os_info,
        'kernel': {'running': os.uname().release, 'latest_installed': None},
        'packages': [],
        'service_manager': 'systemd' if os.path.isdir('/run/systemd/system') else 'none',
        'services': [],
        'listening': [],
        'applications': [],
        'updates': [],
        'restart': {'reboot_required': False, 'reasons': [], 'services': [], 'processes': []},
        'collected': subsets,
    }
    kernels = asset_system.installed_kernels()
    record['kernel']['latest_installed'] = asset_system.newest_kernel(kernels, lambda a, b: compare_versions(a, b, 'generic'))

    if 'packages' in subsets:
        if os_info['pkg_mgr'] == 'apt':
            out = _run(module, [module.get_bin_path('dpkg-query', required=True), '-W', '-f', asset_system.DPKG_QUERY_FORMAT])
            record['packages'] = asset_system.parse_dpkg_query(out)
        elif os_info['pkg_mgr'] == 'dnf':
            out = _run(module, [module.get_bin_path('rpm', required=True), '-qa', '--queryformat', asset_system.RPM_QUERY_FORMAT])
            record['packages'] = asset_system.parse_rpm_query(out)

    if 'updates' in subsets and os_info['pkg_mgr'] == 'apt':
        apt_get = module.get_bin_path('apt-get', required=True)
        environ = {'LC_ALL': 'C', 'DEBIAN_FRONTEND': 'noninteractive'}
        if module.params['update_cache'] and not module.check_mode:
            _run(module, [apt_get, 'update', '-q'], environ)
            changed = True
        out = _run(module, [apt_get, '-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'], environ)
        record['updates'] = asset_runtime.parse_apt_simulation(out)

    if 'services' in subsets and record['service_manager'] == 'systemd':
        systemctl = module.get_bin_path('systemctl', required=True)
        units = _run(module, [systemctl, 'list-units', '--type=service', '--all', '--no-legend', '--plain', '--no-pager'])
        files = _run(module, [systemctl, 'list-unit-files', '--type=service', '--no-legend', '--plain', '--no-pager'])
        record['services'] = asset_runtime.parse_systemctl_units(units, files)

    if 'listening' in subsets:
        owners = asset_runtime.socket_owners()
        for proto in ('tcp', 'tcp6', 'udp', 'udp6'):
            for sock in asset_runtime.parse_proc_net(_read('/proc/net/%s' % proto), proto):
                inode = sock.pop('inode')
                sock['process'] = owners.get(inode)
                record['listening'].append(sock)

    if 'restart' in subsets:
        restart = record['restart']
        if os.path.exists('/var/run/reboot-required'):
            restart['reboot_required'] = True
            restart['reasons'].append('/var/run/reboot-required exists')
        latest, running = record['kernel']['latest_installed'], record['kernel']['running']
        if latest and latest != running and compare_versions(latest, running, 'generic') > 0:
            restart['reboot_required'] = True
            restart['reasons'].append('kernel %s is installed, %s is running' % (latest, running))
        restart['processes'] = asset_runtime.processes_needing_restart()
        restart['services'] = sorted({p['unit'] for p in restart['processes'] if p['unit']})

    security = sorted(u['name'] for u in record['updates'] if u['security'])
    if module.params['facts_detail'] == 'full':
        facts = record
    else:
        facts = {
            'schema': record['schema'], 'collected_at': record['collected_at'], 'host': record['host'],
            'os': record['os'], 'kernel': record['kernel'], 'service_manager': record['service_manager'],
            'counts': {'packages': len(record['packages']), 'services': len(record['services']),
                       'listening': len(record['listening']), 'updates': len(record['updates']),
                       'security_updates': len(security)},
            'updates_security': security,
            'restart': {'reboot_required': record['restart']['reboot_required'], 'reasons': record['restart']['reasons'],
                        'services': record['restart']['services']},
            'collected': subsets,
        }
    module.exit_json(changed=changed, record=record, ansible_facts={'patchwise': facts})


if __name__ == '__main__':
    main()

#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: asset_facts
short_description: Discover what runs on a host - OS, packages, services, sockets, applications, pending updates, restart needs
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Collects the asset record of the host (schema 1, see the collection's design document) on Debian/Ubuntu
    (dpkg/apt) and RHEL-family (rpm/dnf) systems. It only reads; it never changes the host.
  - Installed packages come from one C(dpkg-query) (or C(rpm -qa)) call, with the source package name and
    version, since Debian files advisories against source packages.
  - Pending updates on apt hosts are the packages a dist-upgrade would change - resolved in-process with python3-apt
    when the module's Python has it (the same answer as C(apt-get -s dist-upgrade), without simulating the
    installation), else read from C(apt-get -s dist-upgrade). An update is a security update when its candidate
    comes from the C(Debian-Security) label or a C(*-security) suite, the rule unattended-upgrades uses.
  - Pending updates on dnf hosts (dnf 4, RHEL 8 and later) come from C(dnf -q -C check-update); an update is a
    security update when C(dnf -q -C updateinfo list --updates) names a security advisory (type C(<Severity>/Sec.))
    for the package, as C(dnf upgrade --security) decides, and its C(severity) is the highest of those advisories'.
    The "Obsoleting Packages" section is not counted.
  - The package lists are not refreshed unless O(update_cache=true); dnf runs from its cache only (C(-C)).
  - Applications are Python distributions in O(python_paths) and npm packages in O(node_modules_paths), read
    from their metadata files (no pip or npm call), and the applications declared in O(applications).
    A path or package that cannot be read gives a warning and the rest is still collected.
  - Services come from systemd when it runs as PID 1; without it (in most containers) the record says
    C(service_manager=none) and lists no services.
  - Restart needs follow needrestart's method - processes that still map deleted or replaced shared
    libraries, mapped to their systemd units - plus C(/var/run/reboot-required) and a newer installed kernel
    than the running one.
  - On dnf hosts C(dnf needs-restarting -r) says whether a reboot is needed, and the processes C(dnf needs-restarting)
    lists (a file they map belongs to a package updated after they started) count too, with their systemd units.
    When C(dnf needs-restarting) is missing (dnf-plugins-core not installed) or fails, C(restart.reboot_required) is
    C(unknown), not false, and C(restart.reasons) says why; the system_patch role treats an unknown need as a need.
  - A large fact makes every later task of the host slower, so by default only a summary goes to
    C(ansible_facts.patchwise); the full record is returned as RV(record) for the asset store.
    Set O(facts_detail=full) to put the whole record in the facts.
  - Works in C(FACTS_MODULES) so C(gather_facts) collects it. Beside other fact modules, C(gather_facts) runs them in
    parallel as async jobs and, when the play sets no C(gather_timeout), ansible-core stops one still running after
    about 5 seconds (C(Timeout exceeded)); set the play's C(gather_timeout) (seconds) above the time discovery takes.
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
      - What to collect. V(all), or any of V(os), V(packages), V(services), V(listening), V(applications),
        V(updates), V(restart); prefix with V(!) to leave one out of V(all). V(os) is always collected.
    type: list
    elements: str
    default: [all]
  update_cache:
    description: Refresh the package lists before looking for updates (C(apt-get update), or C(dnf makecache)).
      This is the only change the module can make, so it reports C(changed) when it does it; in check mode it
      is not done.
    type: bool
    default: false
  root:
    description:
      - Read the RPM installation below this directory instead of the host's own (C(rpm --root),
        C(dnf --installroot)), such as an image being built or a test host - its C(etc/os-release), packages,
        pending updates, kernels (C(boot), C(lib/modules)) and what C(dnf needs-restarting) reports for it. dnf reads
        the repositories, C(dnf.conf) and, when the root has an C(etc/dnf/plugins) folder, the plugin configuration
        from inside the root.
      - Services, sockets and applications are still the host's. The root's os-release must name a dnf
        distribution.
    type: path
  facts_detail:
    description:
      - V(summary) puts counts, the pending security updates and the applications (name, version, ecosystem)
        in C(ansible_facts.patchwise); V(full) puts the whole record there. The full record is always returned
        as RV(record).
    type: str
    default: summary
    choices: [summary, full]
  python_paths:
    description:
      - Virtualenvs or site-packages directories whose Python distributions are applications (ecosystem
        C(PyPI), source C(python)). For a virtualenv, its C(lib/python*/site-packages) are read.
      - Each C(*.dist-info/METADATA), C(*.egg-info) (directory or file) and C(*.egg/EGG-INFO/PKG-INFO) gives
        the C(Name) and C(Version) headers; the name is normalised as PEP 503 says (lower case, runs of
        C(-_.) as one C(-)), the form advisories use. Only read with O(gather_subset) including V(applications).
    type: list
    elements: path
    default: []
  node_modules_paths:
    description:
      - C(node_modules) directories whose packages are applications (ecosystem C(npm), source C(npm)), from
        C(<dir>/<package>/package.json) and C(<dir>/@scope/<package>/package.json).
      - Nested C(node_modules) of each package are read too (npm puts a second version of a dependency there);
        each copy is listed with its own path. Entries starting with a dot (C(.bin), C(.pnpm)) are skipped and
        symbolic links are followed once.
    type: list
    elements: path
    default: []
  applications:
    description:
      - Applications declared by name, with a command or a file that tells their version (source C(declared)).
      - When the command fails, is not found, the file cannot be read or no version is found, the application
        is still listed, with C(version=null) and an C(error) saying why, and the module warns; the rest of the
        discovery is not lost because one application is missing on one host.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The application's name (for advisories, its package name in O(applications[].ecosystem)).
        type: str
        required: true
      version_command:
        description:
          - A command printing the version, such as C(nginx -v). Split into arguments as a shell would
            (C(shlex)) but run without a shell - no pipes, globs or C($VARIABLES); a command name without C(/)
            is looked up in C(PATH).
          - It runs in check mode too, like every probe of this module, so declare only commands that only read.
          - The version is searched in its standard output, then in its standard error. It has no timeout.
          - Exactly one of O(applications[].version_command) and O(applications[].version_file) is required.
        type: str
      version_file:
        description: A file holding the version, such as C(/opt/app/VERSION).
        type: path
      version_regex:
        description:
          - Regular expression (Python syntax) finding the version; its first group is the version, or the whole
            match when it has no group.
          - The default takes the first dotted number with an optional suffix, such as C(1.22.1), C(3.0.15) or
            C(18.19.0-rc.1).
        type: str
      ecosystem:
        description: The OSV ecosystem of the application (such as C(PyPI), C(npm), C(Go)), so advisories can be
          matched; V(generic) for none.
        type: str
        default: generic
notes:
  - Run with privileges (C(become)) to see every process's mapped libraries and sockets.
  - The dnf discovery is tested against a real dnf 4 installroot (rpm, dnf and dnf-plugins-core, signed repository
    with updateinfo). dnf 5 (Fedora 41 and later) prints advisories differently and is not supported yet.
  - dnf's cache must exist for C(-C); on a host where dnf never ran, use O(update_cache=true) once.
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

- name: Applications - a virtualenv, a node_modules tree and two declared applications
  patchwise.patching.asset_facts:
    gather_subset: [applications]
    python_paths:
      - /opt/app/venv
    node_modules_paths:
      - /srv/web/node_modules
    applications:
      - name: nginx
        version_command: nginx -v
      - name: myapp
        version_file: /opt/myapp/VERSION
        version_regex: '^release (\S+)'
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
      description:
        - family, distribution, id, version, codename, arch, pkg_mgr, the OSV C(ecosystem) (such as C(Debian:12),
          C(Ubuntu:22.04:LTS), C(Red Hat:enterprise_linux:9), C(Rocky Linux:9), C(Alpine:v3.20)) and every ecosystem the
          host's advisories are filed under in C(ecosystems) (an Ubuntu Pro host adds C(Ubuntu:Pro:22.04:LTS)).
        - A distribution OSV publishes no advisories for (CentOS Stream, Oracle Linux, Fedora, Amazon Linux) has no
          ecosystem and C(ecosystem_reason) says so.
      type: dict
    kernel:
      description: The running and latest_installed kernel releases.
      type: dict
    packages:
      description:
        - Installed packages - name, version, arch, source_name, source_version (with the epoch on RPM systems), held,
          and the package manager's C(state) - dpkg's unpacked, half-configured, half-installed, triggers-awaited and
          triggers-pending packages are listed too, as their files are on disk.
        - From dpkg (apt), rpm (dnf, zypper) or apk's database.
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
      description:
        - Applications - name (PEP 503 normalised for PyPI), version, ecosystem (C(PyPI), C(npm), or the declared
          one), path (the C(.dist-info)/C(.egg-info) entry, the npm package directory, or the declared
          application's executable or version file) and source (C(python), C(npm), C(declared)).
        - A declared application whose version could not be found has C(version=null) and an C(error).
      type: list
      elements: dict
      sample:
        - {name: ansible-core, version: 2.19.14, ecosystem: PyPI, source: python,
           path: /opt/venv/lib/python3.11/site-packages/ansible_core-2.19.14.dist-info}
        - {name: nginx, version: 1.22.1, ecosystem: generic, source: declared, path: /usr/sbin/nginx}
    updates:
      description:
        - Pending updates - name, current, available, security, origin (apt - the candidate's origins; dnf - the
          repository).
        - On dnf hosts also arch, advisories (the ids of the security advisories naming the package) and severity (the
          highest of their severities - Low, Moderate, Important, Critical - or null).
      type: list
      elements: dict
    restart:
      description:
        - reboot_required, reasons, services (units to restart) and processes (pid, process, unit, libraries).
        - C(reboot_required) is V(true), V(false), or V(unknown) when a dnf host cannot tell (C(dnf needs-restarting -r)
          missing or failing); C(reasons) then says why.
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
          listening, applications, updates, security updates), updates_security (names), applications (unique
          name, version, ecosystem), and restart. With V(full) - the record.
      type: dict
"""

import datetime
import os
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils import apt_pending, asset_apps, asset_runtime, asset_system
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_discovery import DnfDiscovery, DnfDiscoveryError
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import REBOOT_UNKNOWN
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

SUBSETS = ('os', 'packages', 'services', 'listening', 'applications', 'updates', 'restart')


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


def _dnf_discovery(module):
    """The dnf host's queries, run through the module (the root's, with O(root))."""
    module.get_bin_path('dnf', required=True)
    module.get_bin_path('rpm', required=True)

    def run(args, env):
        return module.run_command(args, environ_update=env)

    return DnfDiscovery(run, root=module.params.get('root'))


def _dnf_updates(module, packages, discovery=None):
    """Pending updates from dnf's cache, refreshed first only with O(update_cache) and not in check mode."""
    discovery = discovery or _dnf_discovery(module)
    try:
        if module.params['update_cache'] and not module.check_mode:
            discovery.refresh()
        return discovery.updates(packages)
    except DnfDiscoveryError as exc:
        module.fail_json(msg=str(exc))


def _dnf_restart(discovery, restart, processes):
    """Add dnf needs-restarting's reboot need and processes to ``restart``; returns a problem to warn about, or None."""
    required, reasons = discovery.reboot()
    restart['reasons'].extend(reasons)
    if required is True:
        restart['reboot_required'] = True
    elif required == REBOOT_UNKNOWN and restart['reboot_required'] is not True:
        restart['reboot_required'] = REBOOT_UNKNOWN
    stale, problem = discovery.processes()
    known = {process['pid'] for process in processes}
    processes.extend(process for process in stale if process['pid'] not in known)
    processes.sort(key=lambda process: process['pid'])
    return problem


def _ubuntu_pro(sources='/etc/apt/sources.list.d'):
    """Whether Ubuntu Pro (ESM) updates are configured: its fixes are published under an OSV ecosystem of their own."""
    try:
        names = os.listdir(sources)
    except OSError:
        return False
    for name in names:
        if 'esm' in name and name.endswith(('.list', '.sources')):
            if 'esm.ubuntu.com' in _read(os.path.join(sources, name)):
                return True
    return False


def _applications(module):
    error = asset_apps.compile_declared(module.params['applications'])
    if error:
        module.fail_json(msg=error)

    def run(argv):
        # handle_exceptions=False: a command that cannot start is that application's error, not the module's.
        return module.run_command(argv, environ_update={'LC_ALL': 'C'}, expand_user_and_vars=False, errors='surrogate_or_replace',
                                  handle_exceptions=False)

    applications = []
    for found, problems in (
        asset_apps.find_python_applications(module.params['python_paths']),
        asset_apps.find_node_applications(module.params['node_modules_paths']),
        asset_apps.find_declared_applications(module.params['applications'], run, module.get_bin_path),
    ):
        applications.extend(found)
        for problem in problems:
            module.warn(problem)
    return applications


def main():
    module = AnsibleModule(
        argument_spec={
            'gather_subset': {'type': 'list', 'elements': 'str', 'default': ['all']},
            'update_cache': {'type': 'bool', 'default': False},
            'facts_detail': {'type': 'str', 'default': 'summary', 'choices': ['summary', 'full']},
            'python_paths': {'type': 'list', 'elements': 'path', 'default': []},
            'node_modules_paths': {'type': 'list', 'elements': 'path', 'default': []},
            'root': {'type': 'path'},
            'applications': {
                'type': 'list', 'elements': 'dict', 'default': [],
                'options': {
                    'name': {'type': 'str', 'required': True},
                    'version_command': {'type': 'str'},
                    'version_file': {'type': 'path'},
                    'version_regex': {'type': 'str'},
                    'ecosystem': {'type': 'str', 'default': 'generic'},
                },
                'mutually_exclusive': [('version_command', 'version_file')],
                'required_one_of': [('version_command', 'version_file')],
            },
        },
        supports_check_mode=True,
    )
    subsets = _subsets(module, module.params['gather_subset'])
    changed = False
    root = module.params['root']
    inside = (lambda path: os.path.join(root, path.lstrip('/'))) if root else (lambda path: path)
    os_info = asset_system.os_identity(asset_system.parse_os_release(_read(inside('/etc/os-release'))), asset_system.machine_arch(),
                                       pro=_ubuntu_pro(inside('/etc/apt/sources.list.d')))
    if root and os_info['pkg_mgr'] != 'dnf':
        module.fail_json(msg='root is only supported for dnf systems; %s names %s (package manager %s)'
                         % (inside('/etc/os-release'), os_info['id'] or 'no distribution', os_info['pkg_mgr']))
    dnf = _dnf_discovery(module) if os_info['pkg_mgr'] == 'dnf' else None
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
    kernels = asset_system.installed_kernels(inside('/boot'), inside('/lib/modules'))
    record['kernel']['latest_installed'] = asset_system.newest_kernel(kernels, lambda a, b: compare_versions(a, b, 'generic'))

    if dnf and 'packages' in subsets:
        try:
            record['packages'] = dnf.packages()
        except DnfDiscoveryError as exc:
            module.fail_json(msg=str(exc))
    if dnf and 'updates' in subsets:
        record['updates'] = _dnf_updates(module, record['packages'] if 'packages' in subsets else None, dnf)
        changed = module.params['update_cache'] and not module.check_mode

    if 'packages' in subsets:
        if os_info['pkg_mgr'] == 'apt':
            out = _run(module, [module.get_bin_path('dpkg-query', required=True), '-W', '-f', asset_system.DPKG_QUERY_FORMAT])
            record['packages'] = asset_system.parse_dpkg_query(out)
        elif os_info['pkg_mgr'] == 'zypper':
            out = _run(module, [module.get_bin_path('rpm', required=True), '-qa', '--queryformat', asset_system.RPM_QUERY_FORMAT])
            record['packages'] = asset_system.parse_rpm_query(out)
        elif os_info['pkg_mgr'] == 'apk':
            record['packages'] = asset_system.parse_apk_installed(_read('/lib/apk/db/installed'))

    if 'updates' in subsets and os_info['pkg_mgr'] == 'apt':
        apt_get = module.get_bin_path('apt-get', required=True)
        environ = {'LC_ALL': 'C', 'DEBIAN_FRONTEND': 'noninteractive'}
        if module.params['update_cache'] and not module.check_mode:
            _run(module, [apt_get, 'update', '-q'], environ)
            changed = True
        updates = apt_pending.pending_updates()
        if updates is None:
            out = _run(module, [apt_get, '-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'], environ)
            updates = asset_runtime.parse_apt_simulation(out)
        record['updates'] = updates

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

    if 'applications' in subsets:
        record['applications'] = _applications(module)

    if 'restart' in subsets:
        restart = record['restart']
        if os.path.exists(inside('/var/run/reboot-required')):
            restart['reboot_required'] = True
            restart['reasons'].append('/var/run/reboot-required exists')
        latest, running = record['kernel']['latest_installed'], record['kernel']['running']
        if latest and latest != running and compare_versions(latest, running, 'generic') > 0:
            restart['reboot_required'] = True
            restart['reasons'].append('kernel %s is installed, %s is running' % (latest, running))
        # The host's processes map the host's libraries, not an installroot's: with a root only dnf tells.
        restart['processes'] = [] if root else asset_runtime.processes_needing_restart()
        if dnf:
            problem = _dnf_restart(dnf, restart, restart['processes'])
            if problem:
                module.warn('the processes to restart are not complete: %s' % problem)
        restart['services'] = sorted({p['unit'] for p in restart['processes'] if p['unit']})

    security = sorted(u['name'] for u in record['updates'] if u['security'])
    if module.params['facts_detail'] == 'full':
        facts = record
    else:
        facts = {
            'schema': record['schema'], 'collected_at': record['collected_at'], 'host': record['host'],
            'os': record['os'], 'kernel': record['kernel'], 'service_manager': record['service_manager'],
            'counts': {'packages': len(record['packages']), 'services': len(record['services']),
                       'listening': len(record['listening']), 'applications': len(record['applications']),
                       'updates': len(record['updates']), 'security_updates': len(security)},
            'updates_security': security,
            'applications': asset_apps.application_summary(record['applications']),
            'restart': {'reboot_required': record['restart']['reboot_required'], 'reasons': record['restart']['reasons'],
                        'services': record['restart']['services']},
            'collected': subsets,
        }
    module.exit_json(changed=changed, record=record, ansible_facts={'patchwise': facts})


if __name__ == '__main__':
    main()

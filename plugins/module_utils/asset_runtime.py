# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What runs on a managed host: pending updates (apt and dnf), services, listening sockets, restart needs.

Parsers take text (command output, /proc files) and return data; callers pass
the text in, so every rule here is tested on captured output.
"""

from __future__ import annotations

import os
import re

from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

# apt-get -s prints: Inst NAME [OLD] (NEW ORIGIN[, ORIGIN...] [ARCH])
# where ORIGIN is Label:Version/Suite, or Label:Suite when the Release has no Version.
_APT_INST = re.compile(r'^Inst (?P<name>\S+)(?: \[(?P<current>[^\]]+)\])? \((?P<available>\S+) (?P<origins>.*?)(?: \[(?P<arch>[^\]]+)\])?\)')


def origin_is_security(origin):
    """An apt origin (``Label:Version/Archive``) is a security origin: the rule unattended-upgrades uses."""
    label, _colon, rest = origin.partition(':')
    suite = rest.rsplit('/', 1)[-1]
    # The rule unattended-upgrades applies: Debian's security label, or a *-security suite (Ubuntu).
    return label == 'Debian-Security' or suite.endswith('-security')


def parse_apt_simulation(text):
    """Pending updates from ``apt-get -s dist-upgrade`` output."""
    updates = []
    for line in text.splitlines():
        match = _APT_INST.match(line)
        if not match:
            continue
        origins = [origin.strip() for origin in match.group('origins').split(', ') if origin.strip()]
        updates.append({
            'name': match.group('name'),
            'current': match.group('current'),
            'available': match.group('available'),
            'security': any(origin_is_security(origin) for origin in origins),
            'origin': ', '.join(origins),
        })
    return updates


def split_nevra(nevra):
    """(name, [epoch:]version-release, arch) of an RPM NEVRA such as ``openssl-libs-1:3.0.7-25.el9_3.x86_64``."""
    rest, _dot, arch = nevra.rpartition('.')
    parts = rest.rsplit('-', 2)
    if not arch or len(parts) != 3 or not all(parts):
        raise ValueError('not a name-version-release.arch: %r' % nevra)
    name, version, release = parts
    return name, '%s-%s' % (version, release), arch


def parse_dnf_updateinfo(text):
    """Advisories per (name, arch) from ``dnf -q updateinfo list --updates`` (dnf 4).

    Each line is ``ADVISORY-ID TYPE NEVRA``; TYPE is ``<Severity>/Sec.`` for security
    advisories, else ``bugfix``, ``enhancement``, ``newpackage`` or ``unknown``.
    Returns {(name, arch): [{id, type, security, version}]}.
    """
    advisories = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        advisory, kind, nevra = fields
        try:
            name, version, arch = split_nevra(nevra)
        except ValueError:
            continue
        advisories.setdefault((name, arch), []).append(
            {'id': advisory, 'type': kind, 'security': kind.endswith('/Sec.') or kind == 'security', 'version': version})
    return advisories


def parse_dnf_check_update(text):
    """Available updates [{name, arch, available, repo}] from ``dnf -q check-update`` (dnf 4).

    Lines are ``name.arch  [epoch:]version-release  repo``; dnf wraps a long name onto a
    line of its own, so fields are joined across lines.  The "Obsoleting Packages"
    section that may follow lists replacements, not updates, and is left out.
    """
    updates = []
    pending = []
    for line in text.splitlines():
        if line.strip().startswith('Obsoleting Packages'):
            break
        fields = pending + line.split()
        if not fields:
            pending = []
            continue
        name_arch = fields[0]
        if '.' not in name_arch.strip('.') or ':' in name_arch:
            pending = []
            continue
        if len(fields) < 3:
            pending = fields
            continue
        pending = []
        if len(fields) != 3:
            continue
        name, _dot, arch = name_arch.rpartition('.')
        updates.append({'name': name, 'arch': arch, 'available': fields[1], 'repo': fields[2]})
    return updates


def newest_installed(packages):
    """(name, arch) -> the newest installed [epoch:]version-release, from the record's RPM packages.

    Several versions of one package (kernels) can be installed at once; an update replaces the newest.
    """
    newest = {}
    for package in packages:
        key = (package['name'], package['arch'])
        if key not in newest or compare_versions(package['version'], newest[key], 'rpm') > 0:
            newest[key] = package['version']
    return newest


def dnf_updates(check_update_text, updateinfo_text, packages):
    """Pending updates [{name, arch, current, available, security, origin, advisories}].

    ``packages`` are the installed RPM packages ({name, version, arch}).  An update is a
    security update when a security advisory names the package, as ``dnf upgrade --security``
    decides; ``advisories`` lists those advisory ids.
    """
    advisories = parse_dnf_updateinfo(updateinfo_text)
    installed = newest_installed(packages)
    updates = []
    for update in parse_dnf_check_update(check_update_text):
        key = (update['name'], update['arch'])
        security = sorted({item['id'] for item in advisories.get(key, []) if item['security']})
        updates.append({
            'name': update['name'],
            'arch': update['arch'],
            'current': installed.get(key),
            'available': update['available'],
            'security': bool(security),
            'origin': update['repo'],
            'advisories': security,
        })
    return updates


def parse_systemctl_units(units_text, unit_files_text):
    """Services from ``systemctl list-units`` and ``list-unit-files`` (--type=service --no-legend --plain)."""
    enabled = {}
    for line in unit_files_text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].endswith('.service'):
            enabled[fields[0]] = fields[1]
    services = {}
    for line in units_text.splitlines():
        fields = line.split(None, 4)
        if len(fields) >= 4 and fields[0].endswith('.service'):
            name, _load, active, sub = fields[:4]
            services[name] = {'name': name, 'state': _service_state(active, sub), 'enabled': enabled.get(name, 'unknown'),
                              'source': 'systemd'}
    for name, status in enabled.items():
        if name not in services and not name.endswith('@.service'):
            services[name] = {'name': name, 'state': 'stopped', 'enabled': status, 'source': 'systemd'}
    return sorted(services.values(), key=lambda service: service['name'])


def _service_state(active, sub):
    # The same vocabulary as ansible.builtin.service_facts.
    if sub == 'running':
        return 'running'
    if active == 'failed':
        return 'failed'
    return 'stopped' if active in ('inactive', 'active') else active


_PROC_NET_STATE_LISTEN = '0A'


def _decode_address(hex_address):
    address, port = hex_address.split(':')
    raw = bytes.fromhex(address)
    if len(raw) == 4:
        text = '.'.join(str(b) for b in raw[::-1])
    else:
        # /proc stores IPv6 as four little-endian 32-bit words.
        words = [raw[i:i + 4][::-1] for i in range(0, 16, 4)]
        joined = b''.join(words)
        groups = ['%x' % int.from_bytes(joined[i:i + 2], 'big') for i in range(0, 16, 2)]
        text = ':'.join(groups)
        text = re.sub(r'(^|:)0(:0)+(:|$)', '::', text, count=1)
    return text, int(port, 16)


def parse_proc_net(text, proto):
    """Listening sockets (TCP LISTEN, every bound UDP socket) of one /proc/net table, with their inodes."""
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        if proto.startswith('tcp') and fields[3] != _PROC_NET_STATE_LISTEN:
            continue
        address, port = _decode_address(fields[1])
        sockets.append({'proto': proto, 'address': address, 'port': port, 'inode': fields[9]})
    return sockets


def socket_owners(proc='/proc'):
    """Map socket inode -> process name, reading /proc/<pid>/fd (only what we may read)."""
    owners = {}
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc, pid, 'fd')
        try:
            fds = os.listdir(fd_dir)
            with open(os.path.join(proc, pid, 'comm'), encoding='utf-8', errors='replace') as handle:
                name = handle.read().strip()
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith('socket:['):
                owners.setdefault(target[8:-1], name)
    return owners


def deleted_libraries(maps_text):
    """Shared libraries a process maps that were deleted or replaced since it started."""
    found = set()
    for line in maps_text.splitlines():
        if line.endswith(' (deleted)'):
            path = line.split(None, 5)[-1][:-len(' (deleted)')]
            if '.so' in os.path.basename(path) and not path.startswith(('/dev/', '/memfd:', '/SYSV')):
                found.add(path)
    return sorted(found)


def unit_from_cgroup(cgroup_text):
    """The systemd service a process belongs to, from /proc/<pid>/cgroup, or None."""
    for line in cgroup_text.splitlines():
        for part in line.rsplit(':', 1)[-1].split('/'):
            if part.endswith('.service'):
                return part
    return None


def processes_needing_restart(proc='/proc'):
    """Processes still mapping deleted libraries: [{pid, process, unit, libraries}] (needrestart's method)."""
    found = []
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(os.path.join(proc, pid, 'maps'), encoding='utf-8', errors='replace') as handle:
                libraries = deleted_libraries(handle.read())
            if not libraries:
                continue
            with open(os.path.join(proc, pid, 'comm'), encoding='utf-8', errors='replace') as handle:
                name = handle.read().strip()
            with open(os.path.join(proc, pid, 'cgroup'), encoding='utf-8', errors='replace') as handle:
                unit = unit_from_cgroup(handle.read())
        except OSError:
            continue
        found.append({'pid': int(pid), 'process': name, 'unit': unit, 'libraries': libraries})
    return sorted(found, key=lambda item: item['pid'])

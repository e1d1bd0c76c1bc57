# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What runs on a managed host: pending updates, services, listening sockets, restart needs.

Parsers take text (command output, /proc files) and return data; callers pass
the text in, so every rule here is tested on captured output.
"""

from __future__ import annotations

import os
import re

# apt-get -s prints: Inst NAME [OLD] (NEW ORIGIN[, ORIGIN...] [ARCH])
# where ORIGIN is Label:Version/Suite, or Label:Suite when the Release has no Version.
_APT_INST = re.compile(r'^Inst (?P<name>\S+)(?: \[(?P<current>[^\]]+)\])? \((?P<available>\S+) (?P<origins>.*?)(?: \[(?P<arch>[^\]]+)\])?\)')


def _origin_is_security(origin):
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
            'security': any(_origin_is_security(origin) for origin in origins),
            'origin': ', '.join(origins),
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

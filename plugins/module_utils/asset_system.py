# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Operating system identity, installed packages and kernels of a managed host.

The parsers take text and return data, so they are tested on captured output;
the ``collect_*`` functions run the commands through an AnsibleModule.
"""

from __future__ import annotations

import os
import platform
import re
import shlex

# os-release ID (or ID_LIKE) -> (family, package manager, OSV ecosystem base).
_DISTRIBUTIONS = {
    'debian': ('Debian', 'apt', 'Debian'),
    'ubuntu': ('Debian', 'apt', 'Ubuntu'),
    'rhel': ('RedHat', 'dnf', 'Red Hat'),
    'rocky': ('RedHat', 'dnf', 'Rocky Linux'),
    'almalinux': ('RedHat', 'dnf', 'AlmaLinux'),
    'centos': ('RedHat', 'dnf', None),
    'fedora': ('RedHat', 'dnf', None),
}

DPKG_QUERY_FORMAT = r'${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n'
RPM_QUERY_FORMAT = r'%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'
_SOURCE_RPM = re.compile(r'(?P<name>.+)-(?P<version>[^-]+)-(?P<release>[^-]+)\.(?:no)?src\.rpm\Z')


def parse_os_release(text):
    """The key/value pairs of /etc/os-release."""
    values = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        key, value = line.split('=', 1)
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip('"\'')]
        values[key] = parts[0] if parts else ''
    return values


def os_identity(os_release, arch):
    """The record's ``os`` section from os-release values."""
    ids = [os_release.get('ID', ''), *os_release.get('ID_LIKE', '').split()]
    family, pkg_mgr, ecosystem_base = 'unknown', 'unknown', None
    for candidate in ids:
        if candidate in _DISTRIBUTIONS:
            family, pkg_mgr, ecosystem_base = _DISTRIBUTIONS[candidate]
            if candidate == ids[0]:
                break
    version = os_release.get('VERSION_ID', '')
    ecosystem = None
    distribution_id = os_release.get('ID', '')
    if distribution_id in _DISTRIBUTIONS and _DISTRIBUTIONS[distribution_id][2]:
        base = _DISTRIBUTIONS[distribution_id][2]
        if base == 'Debian':
            # Debian's OSV ecosystems carry the major release: Debian:12.
            ecosystem = 'Debian:%s' % version.split('.')[0] if version else 'Debian'
        elif base == 'Ubuntu':
            ecosystem = 'Ubuntu:%s' % version if version else 'Ubuntu'
        else:
            ecosystem = base
    elif ecosystem_base:
        ecosystem = ecosystem_base
    return {
        'family': family,
        'distribution': os_release.get('NAME', distribution_id),
        'id': distribution_id,
        'version': version,
        'codename': os_release.get('VERSION_CODENAME', ''),
        'arch': arch,
        'pkg_mgr': pkg_mgr,
        'ecosystem': ecosystem,
    }


def parse_dpkg_query(text):
    """Installed packages from dpkg-query with DPKG_QUERY_FORMAT."""
    packages = []
    for line in text.splitlines():
        fields = line.split('\t')
        if len(fields) != 6:
            continue
        status, name, version, arch, source_name, source_version = fields
        # "ii " installed; "hi " installed and held.  Anything else (rc, un) is not installed.
        if len(status) < 2 or status[1] != 'i':
            continue
        packages.append({
            'name': name,
            'version': version,
            'arch': arch,
            'source_name': source_name or name,
            'source_version': source_version or version,
            'held': status[0] == 'h',
        })
    return packages


def parse_rpm_query(text):
    """Installed packages from rpm -qa with RPM_QUERY_FORMAT."""
    packages = []
    for line in text.splitlines():
        fields = line.split('\t')
        if len(fields) != 6:
            continue
        name, epoch, version, release, arch, source_rpm = fields
        full = '%s-%s' % (version, release)
        if epoch not in ('', '0', '(none)'):
            full = '%s:%s' % (epoch, full)
        source = _SOURCE_RPM.match(source_rpm)
        packages.append({
            'name': name,
            'version': full,
            'arch': arch,
            'source_name': source.group('name') if source else name,
            'source_version': ('%s-%s' % (source.group('version'), source.group('release'))) if source else full,
            'held': False,
        })
    return packages


def newest_kernel(kernel_releases, compare):
    """The newest of the installed kernel releases, ordered by ``compare`` (a versions comparator)."""
    newest = None
    for release in kernel_releases:
        if newest is None or compare(release, newest) > 0:
            newest = release
    return newest


def installed_kernels(boot_dir='/boot', modules_dir='/lib/modules'):
    """Kernel releases with both an image in /boot and modules installed."""
    releases = set()
    try:
        for name in os.listdir(boot_dir):
            if name.startswith('vmlinuz-'):
                releases.add(name[len('vmlinuz-'):])
    except OSError:
        return []
    if os.path.isdir(modules_dir):
        releases = {r for r in releases if os.path.isdir(os.path.join(modules_dir, r))}
    return sorted(releases)


def machine_arch():
    return platform.machine()

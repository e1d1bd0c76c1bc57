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

from ansible_collections.patchwise.patching.plugins.module_utils.osv_ecosystems import DISTRIBUTIONS, ecosystems_for

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


def os_identity(os_release, arch, pro=False):
    """The record's ``os`` section from os-release values; ``pro``: Ubuntu Pro (ESM) is attached."""
    ids = [os_release.get('ID', ''), *os_release.get('ID_LIKE', '').split()]
    family, pkg_mgr = 'unknown', 'unknown'
    for candidate in ids:
        if candidate in DISTRIBUTIONS:
            family, pkg_mgr = DISTRIBUTIONS[candidate][:2]
            break
    ecosystems, reason = ecosystems_for(os_release, pro=pro)
    identity = {
        'family': family,
        'distribution': os_release.get('NAME', os_release.get('ID', '')),
        'id': os_release.get('ID', ''),
        'version': os_release.get('VERSION_ID', ''),
        'codename': os_release.get('VERSION_CODENAME', ''),
        'arch': arch,
        'pkg_mgr': pkg_mgr,
        'ecosystem': ecosystems[0] if ecosystems else None,
        'ecosystems': ecosystems,
    }
    if reason:
        identity['ecosystem_reason'] = reason
    return identity


# dpkg's current-state letter (second of db:Status-Abbrev) -> state, for every state that leaves the
# package's files on disk; "n" (not installed) and "c" (configuration files only) leave no program to patch.
DPKG_STATES = {'i': 'installed', 'U': 'unpacked', 'F': 'half-configured', 'H': 'half-installed',
               'W': 'triggers-awaited', 't': 'triggers-pending'}


def parse_dpkg_query(text):
    """Packages with files on disk from dpkg-query with DPKG_QUERY_FORMAT, each with its dpkg ``state``.

    A package that is only unpacked or half-configured still has its (vulnerable) files on disk, so it
    is listed too; its ``state`` says it is not fully installed.
    """
    packages = []
    for line in text.splitlines():
        fields = line.split('\t')
        if len(fields) != 6:
            continue
        status, name, version, arch, source_name, source_version = fields
        # "ii " installed; "hi " installed and held; "iU " unpacked ...  "rc", "un": nothing on disk.
        state = DPKG_STATES.get(status[1]) if len(status) >= 2 else None
        if state is None:
            continue
        packages.append({
            'name': name,
            'version': version,
            'arch': arch,
            'source_name': source_name or name,
            'source_version': source_version or version,
            'held': status[0] == 'h',
            'state': state,
        })
    return packages


def parse_rpm_query(text):
    """Installed packages from rpm -qa with RPM_QUERY_FORMAT (``gpg-pubkey`` entries are keys, not packages)."""
    packages = []
    for line in text.splitlines():
        fields = line.split('\t')
        if len(fields) != 6 or fields[0] == 'gpg-pubkey':
            continue
        name, epoch, version, release, arch, source_rpm = fields
        full = '%s-%s' % (version, release)
        if epoch not in ('', '0', '(none)'):
            full = '%s:%s' % (epoch, full)
        source = _SOURCE_RPM.match(source_rpm)
        source_version = full
        if source:
            # The source RPM's file name has no epoch; it is the binary's, and advisories compare with it.
            source_version = '%s-%s' % (source.group('version'), source.group('release'))
            if epoch not in ('', '0', '(none)'):
                source_version = '%s:%s' % (epoch, source_version)
        packages.append({
            'name': name,
            'version': full,
            'arch': arch,
            'source_name': source.group('name') if source else name,
            'source_version': source_version,
            'held': False,
            'state': 'installed',
        })
    return packages


def parse_apk_installed(text):
    """Installed packages from apk's database (``/lib/apk/db/installed``): name, version, arch and origin (the source)."""
    packages = []
    entry = {}
    for line in [*text.splitlines(), '']:
        if not line.strip():
            if entry.get('P') and entry.get('V'):
                packages.append({'name': entry['P'], 'version': entry['V'], 'arch': entry.get('A', ''),
                                 'source_name': entry.get('o') or entry['P'], 'source_version': entry['V'],
                                 'held': False, 'state': 'installed'})
            entry = {}
            continue
        key, sep, value = line.partition(':')
        if sep and len(key) == 1:
            entry.setdefault(key, value)
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

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Asset records from the package manifests of docker-library/repo-info (tests/unit/plugins/fixtures/ecosystems).

A manifest lists what a container image has installed.  Each entry is turned
into the line the package manager itself would print (dpkg-query, rpm -qa
with asset_system's query formats, /lib/apk/db/installed) and read by
asset_system's own parsers, so the records are shaped exactly as asset_facts
makes them.  What a manifest does not say stays unknown: repo-info prints RPMs
as NAME-VERSION-RELEASE.ARCH without the epoch, and apk packages without their
origin, so those records carry no epoch and each apk package is its own origin.
"""

from __future__ import annotations

import os
import re

from ansible_collections.patchwise.patching.plugins.module_utils import asset_system

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'fixtures', 'ecosystems')

_DPKG_SOURCE = re.compile(r'### `dpkg` source package: `(?P<name>[^=`]+)=(?P<version>[^`]+)`\Z')
_DPKG_BINARY = re.compile(r'- `(?P<name>[^:=`]+)(?::(?P<arch>[^=`]+))?=(?P<version>[^`]+)`\Z')
_RPM_PACKAGE = re.compile(r'### `rpm` package: `(?P<nvra>[^`]+)`\Z')
_RPM_SOURCE = re.compile(r'https?://\S+/(?P<file>[^/\s]+\.src\.rpm)\Z')
_RPM_ARCHES = ('x86_64', 'noarch', 'aarch64', 'i686')
_APK_PACKAGE = re.compile(r'### `apk` package: `(?P<name>[^`]+)`\Z')
_APK_DESCRIPTION = re.compile(r'(?P<nv>\S+) description:\Z')


def _dpkg_lines(lines):
    source = None
    for line in lines:
        heading = _DPKG_SOURCE.match(line)
        if heading:
            source = heading.group('name'), heading.group('version')
            continue
        binary = _DPKG_BINARY.match(line)
        if binary and source:
            # dpkg-query's "ii " status: the image's packages are installed.
            yield '\t'.join(('ii ', binary.group('name'), binary.group('version'), binary.group('arch') or '', *source))


def _rpm_lines(lines):
    nvra = None
    for line in lines:
        heading = _RPM_PACKAGE.match(line)
        if heading:
            if nvra:
                yield _rpm_line(nvra, '')
            nvra = heading.group('nvra')
            continue
        source = _RPM_SOURCE.match(line)
        if source and nvra:
            yield _rpm_line(nvra, source.group('file'))
            nvra = None
    if nvra:
        yield _rpm_line(nvra, '')


def _rpm_line(nvra, source_rpm):
    arch = ''
    for candidate in _RPM_ARCHES:
        if nvra.endswith('.' + candidate):
            nvra, arch = nvra[:-len(candidate) - 1], candidate
            break
    name, version, release = nvra.rsplit('-', 2)
    # repo-info prints no epoch: "(none)" is what rpm prints for a package without one.
    return '\t'.join((name, '(none)', version, release, arch, source_rpm))


def _apk_stanzas(lines):
    name = None
    for line in lines:
        heading = _APK_PACKAGE.match(line)
        if heading:
            name = heading.group('name')
            continue
        described = _APK_DESCRIPTION.match(line)
        if described and name and described.group('nv').startswith(name + '-'):
            yield 'P:%s\nV:%s\n' % (name, described.group('nv')[len(name) + 1:])
            name = None


def manifest_packages(path):
    """The package entries of asset_facts for the image a repo-info manifest describes."""
    with open(path, encoding='utf-8') as handle:
        lines = handle.read().splitlines()
    if any(line.startswith('## `dpkg`') for line in lines):
        return asset_system.parse_dpkg_query('\n'.join(_dpkg_lines(lines)))
    if any(line.startswith('## `rpm`') for line in lines):
        return asset_system.parse_rpm_query('\n'.join(_rpm_lines(lines)))
    if any(line.startswith('## `apk`') for line in lines):
        return asset_system.parse_apk_installed('\n'.join(_apk_stanzas(lines)))
    raise ValueError('%s: not a repo-info manifest of dpkg, rpm or apk packages' % path)


def manifest_record(path, os_release, hostname, arch='x86_64', collected_at='2026-12-01T00:00:00Z'):
    """A whole asset record (schema 1) of a host whose packages are those of the manifest at ``path``."""
    return {
        'schema': 1,
        'collected_at': collected_at,
        'host': {'hostname': hostname, 'fqdn': hostname, 'machine_id': None},
        'os': asset_system.os_identity(os_release, arch),
        'kernel': {'running': None, 'latest_installed': None},
        'packages': manifest_packages(path),
        'service_manager': None,
        'services': [],
        'listening': [],
        'applications': [],
        'updates': [],
        'restart': {'reboot_required': False, 'reasons': [], 'services': [], 'processes': []},
        'collected': ['os', 'packages'],
    }

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pending apt updates read in-process with python3-apt, when the module's Python has it.

``apt-get -s dist-upgrade`` spends most of its time simulating the
installation, which discovery does not need: resolving the dist-upgrade in
apt's own dependency cache gives the same packages, versions and origins in a
third of the time.  ``pending_updates()`` returns the same list as
``asset_runtime.parse_apt_simulation`` does for apt-get's output, or None when
python3-apt is not importable (then the module runs apt-get).  Nothing is
locked or changed: the upgrade is only marked in memory.
"""

from __future__ import annotations

try:
    import apt_pkg
except ImportError:  # a Python without Debian's python3-apt (a virtualenv, another distribution)
    apt_pkg = None

from ansible_collections.patchwise.patching.plugins.module_utils.asset_runtime import origin_is_security


def origin_text(package_file):
    """An origin as apt-get prints it (``Label:Version/Archive``), e.g. ``Debian-Security:12/stable-security``."""
    text = (package_file.label + ':') if package_file.label else ''
    if package_file.archive:
        text += ('%s/%s' % (package_file.version, package_file.archive)) if package_file.version else package_file.archive
    else:
        text += package_file.site or ''
    return text


def pending_updates():
    """[{name, current, available, security, origin}] of a dist-upgrade, or None without python3-apt."""
    if apt_pkg is None:
        return None
    apt_pkg.init()
    cache = apt_pkg.Cache(None)
    depcache = apt_pkg.DepCache(cache)
    depcache.upgrade(True)
    updates = []
    for package in cache.packages:
        if not (depcache.marked_upgrade(package) or depcache.marked_install(package) or depcache.marked_downgrade(package)):
            continue
        candidate, current = depcache.get_candidate_ver(package), package.current_ver
        origins = []
        for package_file, _index in candidate.file_list:
            if package_file.not_source:
                continue
            text = origin_text(package_file)
            if text not in origins:
                origins.append(text)
        updates.append({
            'name': package.name,
            'current': current.ver_str if current else None,
            'available': candidate.ver_str,
            'security': any(origin_is_security(origin) for origin in origins),
            'origin': ', '.join(origins),
        })
    return sorted(updates, key=lambda update: update['name'])


def held_updates(names):
    """[{name, current, available, security, origin}] for held packages with a newer candidate, or None without python3-apt.

    A dist-upgrade keeps held packages back, so ``pending_updates`` leaves them out; a patch
    run still reports them (held, not applied).
    """
    if apt_pkg is None:
        return None
    apt_pkg.init()
    cache = apt_pkg.Cache(None)
    depcache = apt_pkg.DepCache(cache)
    updates = []
    for name in sorted(set(names)):
        try:
            package = cache[name]
        except KeyError:
            continue
        current, candidate = package.current_ver, depcache.get_candidate_ver(package)
        if not current or not candidate or apt_pkg.version_compare(candidate.ver_str, current.ver_str) <= 0:
            continue
        origins = []
        for package_file, _index in candidate.file_list:
            text = origin_text(package_file)
            if not package_file.not_source and text not in origins:
                origins.append(text)
        updates.append({'name': name, 'current': current.ver_str, 'available': candidate.ver_str,
                        'security': any(origin_is_security(origin) for origin in origins), 'origin': ', '.join(origins)})
    return updates


def available_versions(names):
    """{name: [every version of the package the sources offer]}, or None without python3-apt."""
    if apt_pkg is None:
        return None
    apt_pkg.init()
    cache = apt_pkg.Cache(None)
    offered = {}
    for name in sorted(set(names)):
        try:
            package = cache[name]
        except KeyError:
            continue
        # A version only known from dpkg's status file (installed, no longer offered) cannot be installed.
        offered[name] = [version.ver_str for version in package.version_list
                         if any(not package_file.not_source and package_file.archive != 'now' for package_file, _index in version.file_list)]
    return offered

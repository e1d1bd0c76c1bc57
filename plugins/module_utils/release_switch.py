# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Release directories behind a ``current`` symlink: atomic switch and pruning.

Layout: ``<base>/<releases_dir>/<version>/`` holds each release, ``<base>/<link_name>`` is a
relative symlink to the active one. Runs on managed hosts: standard library, Python 3.9.
"""

from __future__ import annotations

import os
import shutil


class ReleaseError(Exception):
    """A release layout that cannot be switched safely; the message names the path."""


def link_target_version(base, link_name='current', releases_dir='releases'):
    """Return the version the link points to, or None when there is no link.

    A link pointing outside ``<base>/<releases_dir>`` or a real directory in its place is an error:
    switching it would destroy something this code did not create.
    """
    link = os.path.join(base, link_name)
    if not os.path.lexists(link):
        return None
    if not os.path.islink(link):
        raise ReleaseError('%s exists and is not a symlink; move it away before switching releases' % link)
    target = os.readlink(link)
    resolved = os.path.normpath(os.path.join(base, target))
    releases = os.path.normpath(os.path.join(base, releases_dir))
    if os.path.dirname(resolved) != releases:
        raise ReleaseError('%s points to %s, outside %s' % (link, target, releases))
    return os.path.basename(resolved)


def list_releases(base, releases_dir='releases'):
    """Release versions on disk, oldest first (by the release directory's modification time)."""
    root = os.path.join(base, releases_dir)
    if not os.path.isdir(root):
        return []
    entries = [e for e in os.listdir(root) if os.path.isdir(os.path.join(root, e)) and not e.startswith('.')]
    return sorted(entries, key=lambda e: (os.stat(os.path.join(root, e)).st_mtime, e))


def switch(base, version, link_name='current', releases_dir='releases', check_mode=False):
    """Point the link at ``version`` atomically (temporary symlink, then rename over the old one).

    Returns ``(changed, previous_version)``. In check mode a missing release is accepted: the
    task that would have unpacked it did not run either.
    """
    release = os.path.join(base, releases_dir, version)
    if version in ('', '.', '..') or os.sep in version:
        raise ReleaseError('release version %r is not a plain directory name' % version)
    if not os.path.isdir(release) and not check_mode:
        raise ReleaseError('release %s does not exist' % release)
    previous = link_target_version(base, link_name, releases_dir)
    if previous == version:
        return False, previous
    if check_mode:
        return True, previous
    link = os.path.join(base, link_name)
    temporary = os.path.join(base, '.%s.%d.tmp' % (link_name, os.getpid()))
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(os.path.join(releases_dir, version), temporary)
    try:
        os.rename(temporary, link)
    except OSError:
        os.unlink(temporary)
        raise
    return True, previous


def prunable(base, keep, protected, releases_dir='releases'):
    """Versions to delete so that ``keep`` releases remain; ``protected`` ones are never deleted."""
    if keep < 1:
        return []
    releases = list_releases(base, releases_dir)
    surplus = len(releases) - keep
    doomed = []
    for version in releases:
        if surplus <= 0:
            break
        if version in protected:
            continue
        doomed.append(version)
        surplus -= 1
    return doomed


def remove_releases(base, versions, releases_dir='releases'):
    for version in versions:
        shutil.rmtree(os.path.join(base, releases_dir, version))

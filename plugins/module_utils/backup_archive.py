# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tar.gz archives of configuration directories, owners and modes kept, for a backup.

Members are stored relative to ``/`` (``etc/ssh/sshd_config``), so one member is put back with
``tar -xzpf etc.tar.gz -C / etc/ssh/sshd_config``. Runs on managed hosts: standard library,
Python 3.9.
"""

from __future__ import annotations

import os
import tarfile

from ansible_collections.patchwise.patching.plugins.module_utils.backup_manifest import BackupError, open_private


def archive_name(path):
    """``/etc`` → ``etc.tar.gz``, ``/opt/app/conf`` → ``opt_app_conf.tar.gz``."""
    cleaned = os.path.normpath(path).strip('/')
    if not os.path.isabs(path) or not cleaned:
        raise BackupError('paths must be absolute directories or files other than /, not %r' % path)
    return cleaned.replace('/', '_') + '.tar.gz'


def archive_names(paths):
    """{path: archive name}; two paths that would share an archive name are refused."""
    names = {}
    for path in paths:
        name = archive_name(path)
        clash = [other for other, other_name in names.items() if other_name == name]
        if clash:
            raise BackupError('paths %s and %s would both be archived as %s; list one of them' % (clash[0], path, name))
        names[path] = name
    return names


def _add(archive, path):
    """Add one entry; an entry that vanished since it was listed is skipped (the host keeps running)."""
    try:
        archive.add(path, arcname=path.lstrip('/'), recursive=False)
    except FileNotFoundError:
        return False
    return True


def create(path, output, exclude=()):
    """Archive ``path`` (a directory, recursively, or a file) as the gzip tar ``output`` (created 0600).

    Symbolic links are stored as links; entries below any of ``exclude`` (the backup root itself,
    when a listed path contains it) are left out. Returns the number of entries archived.
    """
    if not os.path.lexists(path):
        raise BackupError('path %s does not exist on this host' % path)
    excluded = [os.path.normpath(entry) for entry in exclude]

    def kept(candidate):
        return not any(candidate == entry or candidate.startswith(entry.rstrip('/') + '/') for entry in excluded)

    count = 0
    with open_private(output) as handle:
        with tarfile.open(fileobj=handle, mode='w:gz', format=tarfile.PAX_FORMAT) as archive:
            count += _add(archive, path)
            if os.path.isdir(path) and not os.path.islink(path):
                for root, dirs, files in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if kept(os.path.join(root, d)))
                    for name in sorted(dirs) + sorted(files):
                        entry = os.path.join(root, name)
                        if kept(entry):
                            count += _add(archive, entry)
        handle.flush()
        os.fsync(handle.fileno())
    return count

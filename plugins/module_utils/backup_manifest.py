# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SHA-256 manifest of a backup directory: write, verify, and keep a number of backups.

A backup directory holds root-only files (0600) in root-only directories (0700) and a
``manifest.json`` written last that lists every other file with its SHA-256 and size. A backup
verifies when the files on disk are exactly those of the manifest, unchanged and still 0600.
Runs on managed hosts: standard library, Python 3.9.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import time

MANIFEST_NAME = 'manifest.json'
SCHEMA = 1
FILE_MODE = 0o600
DIR_MODE = 0o700
# Directories a crashed run left behind carry this prefix; they never count as backups.
PARTIAL_PREFIX = '.partial-'
PARTIAL_MAX_AGE = 24 * 3600


class BackupError(RuntimeError):
    """A backup is missing, damaged or cannot be written; the message names the file.

    ``result`` carries what was done before the failure (a restore that installed some packages).
    """

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result or {}


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b''):
            digest.update(block)
    return digest.hexdigest()


def open_private(path, mode='wb'):
    """Create ``path`` 0600 from the start (no window where another user could open it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    return os.fdopen(fd, mode)


def write_private_json(path, data):
    with open_private(path, 'w') as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write('\n')
        handle.flush()
        os.fsync(handle.fileno())


def sync_directory(path):
    """Make a rename inside ``path`` durable (the directory entry itself is flushed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private(path):
    """Files a command wrote (umask modes) become 0600; directories 0700."""
    os.chmod(path, DIR_MODE if os.path.isdir(path) else FILE_MODE)


def list_files(directory):
    """Relative paths of every non-directory entry below ``directory``, sorted."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            found.append(os.path.relpath(os.path.join(root, name), directory))
    return sorted(found)


def file_entries(directory):
    """{relative path: {sha256, size}} of every file below ``directory`` except the manifest."""
    return {rel: {'sha256': sha256_file(os.path.join(directory, rel)), 'size': os.path.getsize(os.path.join(directory, rel))}
            for rel in list_files(directory) if rel != MANIFEST_NAME}


def write_manifest(directory, meta, packages):
    """Hash the directory's files and write the manifest (last, fsynced); returns the manifest dict."""
    manifest = dict(meta)
    manifest.update({'schema': SCHEMA, 'files': file_entries(directory), 'packages': packages})
    write_private_json(os.path.join(directory, MANIFEST_NAME), manifest)
    return manifest


def read_manifest(directory):
    path = os.path.join(directory, MANIFEST_NAME)
    try:
        with open(path, encoding='utf-8') as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise BackupError('%s is missing: %s is not a complete backup' % (path, directory)) from None
    except ValueError as exc:
        raise BackupError('%s is not valid JSON: %s' % (path, exc)) from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get('files'), dict):
        raise BackupError('%s has no files mapping' % path)
    if manifest.get('schema') != SCHEMA:
        raise BackupError('%s has schema %r; this module reads schema %s' % (path, manifest.get('schema'), SCHEMA))
    return manifest


def _mode_problem(path, wanted):
    """What makes ``path`` readable or writable by others: a link, a looser mode, another owner than the verifier."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return 'is a symbolic link'
    if stat.S_IMODE(info.st_mode) != wanted:
        return 'has mode %04o, not %04o' % (stat.S_IMODE(info.st_mode), wanted)
    if info.st_uid != os.geteuid():
        return 'is owned by uid %d, not %d' % (info.st_uid, os.geteuid())
    return None


def problems(directory, manifest=None):
    """[(relative path, what is wrong)] of a backup directory, sorted by path; empty when it verifies."""
    manifest = manifest or read_manifest(directory)
    listed = manifest['files']
    found = [rel for rel in list_files(directory) if rel != MANIFEST_NAME]
    bad = []
    for rel in sorted(set(found) | set(listed)):
        path = os.path.join(directory, rel)
        if rel not in listed:
            bad.append((rel, 'is not in the manifest'))
        elif rel not in found:
            bad.append((rel, 'is missing'))
        elif _mode_problem(path, FILE_MODE):
            bad.append((rel, _mode_problem(path, FILE_MODE)))
        elif os.path.getsize(path) != listed[rel].get('size') or sha256_file(path) != listed[rel].get('sha256'):
            bad.append((rel, 'does not match its SHA-256 in the manifest'))
    for rel in (MANIFEST_NAME,):
        problem = _mode_problem(os.path.join(directory, rel), FILE_MODE)
        if problem:
            bad.append((rel, problem))
    for root, dirs, _files in os.walk(directory):
        for name in [os.curdir, *dirs]:
            path = os.path.normpath(os.path.join(root, name))
            problem = None if os.path.islink(path) else _mode_problem(path, DIR_MODE)
            if problem:
                rel = os.path.relpath(path, directory)
                bad.append(('' if rel == os.curdir else rel + '/', problem))
    return sorted(bad)


def verify(directory):
    """The manifest of a backup that verifies; BackupError naming the first bad file otherwise."""
    if not os.path.isdir(directory):
        raise BackupError('backup %s does not exist' % directory)
    manifest = read_manifest(directory)
    bad = problems(directory, manifest)
    if bad:
        rel, what = bad[0]
        more = ' (and %d more problems)' % (len(bad) - 1) if len(bad) > 1 else ''
        raise BackupError('backup %s does not verify: %s %s%s' % (directory, os.path.join(directory, rel), what, more))
    return manifest


def backups(root):
    """Backup directories under ``root`` (those with a manifest), oldest first by their manifest's time."""
    found = []
    if not os.path.isdir(root):
        return found
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name.startswith('.') or os.path.islink(path) or not os.path.isfile(os.path.join(path, MANIFEST_NAME)):
            continue
        try:
            with open(os.path.join(path, MANIFEST_NAME), encoding='utf-8') as handle:
                created = str(json.load(handle).get('created', ''))
        except (OSError, ValueError, AttributeError):
            created = ''
        found.append((created, os.stat(path).st_mtime, name))
    return [name for _created, _mtime, name in sorted(found)]


def expired(root, keep, protect, pending=()):
    """Backups beyond the newest ``keep`` (0 keeps all), never those in ``protect``.

    ``pending`` names backups about to be made (check mode): they count as the newest.
    """
    if keep <= 0:
        return []
    names = backups(root) + [name for name in pending if name not in backups(root)]
    return [name for name in names[:max(len(names) - keep, 0)] if name not in protect]


def stale_partials(root, now=None):
    """Unfinished backup directories older than a day: a crashed run's, not a running one's."""
    now = time.time() if now is None else now
    if not os.path.isdir(root):
        return []
    return sorted(name for name in os.listdir(root) if name.startswith(PARTIAL_PREFIX)
                  and os.path.isdir(os.path.join(root, name)) and now - os.stat(os.path.join(root, name)).st_mtime > PARTIAL_MAX_AGE)


def remove(root, names):
    for name in names:
        shutil.rmtree(os.path.join(root, name))

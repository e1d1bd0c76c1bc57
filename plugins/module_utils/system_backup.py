# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A pre-patch backup's life: make it (staged, then renamed into place), verify it, restore from it.

Layout of ``<root>/<run_id>/`` (docs/backup.md): ``selection.json``, ``packages/*.deb|*.rpm``,
one ``<path>.tar.gz`` per archived path, and ``manifest.json`` written last. Runs on managed
hosts: standard library, Python 3.9.
"""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import tempfile

from ansible_collections.patchwise.patching.plugins.module_utils import backup_archive, backup_manifest
from ansible_collections.patchwise.patching.plugins.module_utils.backup_manifest import BackupError
from ansible_collections.patchwise.patching.plugins.module_utils.package_backup import names, resolve

SELECTION_NAME = 'selection.json'
PACKAGES_DIR = 'packages'


def backup_dir(root, run_id):
    if not run_id or run_id in ('.', '..') or '/' in run_id or run_id.startswith('.'):
        raise BackupError('run_id %r cannot name a backup directory (no /, not starting with a dot)' % run_id)
    return os.path.join(root, run_id)


def summary(directory, manifest):
    """The ``backup`` return value: where it is and what it holds."""
    return {'dir': directory, 'manifest': os.path.join(directory, backup_manifest.MANIFEST_NAME),
            'manifest_sha256': backup_manifest.sha256_file(os.path.join(directory, backup_manifest.MANIFEST_NAME)),
            'created': manifest.get('created'), 'packages': manifest.get('packages', []),
            'paths': manifest.get('paths', {}), 'files': len(manifest['files']),
            'bytes': sum(entry.get('size', 0) for entry in manifest['files'].values())}


def _stage(staging, backend, *, selection, entries, paths, root, meta):
    """Write the whole backup into ``staging``; returns the manifest."""
    backup_manifest.write_private_json(os.path.join(staging, SELECTION_NAME),
                                       {'schema': backup_manifest.SCHEMA, 'manager': backend.name, 'packages': selection})
    packages_dir = os.path.join(staging, PACKAGES_DIR)
    os.mkdir(packages_dir, backup_manifest.DIR_MODE)
    saved = []
    for entry in entries:
        file_name, source, detail = backend.save(entry, packages_dir, staging)
        record = {'name': entry['name'], 'version': entry['version'], 'arch': entry['arch'],
                  'file': PACKAGES_DIR + '/' + file_name if file_name else None, 'source': source}
        record.update(detail)
        saved.append(record)
    names = backup_archive.archive_names(paths)
    for path, name in names.items():
        backup_archive.create(path, os.path.join(staging, name), exclude=[root])
    meta = dict(meta, paths=names)
    return backup_manifest.write_manifest(staging, meta, saved)


def create(root, run_id, backend, *, packages=(), paths=(), retention=5, check_mode=False):
    """Make the backup ``<root>/<run_id>`` unless a verified one is there; returns the module result."""
    directory = backup_dir(root, run_id)
    if os.path.exists(directory):
        manifest = backup_manifest.verify(directory)
        return {'changed': False, 'backup': summary(directory, manifest), 'not_installed': [], 'removed': []}
    selection = backend.selection()
    entries, absent = resolve(packages, selection)
    names = backup_archive.archive_names(paths)
    missing = [path for path in paths if not os.path.lexists(path)]
    if missing:
        raise BackupError('paths to archive do not exist on this host: %s' % ', '.join(missing))
    if check_mode:
        planned = [{'name': e['name'], 'version': e['version'], 'arch': e['arch'], 'file': None, 'source': None} for e in entries]
        return {'changed': True, 'not_installed': absent, 'removed': backup_manifest.expired(root, retention, {run_id}, pending=[run_id]),
                'backup': {'dir': directory, 'manifest': os.path.join(directory, backup_manifest.MANIFEST_NAME),
                           'manifest_sha256': None, 'created': None, 'packages': planned, 'paths': names, 'files': None, 'bytes': None}}
    if not os.path.isdir(root):
        os.makedirs(root, backup_manifest.DIR_MODE)
    staging = tempfile.mkdtemp(prefix='%s%s-' % (backup_manifest.PARTIAL_PREFIX, run_id), dir=root)
    try:
        meta = {'run_id': run_id, 'host': socket.getfqdn(), 'manager': backend.name,
                'created': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}
        manifest = _stage(staging, backend, selection=selection, entries=entries, paths=paths, root=root, meta=meta)
        # The rename is the commit: under its final name a backup is always complete.
        os.rename(staging, directory)
        backup_manifest.sync_directory(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    removed = backup_manifest.expired(root, retention, {run_id})
    backup_manifest.remove(root, removed + backup_manifest.stale_partials(root))
    return {'changed': True, 'backup': summary(directory, manifest), 'not_installed': absent, 'removed': removed}


def verify(root, run_id):
    directory = backup_dir(root, run_id)
    return {'changed': False, 'backup': summary(directory, backup_manifest.verify(directory))}


def _select_saved(manifest, packages, directory):
    """Manifest entries to restore: all, or those naming ``packages`` (with or without ``:arch``)."""
    saved = manifest.get('packages', [])
    if not packages:
        chosen = saved
    else:
        chosen, unknown = [], []
        for name in packages:
            matches = [entry for entry in saved if names(entry, name)]
            if not matches:
                unknown.append(name)
            chosen.extend(entry for entry in matches if entry not in chosen)
        if unknown:
            raise BackupError('backup %s holds no saved package for %s' % (directory, ', '.join(unknown)))
    unusable = [entry['name'] for entry in chosen if not entry.get('file')]
    if unusable:
        raise BackupError('backup %s could not save %s (source unavailable); restore them by hand' % (directory, ', '.join(unusable)))
    return chosen


def _changes(chosen, installed):
    return [{'name': entry['name'], 'from': installed.get(entry['name']), 'to': entry['version']}
            for entry in chosen if installed.get(entry['name']) != entry['version']]


def restore(root, run_id, packages, backend, check_mode=False):
    """Verify, then install the saved packages whose installed version differs; returns the module result."""
    directory = backup_dir(root, run_id)
    manifest = backup_manifest.verify(directory)
    if manifest.get('manager') != backend.name:
        raise BackupError('backup %s was made with %s, this host uses %s' % (directory, manifest.get('manager'), backend.name))
    chosen = _select_saved(manifest, packages, directory)
    changes = _changes(chosen, backend.installed_versions())
    result = {'changed': bool(changes), 'restored': changes, 'backup': summary(directory, manifest)}
    if check_mode or not changes:
        return result
    by_name = {entry['name']: entry for entry in chosen}
    failure = None
    try:
        backend.install([os.path.join(directory, by_name[change['name']]['file']) for change in changes])
    except BackupError as exc:
        failure = str(exc)
    after = backend.installed_versions()
    missed = _changes([by_name[change['name']] for change in changes], after)
    if failure or missed:
        # What did change is reported with the failure: the caller records a partial rollback truthfully.
        done = [dict(change, to=after.get(change['name'])) for change in changes if after.get(change['name']) != change['from']]
        still = 'still not at the saved version: %s' % ', '.join('%s (%s, saved %s)' % (m['name'], m['from'], m['to']) for m in missed)
        raise BackupError('restoring from %s: %s' % (directory, '; '.join(filter(None, [failure, still if missed else None]))),
                          result=dict(result, changed=bool(done), restored=done))
    return result

"""A backup verifies only when its files are exactly the manifest's, unchanged and root-only; retention."""

from __future__ import annotations

import json
import os
import time

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import backup_manifest as bm


def _private(path, data):
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o600)


@pytest.fixture
def backup(tmp_path):
    directory = tmp_path / 'run-1'
    directory.mkdir(mode=0o700)
    directory.chmod(0o700)
    _private(directory / 'selection.json', b'{"packages": []}\n')
    _private(directory / 'etc.tar.gz', b'\x1f\x8b archive bytes')
    _private(directory / 'packages' / 'netbase_6.4_all.deb', b'!<arch>\n deb bytes')
    (directory / 'packages').chmod(0o700)
    bm.write_manifest(str(directory), {'run_id': 'run-1', 'created': '2026-11-29T01:00:00Z'}, [])
    return directory


def test_manifest_lists_every_file_with_hash_and_size(backup):
    manifest = json.loads((backup / 'manifest.json').read_text())
    assert sorted(manifest['files']) == ['etc.tar.gz', 'packages/netbase_6.4_all.deb', 'selection.json']
    deb = manifest['files']['packages/netbase_6.4_all.deb']
    assert deb['size'] == len(b'!<arch>\n deb bytes')
    assert deb['sha256'] == bm.sha256_file(str(backup / 'packages' / 'netbase_6.4_all.deb'))
    assert manifest['schema'] == bm.SCHEMA and manifest['run_id'] == 'run-1'
    assert oct((backup / 'manifest.json').stat().st_mode & 0o777) == oct(0o600)


def test_intact_backup_verifies(backup):
    assert bm.problems(str(backup)) == []
    assert bm.verify(str(backup))['run_id'] == 'run-1'


def _expect_bad(backup, name, words):
    with pytest.raises(bm.BackupError) as caught:
        bm.verify(str(backup))
    message = str(caught.value)
    assert os.path.join(str(backup), name) in message
    assert words in message


def test_an_edited_byte_is_named(backup):
    deb = backup / 'packages' / 'netbase_6.4_all.deb'
    data = bytearray(deb.read_bytes())
    data[3] ^= 0x01
    deb.write_bytes(bytes(data))
    _expect_bad(backup, 'packages/netbase_6.4_all.deb', 'does not match its SHA-256')


def test_a_deleted_file_is_named(backup):
    (backup / 'etc.tar.gz').unlink()
    _expect_bad(backup, 'etc.tar.gz', 'is missing')


def test_an_added_file_is_named(backup):
    _private(backup / 'packages' / 'evil_1.0_all.deb', b'x')
    _expect_bad(backup, 'packages/evil_1.0_all.deb', 'is not in the manifest')


def test_a_file_readable_by_others_is_named(backup):
    (backup / 'selection.json').chmod(0o644)
    _expect_bad(backup, 'selection.json', 'has mode 0644, not 0600')


def test_a_directory_opened_up_is_named(backup):
    (backup / 'packages').chmod(0o755)
    _expect_bad(backup, 'packages/', 'has mode 0755, not 0700')


def test_the_first_bad_file_is_named_and_the_others_counted(backup):
    (backup / 'selection.json').unlink()
    (backup / 'etc.tar.gz').unlink()
    _expect_bad(backup, 'etc.tar.gz', 'is missing (and 1 more problems)')


def test_files_owned_by_someone_else_are_named(backup, monkeypatch):
    # Verified by another user than the one owning the files: as if they had been chowned away.
    owner = os.stat(str(backup / 'etc.tar.gz')).st_uid
    monkeypatch.setattr(bm.os, 'geteuid', lambda: owner + 1)
    assert ('etc.tar.gz', 'is owned by uid %d, not %d' % (owner, owner + 1)) in bm.problems(str(backup))
    _expect_bad(backup, '', 'is owned by uid %d, not %d (and 6 more problems)' % (owner, owner + 1))


def test_a_backup_without_manifest_is_incomplete(backup):
    (backup / 'manifest.json').unlink()
    with pytest.raises(bm.BackupError, match=r'manifest\.json is missing'):
        bm.verify(str(backup))


def test_a_symlink_in_place_of_a_file_is_refused(backup, tmp_path):
    outside = tmp_path / 'outside.json'
    outside.write_bytes((backup / 'selection.json').read_bytes())
    (backup / 'selection.json').unlink()
    (backup / 'selection.json').symlink_to(outside)
    _expect_bad(backup, 'selection.json', 'is a symbolic link')


def _make(root, name, created):
    directory = root / name
    directory.mkdir(mode=0o700)
    bm.write_private_json(str(directory / bm.MANIFEST_NAME), {'schema': bm.SCHEMA, 'created': created, 'files': {}})


def test_retention_removes_the_oldest_by_manifest_time_never_the_protected(tmp_path):
    # Names sort the other way round from their creation times: the manifest's time decides.
    for name, created in (('c', '2026-01-01T00:00:00Z'), ('b', '2026-02-01T00:00:00Z'), ('a', '2026-03-01T00:00:00Z')):
        _make(tmp_path, name, created)
    (tmp_path / 'not-a-backup').mkdir()
    assert bm.backups(str(tmp_path)) == ['c', 'b', 'a']
    assert bm.expired(str(tmp_path), 2, {'a'}) == ['c']
    assert bm.expired(str(tmp_path), 1, {'c'}) == ['b']
    assert bm.expired(str(tmp_path), 0, set()) == []
    # A backup only planned (check mode) counts as the newest.
    assert bm.expired(str(tmp_path), 2, {'d'}, pending=['d']) == ['c', 'b']
    bm.remove(str(tmp_path), ['c'])
    assert sorted(os.listdir(str(tmp_path))) == ['a', 'b', 'not-a-backup']


def test_only_old_partial_directories_are_stale(tmp_path):
    old = tmp_path / (bm.PARTIAL_PREFIX + 'run-1-abc')
    new = tmp_path / (bm.PARTIAL_PREFIX + 'run-2-def')
    old.mkdir()
    new.mkdir()
    past = time.time() - bm.PARTIAL_MAX_AGE - 60
    os.utime(str(old), (past, past))
    assert bm.stale_partials(str(tmp_path)) == [old.name]
    assert bm.backups(str(tmp_path)) == []


def test_private_files_are_created_0600(tmp_path):
    with bm.open_private(str(tmp_path / 'secret')) as handle:
        handle.write(b'x')
    assert (tmp_path / 'secret').stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        bm.open_private(str(tmp_path / 'secret'))

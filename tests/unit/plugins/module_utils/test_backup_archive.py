"""Path archives keep owners, modes and links, leave the backup root out, and refuse name clashes."""

from __future__ import annotations

import os
import re
import tarfile

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import backup_archive
from ansible_collections.patchwise.patching.plugins.module_utils.backup_manifest import BackupError


def test_archive_names_follow_the_path():
    assert backup_archive.archive_names(['/etc', '/opt/app/conf/']) == {'/etc': 'etc.tar.gz', '/opt/app/conf/': 'opt_app_conf.tar.gz'}


@pytest.mark.parametrize('path', ['/', 'etc', ''])
def test_relative_paths_and_the_root_are_refused(path):
    with pytest.raises(BackupError, match='absolute'):
        backup_archive.archive_name(path)


def test_two_paths_with_one_archive_name_are_refused():
    with pytest.raises(BackupError, match=r'/opt/app_conf and /opt/app/conf would both be archived as opt_app_conf\.tar\.gz'):
        backup_archive.archive_names(['/opt/app_conf', '/opt/app/conf'])


def test_archive_keeps_modes_owners_and_links_and_skips_the_backup_root(tmp_path):
    conf = tmp_path / 'conf'
    (conf / 'ssh').mkdir(parents=True)
    (conf / 'ssh' / 'key').write_text('secret\n')
    (conf / 'ssh' / 'key').chmod(0o600)
    (conf / 'shadow').write_text('root:*:1::::::\n')
    (conf / 'shadow').chmod(0o640)
    if os.geteuid() == 0:
        os.chown(str(conf / 'shadow'), 0, 42)
    (conf / 'link').symlink_to('ssh/key')
    (conf / 'backups' / 'run-1').mkdir(parents=True)
    (conf / 'backups' / 'run-1' / 'old.tar.gz').write_text('x')
    output = tmp_path / 'conf.tar.gz'
    count = backup_archive.create(str(conf), str(output), exclude=[str(conf / 'backups')])
    assert output.stat().st_mode & 0o777 == 0o600
    prefix = str(conf).lstrip('/')
    with tarfile.open(str(output)) as archive:
        members = {member.name: member for member in archive.getmembers()}
        assert sorted(members) == sorted([prefix, prefix + '/ssh', prefix + '/ssh/key', prefix + '/shadow', prefix + '/link'])
        assert count == len(members)
        assert members[prefix + '/ssh/key'].mode == 0o600
        assert members[prefix + '/shadow'].mode == 0o640
        assert members[prefix + '/shadow'].gid == os.stat(str(conf / 'shadow')).st_gid
        assert members[prefix + '/link'].issym() and members[prefix + '/link'].linkname == 'ssh/key'
        assert archive.extractfile(prefix + '/ssh/key').read() == b'secret\n'


def test_a_single_file_can_be_archived(tmp_path):
    (tmp_path / 'app.conf').write_text('a=1\n')
    assert backup_archive.create(str(tmp_path / 'app.conf'), str(tmp_path / 'out.tar.gz')) == 1


def test_a_missing_path_is_named(tmp_path):
    with pytest.raises(BackupError, match=re.escape('path %s does not exist' % (tmp_path / 'absent'))):
        backup_archive.create(str(tmp_path / 'absent'), str(tmp_path / 'out.tar.gz'))

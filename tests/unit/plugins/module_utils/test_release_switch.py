from __future__ import annotations

import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import release_switch as rs


def _release(base, version, mtime):
    path = base / 'releases' / version
    path.mkdir(parents=True)
    os.utime(path, (mtime, mtime))
    return path


def test_first_switch_creates_relative_link(tmp_path):
    _release(tmp_path, '1.0', 100)
    assert rs.switch(str(tmp_path), '1.0') == (True, None)
    assert os.readlink(tmp_path / 'current') == os.path.join('releases', '1.0')
    assert rs.link_target_version(str(tmp_path)) == '1.0'


def test_switch_replaces_link_and_reports_previous(tmp_path):
    _release(tmp_path, '1.0', 100)
    _release(tmp_path, '2.0', 200)
    rs.switch(str(tmp_path), '1.0')
    assert rs.switch(str(tmp_path), '2.0') == (True, '1.0')
    assert rs.link_target_version(str(tmp_path)) == '2.0'
    assert sorted(os.listdir(tmp_path)) == ['current', 'releases'], 'temporary link left behind'


def test_switch_is_idempotent(tmp_path):
    _release(tmp_path, '1.0', 100)
    rs.switch(str(tmp_path), '1.0')
    assert rs.switch(str(tmp_path), '1.0') == (False, '1.0')


def test_switch_uses_rename_not_unlink(tmp_path, monkeypatch):
    _release(tmp_path, '1.0', 100)
    _release(tmp_path, '2.0', 200)
    rs.switch(str(tmp_path), '1.0')

    def no_unlink(path):
        raise AssertionError('the link was removed before the new one was in place: %s' % path)
    monkeypatch.setattr(os, 'unlink', no_unlink)
    rs.switch(str(tmp_path), '2.0')
    assert rs.link_target_version(str(tmp_path)) == '2.0'


def test_check_mode_changes_nothing(tmp_path):
    _release(tmp_path, '1.0', 100)
    _release(tmp_path, '2.0', 200)
    rs.switch(str(tmp_path), '1.0')
    assert rs.switch(str(tmp_path), '2.0', check_mode=True) == (True, '1.0')
    assert rs.link_target_version(str(tmp_path)) == '1.0'


def test_check_mode_accepts_release_not_yet_unpacked(tmp_path):
    assert rs.switch(str(tmp_path), '3.0', check_mode=True) == (True, None)
    assert not os.path.lexists(tmp_path / 'current')


def test_missing_release_is_refused(tmp_path):
    with pytest.raises(rs.ReleaseError, match=r'releases/9\.9 does not exist'):
        rs.switch(str(tmp_path), '9.9')


@pytest.mark.parametrize('version', ['..', '../x', ''])
def test_path_like_version_is_refused(tmp_path, version):
    with pytest.raises(rs.ReleaseError, match='not a plain directory name'):
        rs.switch(str(tmp_path), version)


def test_real_directory_at_link_is_refused(tmp_path):
    _release(tmp_path, '1.0', 100)
    (tmp_path / 'current').mkdir()
    with pytest.raises(rs.ReleaseError, match='is not a symlink'):
        rs.switch(str(tmp_path), '1.0')


def test_link_outside_releases_is_refused(tmp_path):
    (tmp_path / 'elsewhere').mkdir()
    os.symlink('elsewhere', tmp_path / 'current')
    with pytest.raises(rs.ReleaseError, match='outside'):
        rs.link_target_version(str(tmp_path))


def test_releases_are_listed_oldest_first(tmp_path):
    _release(tmp_path, '10.0', 300)
    _release(tmp_path, '9.0', 100)
    _release(tmp_path, '9.5', 200)
    assert rs.list_releases(str(tmp_path)) == ['9.0', '9.5', '10.0']


def test_prune_keeps_newest_and_protected(tmp_path):
    for i, version in enumerate(['1', '2', '3', '4', '5']):
        _release(tmp_path, version, 100 + i)
    assert rs.prunable(str(tmp_path), 2, {'1', '5'}) == ['2', '3', '4']
    assert rs.prunable(str(tmp_path), 3, {'5', '4'}) == ['1', '2']
    assert rs.prunable(str(tmp_path), 0, set()) == []
    rs.remove_releases(str(tmp_path), ['1', '2'])
    assert rs.list_releases(str(tmp_path)) == ['3', '4', '5']

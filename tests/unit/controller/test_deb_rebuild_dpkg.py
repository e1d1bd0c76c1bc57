"""Rebuild a package installed on this Debian host and compare the .deb with what dpkg recorded.

netbase and base-passwd are always installed (important / essential) and small; netbase has
conffiles, base-passwd has Depends and debconf templates; both have maintainer scripts.
"""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import deb_rebuild


def run(args, env=None, cwd=None):
    process = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=dict(os.environ, **(env or {})), check=False)
    return process.returncode, process.stdout, process.stderr


def _query(package, field):
    return subprocess.run(['dpkg-query', '-W', '-f', '${%s}' % field, package], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope='module', params=['netbase', 'base-passwd'])
def rebuilt(request, tmp_path_factory):
    package = request.param
    work = tmp_path_factory.mktemp('rebuild')
    output = str(work / (package + '.deb'))
    result = deb_rebuild.rebuild(package, run, str(work), output)
    assert not os.path.exists(str(work / 'tree')), 'the build tree is removed after the build'
    return package, '/var/lib/dpkg/info/' + package, output, result


def test_control_fields_equal_the_installed_status(rebuilt):
    package, _info, output, _result = rebuilt
    for field in ('Package', 'Version', 'Architecture', 'Depends', 'Pre-Depends', 'Maintainer', 'Replaces', 'Breaks',
                  'Description'):
        built = subprocess.run(['dpkg-deb', '--field', output, field], capture_output=True, text=True, check=True).stdout
        assert built.rstrip('\n') == _query(package, field).rstrip('\n'), field
    info = subprocess.run(['dpkg-deb', '--info', output], capture_output=True, text=True, check=True).stdout
    assert 'Status:' not in info and 'Conffiles:' not in info


def test_contents_are_exactly_the_packages_file_list(rebuilt):
    _package, info, output, result = rebuilt
    with open(info + '.list') as handle:
        listed = {line.strip() for line in handle if line.strip() and line.strip() != '/.'}
    contents = subprocess.run(['dpkg-deb', '--fsys-tarfile', output], capture_output=True, check=True).stdout
    members = subprocess.run(['tar', '-t'], input=contents, capture_output=True, check=True).stdout.decode().splitlines()
    built = {'/' + member[2:].rstrip('/') for member in members if member not in ('./', '.')}
    assert built == listed - set(result['skipped'])
    assert result['skipped'] == [path for path in sorted(listed) if not os.path.lexists(path)]


def test_maintainer_scripts_and_conffiles_are_the_installed_ones(rebuilt, tmp_path):
    _package, info, output, _result = rebuilt
    subprocess.run(['dpkg-deb', '--control', output, str(tmp_path / 'DEBIAN')], check=True)
    for member in deb_rebuild.SCRIPT_MEMBERS + deb_rebuild.DATA_MEMBERS + ('conffiles',):
        if os.path.exists(info + '.' + member):
            with open(info + '.' + member, 'rb') as installed:
                assert (tmp_path / 'DEBIAN' / member).read_bytes() == installed.read(), member
            if member in deb_rebuild.SCRIPT_MEMBERS:
                assert (tmp_path / 'DEBIAN' / member).stat().st_mode & 0o111
    assert (tmp_path / 'DEBIAN' / 'postinst').exists()


def test_file_contents_match_dpkgs_md5sums(rebuilt, tmp_path):
    _package, info, output, _result = rebuilt
    subprocess.run(['dpkg-deb', '--extract', output, str(tmp_path)], check=True)
    with open(info + '.md5sums') as handle:
        recorded = dict(reversed(line.rstrip('\n').split('  ', 1)) for line in handle if line.strip())
    assert recorded
    for path, md5 in recorded.items():
        if os.path.exists('/' + path):
            assert hashlib.md5((tmp_path / path).read_bytes(), usedforsecurity=False).hexdigest() == md5, path


def test_configuration_files_are_taken_as_on_disk(rebuilt, tmp_path):
    _package, info, output, _result = rebuilt
    subprocess.run(['dpkg-deb', '--extract', output, str(tmp_path)], check=True)
    conffiles = [line.strip() for line in open(info + '.conffiles')] if os.path.exists(info + '.conffiles') else []
    for conffile in conffiles:
        with open(conffile, 'rb') as handle:
            assert (tmp_path / conffile.lstrip('/')).read_bytes() == handle.read(), conffile


def test_a_package_not_installed_is_refused(tmp_path):
    with pytest.raises(deb_rebuild.RebuildError, match='pw-surely-not-installed'):
        deb_rebuild.rebuild('pw-surely-not-installed', run, str(tmp_path), str(tmp_path / 'x.deb'))

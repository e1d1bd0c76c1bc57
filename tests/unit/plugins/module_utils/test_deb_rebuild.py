"""The pieces of a rebuild that need no dpkg: control text, file tree, control members.

tests/unit/controller/test_deb_rebuild_dpkg.py rebuilds a real installed package.
"""

from __future__ import annotations

import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import deb_rebuild

STATUS = """Package: pw-demo
Status: install ok installed
Priority: optional
Section: misc
Installed-Size: 12
Maintainer: Patchwise <dev@example.org>
Architecture: amd64
Version: 1:2.0-1
Depends: libc6 (>= 2.34)
Conffiles:
 /etc/pw-demo.conf 0123456789abcdef0123456789abcdef
Description: demo
 Second line.
 .
 Last line.
"""


def test_control_keeps_package_fields_and_drops_installation_state():
    control = deb_rebuild.package_control(STATUS)
    assert control.startswith('Package: pw-demo\nPriority: optional\n')
    assert 'Status:' not in control and 'Conffiles:' not in control and '/etc/pw-demo.conf' not in control
    assert 'Version: 1:2.0-1\nDepends: libc6 (>= 2.34)\n' in control
    assert control.endswith('Description: demo\n Second line.\n .\n Last line.\n')


def test_a_line_outside_any_field_is_an_error():
    with pytest.raises(deb_rebuild.RebuildError, match='unexpected line'):
        deb_rebuild.parse_control('Package: x\nnonsense\n')


def test_diversions_file_is_read_in_threes(tmp_path):
    (tmp_path / 'diversions').write_text('/usr/bin/tool\n/usr/bin/tool.distrib\nother-pkg\n/etc/x\n/etc/x.local\n:\n')
    assert deb_rebuild.diversions(str(tmp_path)) == {'/usr/bin/tool': ('/usr/bin/tool.distrib', 'other-pkg'),
                                                     '/etc/x': ('/etc/x.local', ':')}


def test_info_base_prefers_the_multiarch_name(tmp_path):
    info = tmp_path / 'info'
    info.mkdir()
    (info / 'libfoo1:amd64.list').write_text('/.\n')
    (info / 'plain.list').write_text('/.\n')
    assert deb_rebuild.info_base('libfoo1', 'amd64', str(tmp_path)) == str(info / 'libfoo1:amd64')
    assert deb_rebuild.info_base('plain', 'all', str(tmp_path)) == str(info / 'plain')
    with pytest.raises(deb_rebuild.RebuildError, match='no file list'):
        deb_rebuild.info_base('absent', 'all', str(tmp_path))


@pytest.fixture
def installed(tmp_path):
    """A package's files under tmp_path/root: a usrmerge-style linked directory, a diverted file, modes."""
    root = tmp_path / 'root'
    (root / 'usr' / 'bin').mkdir(parents=True)
    (root / 'bin').symlink_to('usr/bin')
    (root / 'usr' / 'bin' / 'tool').write_text('tool\n')
    (root / 'usr' / 'bin' / 'tool').chmod(0o4755)
    (root / 'usr' / 'bin' / 'tool.distrib').write_text('the package copy\n')
    (root / 'usr' / 'bin' / 'tool-link').symlink_to('tool')
    (root / 'etc').mkdir()
    (root / 'etc' / 'pw-demo.conf').write_text('edited by the admin\n')
    (root / 'etc' / 'pw-demo.conf').chmod(0o640)
    return root


def test_tree_recreates_files_links_and_modes(tmp_path, installed):
    root = str(installed)
    paths = [root + p for p in ('/bin', '/bin/tool-x', '/usr', '/usr/bin', '/usr/bin/tool', '/usr/bin/tool-link',
                                '/etc', '/etc/pw-demo.conf')]
    tree = tmp_path / 'tree'
    tree.mkdir()
    diverted = {root + '/usr/bin/tool': (root + '/usr/bin/tool.distrib', 'other-pkg')}
    skipped = deb_rebuild.populate_tree(str(tree), paths, 'pw-demo', diverted, as_root=os.geteuid() == 0)
    built = str(tree) + root
    assert skipped == [root + '/bin/tool-x']
    # /bin is a link on disk but the package lists files under it: a directory in the package.
    assert os.path.isdir(built + '/bin') and not os.path.islink(built + '/bin')
    # Diverted by another package: the package's own copy is the divert-to file.
    assert open(built + '/usr/bin/tool').read() == 'the package copy\n'
    assert os.readlink(built + '/usr/bin/tool-link') == 'tool'
    assert open(built + '/etc/pw-demo.conf').read() == 'edited by the admin\n'
    assert os.stat(built + '/etc/pw-demo.conf').st_mode & 0o7777 == 0o640


def test_the_packages_own_diversion_is_not_followed(tmp_path, installed):
    root = str(installed)
    tree = tmp_path / 'tree'
    tree.mkdir()
    diverted = {root + '/usr/bin/tool': (root + '/usr/bin/tool.distrib', 'pw-demo')}
    deb_rebuild.populate_tree(str(tree), [root + '/usr', root + '/usr/bin', root + '/usr/bin/tool'], 'pw-demo:amd64',
                              diverted, as_root=False)
    built = str(tree) + root + '/usr/bin/tool'
    assert open(built).read() == 'tool\n'
    assert os.stat(built).st_mode & 0o7777 == 0o4755


def test_control_members_list_only_present_files(tmp_path):
    info = tmp_path / 'info'
    info.mkdir()
    base = str(info / 'pw-demo')
    (info / 'pw-demo.conffiles').write_text('/etc/pw-demo.conf\n/etc/gone.conf\n')
    (info / 'pw-demo.md5sums').write_text('11111111111111111111111111111111  usr/bin/tool\n'
                                          '22222222222222222222222222222222  usr/share/doc/pw-demo/gone\n')
    (info / 'pw-demo.postinst').write_text('#!/bin/sh\nexit 0\n')
    (info / 'pw-demo.triggers').write_text('interest-noawait /usr/lib/demo\n')
    debian = tmp_path / 'DEBIAN'
    deb_rebuild.write_control_members(str(debian), base, 'Package: pw-demo\n', {'/etc/pw-demo.conf', '/usr/bin/tool'})
    assert (debian / 'conffiles').read_text() == '/etc/pw-demo.conf\n'
    assert (debian / 'md5sums').read_text() == '11111111111111111111111111111111  usr/bin/tool\n'
    assert (debian / 'postinst').stat().st_mode & 0o777 == 0o755
    assert (debian / 'triggers').stat().st_mode & 0o777 == 0o644
    assert sorted(os.listdir(str(debian))) == ['conffiles', 'control', 'md5sums', 'postinst', 'triggers']

"""Package selection, saving (download first, else rebuild) and reinstallation, against recorded command output.

The real dpkg/apt path is exercised in tests/unit/controller/test_system_backup_dpkg.py.
"""

from __future__ import annotations

import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import deb_rebuild, package_backup
from ansible_collections.patchwise.patching.plugins.module_utils.backup_manifest import BackupError

DPKG_QUERY = ('libc6:amd64\t2.36-9+deb12u14\tamd64\tii \n'
              'libc6:i386\t2.36-9+deb12u14\ti386\tii \n'
              'openssl\t3.0.17-1~deb12u2\tamd64\thi \n'
              'oldconf\t1.0-1\tall\trc \n'
              'epochy\t1:2.0-1\tall\tii \n')


class Recorder:
    """Answers commands by their first words and records each call (args, env, cwd)."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, args, env=None, cwd=None):
        self.calls.append((list(args), env, cwd))
        for prefix, answer in self.answers.items():
            if tuple(args[:len(prefix)]) == prefix:
                return answer(args, cwd) if callable(answer) else answer
        raise AssertionError('unexpected command %s' % args)

    def commands(self, first):
        return [args for args, _env, _cwd in self.calls if args[0] == first]


def apt_answers(**extra):
    answers = {('apt-mark', 'showhold'): (0, 'openssl\n', ''), ('dpkg-query', '-W'): (0, DPKG_QUERY, '')}
    answers.update(extra)
    return answers


def test_selection_has_every_package_with_version_arch_state_and_hold():
    selection = package_backup.AptPackages(Recorder(apt_answers())).selection()
    by_name = {entry['name']: entry for entry in selection}
    assert by_name['openssl'] == {'name': 'openssl', 'version': '3.0.17-1~deb12u2', 'arch': 'amd64', 'status': 'hi',
                                  'held': True, 'installed': True}
    assert by_name['oldconf']['installed'] is False
    assert by_name['libc6:i386']['held'] is False
    assert len(selection) == 5


def test_resolve_accepts_names_with_and_without_architecture():
    selection = package_backup.AptPackages(Recorder(apt_answers())).selection()
    chosen, absent = package_backup.resolve(['libc6', 'openssl', 'libc6:amd64', 'oldconf', 'absent'], selection)
    assert [entry['name'] for entry in chosen] == ['libc6:amd64', 'libc6:i386', 'openssl']
    assert absent == ['oldconf', 'absent']
    chosen, _absent = package_backup.resolve(['libc6:i386'], selection)
    assert [entry['name'] for entry in chosen] == ['libc6:i386']


def test_file_names_spell_the_epoch_as_apt_does():
    entry = {'name': 'epochy:amd64', 'version': '1:2.0-1', 'arch': 'amd64'}
    assert package_backup.package_file_name(entry, 'deb') == 'epochy_1%3a2.0-1_amd64.deb'


ENTRY = {'name': 'openssl', 'version': '3.0.17-1~deb12u2', 'arch': 'amd64'}


def _fields(version):
    return (0, 'Package: openssl\nVersion: %s\nArchitecture: amd64\n' % version, '')


def _download(args, cwd):
    with open(os.path.join(cwd, 'openssl_3.0.17-1~deb12u2_amd64.deb'), 'w') as handle:
        handle.write('archive deb')
    return 0, '', ''


def test_the_archive_copy_is_saved_when_it_still_has_the_version(tmp_path):
    run = Recorder({('apt-get', '-q', 'download'): _download, ('dpkg-deb', '--field'): _fields(ENTRY['version'])})
    name, source, detail = package_backup.AptPackages(run).save(ENTRY, str(tmp_path), str(tmp_path))
    assert (name, source, detail) == ('openssl_3.0.17-1~deb12u2_amd64.deb', 'downloaded', {})
    assert (tmp_path / name).read_text() == 'archive deb'
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    assert run.commands('apt-get') == [['apt-get', '-q', 'download', 'openssl:amd64=3.0.17-1~deb12u2']]
    assert sorted(os.listdir(str(tmp_path))) == [name], 'the scratch directory is removed'


@pytest.fixture
def fake_rebuild(monkeypatch):
    rebuilt = []

    def rebuild(package, run, work_dir, output):
        rebuilt.append(package)
        with open(output, 'w') as handle:
            handle.write('rebuilt deb')
        return {'control': [], 'skipped': ['/usr/share/doc/openssl/changelog.gz']}

    monkeypatch.setattr(deb_rebuild, 'rebuild', rebuild)
    return rebuilt


@pytest.mark.parametrize('download, versions', [
    ((100, '', 'E: Can\'t find a source to download version'), [ENTRY['version']]),
    # The archive has a file, but of another version (dpkg-deb reports it): not kept.
    (_download, ['3.0.18-1~deb12u1', ENTRY['version']]),
])
def test_a_package_the_archive_lacks_is_rebuilt(tmp_path, fake_rebuild, download, versions):
    fields = iter([_fields(version) for version in versions])
    run = Recorder({('apt-get', '-q', 'download'): download, ('dpkg-deb', '--field'): lambda args, cwd: next(fields)})
    name, source, detail = package_backup.AptPackages(run).save(ENTRY, str(tmp_path), str(tmp_path))
    assert (source, detail) == ('rebuilt', {'skipped_files': ['/usr/share/doc/openssl/changelog.gz']})
    assert (tmp_path / name).read_text() == 'rebuilt deb'
    assert fake_rebuild == ['openssl']


def test_without_downloads_every_package_is_rebuilt(tmp_path, fake_rebuild):
    run = Recorder({('dpkg-deb', '--field'): _fields(ENTRY['version'])})
    assert package_backup.AptPackages(run, download=False).save(ENTRY, str(tmp_path), str(tmp_path))[1] == 'rebuilt'
    assert run.commands('apt-get') == []


def test_a_rebuild_that_does_not_carry_the_version_fails(tmp_path, fake_rebuild):
    run = Recorder({('dpkg-deb', '--field'): _fields('9.9')})
    with pytest.raises(BackupError, match=r'does not carry openssl 3\.0\.17-1~deb12u2 amd64'):
        package_backup.AptPackages(run, download=False).save(ENTRY, str(tmp_path), str(tmp_path))


def test_install_allows_downgrades_and_keeps_configuration():
    run = Recorder({('apt-get', '-q', '-y'): (0, '', '')})
    package_backup.AptPackages(run).install(['/b/packages/a.deb', '/b/packages/b.deb'])
    (args, env, _cwd), = run.calls
    assert args[-3:] == ['install', '/b/packages/a.deb', '/b/packages/b.deb']
    assert '--allow-downgrades' in args and 'Dpkg::Options::=--force-confold' in args and '--no-remove' in args
    assert env['DEBIAN_FRONTEND'] == 'noninteractive'


def test_a_failed_install_is_explained():
    output = "dpkg: error processing package pw-x (--configure):\n installed pw-x package post-installation script returned 1\n"
    run = Recorder({('apt-get', '-q', '-y'): (100, output, 'E: Sub-process /usr/bin/dpkg returned an error code (1)')})
    with pytest.raises(BackupError, match=r'rc 100\): pw-x \(--configure\): installed pw-x package post-installation'):
        package_backup.AptPackages(run).install(['/b/a.deb'])


RPM_QA = 'openssl\t1:3.0.7-27.el9\tx86_64\nopenssl-libs\t1:3.0.7-27.el9\tx86_64\nbash\t5.1.8-9.el9\tx86_64\n'


def test_dnf_selection_marks_versionlocked_packages():
    run = Recorder({('dnf', '-q', 'versionlock'): (0, 'openssl-1:3.0.7-27.el9.*\n', ''), ('rpm', '-qa'): (0, RPM_QA, '')})
    by_name = {entry['name']: entry for entry in package_backup.DnfPackages(run).selection()}
    assert by_name['openssl']['held'] is True
    assert by_name['openssl-libs']['held'] is False
    assert by_name['bash'] == {'name': 'bash', 'version': '5.1.8-9.el9', 'arch': 'x86_64', 'status': 'installed',
                               'held': False, 'installed': True}


def test_dnf_without_versionlock_plugin_holds_nothing():
    run = Recorder({('dnf', '-q', 'versionlock'): (1, '', 'No such command: versionlock'), ('rpm', '-qa'): (0, RPM_QA, '')})
    assert not any(entry['held'] for entry in package_backup.DnfPackages(run).selection())


RPM_ENTRY = {'name': 'openssl', 'version': '1:3.0.7-27.el9', 'arch': 'x86_64'}


def test_dnf_downloads_the_installed_nevra(tmp_path):
    def download(args, cwd):
        destdir = args[args.index('--destdir') + 1]
        with open(os.path.join(destdir, 'openssl-3.0.7-27.el9.x86_64.rpm'), 'w') as handle:
            handle.write('rpm')
        return 0, '', ''

    run = Recorder({('dnf', '-q', 'download'): download})
    name, source, _detail = package_backup.DnfPackages(run).save(RPM_ENTRY, str(tmp_path), str(tmp_path))
    assert (name, source) == ('openssl_1%3a3.0.7-27.el9_x86_64.rpm', 'downloaded')
    assert run.calls[0][0][-1] == 'openssl-1:3.0.7-27.el9.x86_64'
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_an_rpm_the_repositories_lack_is_recorded_unavailable(tmp_path):
    run = Recorder({('dnf', '-q', 'download'): (1, '', 'No package openssl-1:3.0.7-27.el9.x86_64 available.')})
    name, source, detail = package_backup.DnfPackages(run).save(RPM_ENTRY, str(tmp_path), str(tmp_path))
    assert (name, source) == (None, 'unavailable')
    assert 'No package' in detail['reason']
    assert os.listdir(str(tmp_path)) == []


def test_rpm_restore_is_a_dnf_downgrade_of_the_saved_files():
    run = Recorder({('dnf', '-y'): (0, '', '')})
    package_backup.DnfPackages(run).install(['/b/packages/a.rpm', '/b/packages/b.rpm'])
    assert run.commands('dnf') == [['dnf', '-y', '-q', '--setopt=install_weak_deps=False', 'downgrade', '/b/packages/a.rpm', '/b/packages/b.rpm']]
    assert run.commands('rpm') == []


def test_rpm_restore_falls_back_to_rpm_when_dnf_fails():
    run = Recorder({('dnf', '-y'): (1, '', "Error: Failed to download metadata for repo 'baseos'"), ('rpm', '-Uvh'): (0, '', '')})
    package_backup.DnfPackages(run).install(['/b/packages/a.rpm'])
    assert run.commands('rpm') == [['rpm', '-Uvh', '--oldpackage', '/b/packages/a.rpm']]


def test_rpm_restore_that_both_refuse_gives_both_reasons():
    run = Recorder({('dnf', '-y'): (1, '', "Error: Failed to download metadata for repo 'baseos'"),
                    ('rpm', '-Uvh'): (1, '', 'error: Failed dependencies:\n\tlibfoo.so.1 is needed by a-1.0-1.x86_64')})
    with pytest.raises(BackupError, match=r"dnf downgrade: Failed to download metadata for repo 'baseos'; rpm -Uvh --oldpackage \(rc 1\): "
                                          r'error: Failed dependencies: \| \s*libfoo\.so\.1 is needed'):
        package_backup.DnfPackages(run).install(['/b/packages/a.rpm'])


def test_rpm_backend_in_an_installroot():
    run = Recorder({('dnf', '--installroot=/img'): (0, '', ''), ('rpm', '--root'): (0, 'gpg-pubkey\tfd431d51-4ae0493b\t(none)\n' + RPM_QA, '')})
    packages = package_backup.DnfPackages(run, root='/img')
    assert [entry['name'] for entry in packages.selection()] == ['bash', 'openssl', 'openssl-libs'], 'a key is not a package'
    packages.install(['/b/a.rpm'])
    assert run.commands('dnf')[-1] == ['dnf', '--installroot=/img', '-y', '-q', '--setopt=install_weak_deps=False', 'downgrade', '/b/a.rpm']


def test_backend_by_name():
    assert package_backup.backend('apt', Recorder({})).name == 'apt'
    assert package_backup.backend('dnf', Recorder({})).name == 'dnf'

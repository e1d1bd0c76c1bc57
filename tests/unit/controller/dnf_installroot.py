"""A real RPM-managed test host: a ``dnf --installroot`` on this Debian machine.

The session fixture builds small noarch RPMs with rpmbuild, signs them with a throwaway gpg key,
indexes them with createrepo_c, adds security and bugfix advisories (updateinfo.xml) with
modifyrepo_c and signs repomd.xml; a template installroot gets a .repo file with gpgcheck=1 and
repo_gpgcheck=1, the key in its rpmdb, the 1.0-1 versions installed and pw-demo-held versionlocked
through the root's own versionlock plugin configuration.  Each test works on a copy of that root
(fixture ``root``).  The folder's conftest makes the fixtures available to its tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap

import pytest

PACKAGES = [
    ('pw-release', '1', '1'),
    ('pw-demo-security', '1.0', '1'), ('pw-demo-security', '1.0', '2'),
    # 1.0-5: an intermediate fix still in the repository, older than the newest 1.1-1 (a plan's exact target).
    ('pw-demo-normal', '1.0', '1'), ('pw-demo-normal', '1.0', '5'), ('pw-demo-normal', '1.1', '1'),
    ('pw-demo-held', '1.0', '1'), ('pw-demo-held', '1.0', '2'),
    ('pw-failing', '1.0', '1'), ('pw-failing', '1.0', '2'),
    # A source RPM with two binaries (pw-daemon, pw-daemon-libs): not in the template root; the discovery tests install it.
    ('pw-daemon', '1.0', '1'), ('pw-daemon', '1.0', '2'),
]
FIRST_VERSIONS = ['pw-release', 'pw-demo-security-1.0-1', 'pw-demo-normal-1.0-1', 'pw-demo-held-1.0-1', 'pw-failing-1.0-1']
UPDATEINFO = """<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="security@example.invalid" status="final" type="security" version="1">
    <id>PWSA-2026:0001</id>
    <title>Important: pw-demo-security and pw-demo-held security update</title>
    <severity>Important</severity>
    <issued date="2026-11-01 00:00:00"/>
    <description>Fixes CVE-2026-0001.</description>
    <references><reference href="https://example.invalid/CVE-2026-0001" id="CVE-2026-0001" type="cve" title="CVE-2026-0001"/></references>
    <pkglist><collection short="pw"><name>pw</name>
      <package name="pw-demo-security" version="1.0" release="2" epoch="0" arch="noarch"><filename>pw-demo-security-1.0-2.noarch.rpm</filename></package>
      <package name="pw-demo-held" version="1.0" release="2" epoch="0" arch="noarch"><filename>pw-demo-held-1.0-2.noarch.rpm</filename></package>
    </collection></pkglist>
  </update>
  <update from="bugs@example.invalid" status="final" type="bugfix" version="1">
    <id>PWBA-2026:0002</id>
    <title>pw-demo-normal bug fix update</title>
    <issued date="2026-11-02 00:00:00"/>
    <description>Fixes a bug.</description>
    <pkglist><collection short="pw"><name>pw</name>
      <package name="pw-demo-normal" version="1.1" release="1" epoch="0" arch="noarch"><filename>pw-demo-normal-1.1-1.noarch.rpm</filename></package>
    </collection></pkglist>
  </update>
  <update from="security@example.invalid" status="final" type="security" version="2">
    <id>PWSA-2026:0003</id>
    <title>Critical: pw-daemon security update</title>
    <severity>Critical</severity>
    <issued date="2026-11-03 00:00:00"/>
    <updated date="2026-11-05 12:30:00"/>
    <description>Fixes CVE-2026-0003 and CVE-2026-0004.</description>
    <references>
      <reference href="https://example.invalid/CVE-2026-0003" id="CVE-2026-0003" type="cve" title="CVE-2026-0003"/>
      <reference href="https://example.invalid/CVE-2026-0004" id="CVE-2026-0004" type="cve" title="CVE-2026-0004"/>
      <reference href="https://bugs.example.invalid/3" id="3" type="bugzilla" title="pw-daemon maps a stale library"/>
    </references>
    <pkglist><collection short="pw"><name>pw</name>
      <package name="pw-daemon" version="1.0" release="2" epoch="0" arch="noarch" src="pw-daemon-1.0-2.src.rpm">
        <filename>pw-daemon-1.0-2.noarch.rpm</filename></package>
      <package name="pw-daemon-libs" version="1.0" release="2" epoch="0" arch="noarch" src="pw-daemon-1.0-2.src.rpm">
        <filename>pw-daemon-libs-1.0-2.noarch.rpm</filename></package>
    </collection></pkglist>
  </update>
</updates>
"""
KEY_EMAIL = 'pw-test@example.invalid'


def run(args, env=None):
    process = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(env or {})), check=False)
    return process.returncode, process.stdout, process.stderr


def checked(args, env=None):
    rc, out, err = run(args, env)
    assert rc == 0, '%s: rc %s\n%s\n%s' % (' '.join(args), rc, out, err)
    return out


def library_path(work):
    """Where pw-daemon-libs puts its library: a path that a process of this machine can map too (see needs-restarting)."""
    return str(work / 'host' / 'libpw-daemon.so')


def _spec(name, version, release, work):
    lines = ['Name: %s' % name, 'Version: %s' % version, 'Release: %s' % release, 'Summary: patchwise test package',
             'License: GPL-3.0-or-later', 'BuildArch: noarch']
    if name == 'pw-release':
        # What dnf reads the release version of an installroot from (as from redhat-release).
        lines.append('Provides: system-release(releasever) = 1')
    lines += ['%description', 'A patchwise test package.', '%install',
              'mkdir -p %{buildroot}/usr/share/' + name,
              'echo "%s %s-%s" > %%{buildroot}/usr/share/%s/version' % (name, version, release, name)]
    if name == 'pw-demo-normal':
        lines += ['mkdir -p %{buildroot}/etc', 'echo "setting=%s" > %%{buildroot}/etc/pw-demo-normal.conf' % version]
    lines += ['%files', '/usr/share/%s/version' % name]
    if name == 'pw-demo-normal':
        lines.append('%config(noreplace) /etc/pw-demo-normal.conf')
    if name == 'pw-daemon':
        library = library_path(work)
        lines[lines.index('%files'):lines.index('%files')] = [
            'mkdir -p %%{buildroot}%s' % os.path.dirname(library),
            'echo "pw-daemon library %s-%s" > %%{buildroot}%s' % (version, release, library)]
        lines += ['%package libs', 'Summary: patchwise test library', '%description libs', 'The library of pw-daemon.',
                  '%files libs', library]
    if name == 'pw-failing' and release == '2':
        # A Lua scriptlet runs inside rpm: the root needs no /bin/sh for the post-install step to run (and fail).
        lines += ['%post -p <lua>', 'error("pw-failing: the post-install step fails on purpose")']
    return '\n'.join(lines) + '\n'


@pytest.fixture(scope='session')
def signed_repository(tmp_path_factory):
    """(repo dir, armoured public key path) of the signed fixture repository."""
    work = tmp_path_factory.mktemp('dnf-fixture')
    top, repo, gnupg = work / 'rpmbuild', work / 'repo', work / 'gnupg'
    (top / 'SPECS').mkdir(parents=True)
    repo.mkdir()
    gnupg.mkdir(mode=0o700)
    gpg_env = {'GNUPGHOME': str(gnupg)}
    checked(['gpg', '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key',
             'patchwise test <%s>' % KEY_EMAIL, 'rsa2048', 'sign', 'never'], gpg_env)
    key = work / 'RPM-GPG-KEY-pw-test'
    key.write_text(checked(['gpg', '--armor', '--export', KEY_EMAIL], gpg_env))
    for name, version, release in PACKAGES:
        spec = top / 'SPECS' / ('%s-%s-%s.spec' % (name, version, release))
        spec.write_text(_spec(name, version, release, work))
        checked(['rpmbuild', '--quiet', '--define', '_topdir %s' % top, '--define', '_build_id_links none', '-bb', str(spec)])
    rpms = sorted(str(path) for path in (top / 'RPMS' / 'noarch').glob('*.rpm'))
    assert len(rpms) == len(PACKAGES) + 2, 'pw-daemon-libs is the second binary of both pw-daemon builds'
    # Debian's rpm calls gpg2 by default; Debian names it gpg.
    checked(['rpmsign', '--define', '__gpg /usr/bin/gpg', '--define', '_gpg_name %s' % KEY_EMAIL,
             '--define', '_gpg_path %s' % gnupg, '--addsign', *rpms], gpg_env)
    for rpm in rpms:
        shutil.copy(rpm, str(repo))
    checked(['createrepo_c', '-q', str(repo)])
    (work / 'updateinfo.xml').write_text(UPDATEINFO)
    checked(['modifyrepo_c', '--mdtype=updateinfo', str(work / 'updateinfo.xml'), str(repo / 'repodata')])
    checked(['gpg', '--batch', '--yes', '--local-user', KEY_EMAIL, '--detach-sign', '--armor',
             str(repo / 'repodata' / 'repomd.xml')], gpg_env)
    # gpg started an agent for this home; it would outlive the tests.
    checked(['gpgconf', '--kill', 'gpg-agent'], gpg_env)
    return repo, key


def write_root_config(root):
    """The root's plugin configuration; the versionlock list path is the host's view of it."""
    plugins = root / 'etc' / 'dnf' / 'plugins'
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / 'versionlock.conf').write_text('[main]\nenabled = 1\nlocklist = %s\n' % (plugins / 'versionlock.list'))
    if not (plugins / 'versionlock.list').exists():
        (plugins / 'versionlock.list').write_text('')


@pytest.fixture(scope='session')
def template_root(signed_repository, tmp_path_factory):
    repo, key = signed_repository
    root = tmp_path_factory.mktemp('dnf-template') / 'root'
    (root / 'etc' / 'yum.repos.d').mkdir(parents=True)
    (root / 'etc' / 'yum.repos.d' / 'pw.repo').write_text(textwrap.dedent("""\
        [pw]
        name=patchwise test repository
        baseurl=file://%s
        gpgcheck=1
        repo_gpgcheck=1
        gpgkey=file://%s
        metadata_expire=never
        """ % (repo, key)))
    (root / 'etc' / 'dnf' / 'dnf.conf').parent.mkdir(parents=True)
    (root / 'etc' / 'dnf' / 'dnf.conf').write_text('[main]\nreposdir=/etc/yum.repos.d\ninstall_weak_deps=False\n')
    write_root_config(root)
    checked(['rpm', '--root', str(root), '--import', str(key)])
    dnf = ['dnf', '--installroot=%s' % root, '--setopt=pluginconfpath=%s' % (root / 'etc' / 'dnf' / 'plugins')]
    # -y imports the repository key for the repomd.xml signature check (repo_gpgcheck).
    checked([*dnf, '-y', '-q', 'makecache'])
    checked([*dnf, '-y', '-q', 'install', *FIRST_VERSIONS])
    checked([*dnf, '-q', 'versionlock', 'add', 'pw-demo-held'])
    stop_gpg_agents(root)
    return root


@pytest.fixture()
def root(template_root, tmp_path):
    copy = tmp_path / 'root'
    shutil.copytree(str(template_root), str(copy), symlinks=True)
    write_root_config(copy)
    yield copy
    stop_gpg_agents(copy)


def stop_gpg_agents(root):
    """dnf checks repository signatures with a keyring of its own in its cache, and gpg starts an agent for it that
    would outlive the tests."""
    for keyring in (root / 'var' / 'cache' / 'dnf').glob('*/pubring'):
        run(['gpgconf', '--homedir', str(keyring), '--kill', 'gpg-agent'])

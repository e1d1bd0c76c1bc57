from __future__ import annotations

import os
import re

from ansible_collections.patchwise.patching.plugins.module_utils import package_sources

DEB822 = """Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.internal/debian
Suites: bookworm
Components: main
Trusted: yes

Types: deb
URIs: http://old.internal/debian
Suites: bookworm
Components: main
Enabled: no
Trusted: yes
"""


def test_deb822_trusted_stanza_found_disabled_one_ignored():
    assert package_sources.parse_deb822_sources(DEB822, '/etc/apt/sources.list.d/debian.sources') == [
        {'file': '/etc/apt/sources.list.d/debian.sources', 'line': 8, 'source': 'http://mirror.internal/debian', 'setting': 'Trusted: yes'}]


def test_one_line_options():
    text = ('deb [signed-by=/usr/share/keyrings/k.gpg] http://deb.debian.org/debian bookworm main\n'
            '# deb [trusted=yes] http://commented/ bookworm main\n'
            'deb [arch=amd64 trusted=yes] file:/srv/mirror bookworm main\n'
            'deb-src [allow-insecure=yes] http://src.internal/ bookworm main\n'
            'deb [trusted=no] http://fine/ bookworm main\n')
    assert package_sources.parse_one_line_sources(text, 'x.list') == [
        {'file': 'x.list', 'line': 3, 'source': 'file:/srv/mirror', 'setting': 'trusted=yes'},
        {'file': 'x.list', 'line': 4, 'source': 'http://src.internal/', 'setting': 'allow-insecure=yes'}]


def test_one_line_options_with_spaces_and_every_insecure_option():
    text = ('deb [ arch=amd64 allow-weak=yes ] http://weak/ bookworm main\n'
            'deb [allow-downgrade-to-insecure=yes signed-by=/k.gpg] http://down/ bookworm main\n'
            'deb http://plain/ bookworm main # trusted=yes only in a comment\n')
    assert [(f['line'], f['source'], f['setting']) for f in package_sources.parse_one_line_sources(text, 'y.list')] == [
        (1, 'http://weak/', 'allow-weak=yes'), (2, 'http://down/', 'allow-downgrade-to-insecure=yes')]


def test_deb822_other_options_and_continuation_lines():
    text = ('Types: deb deb-src\nURIs: http://a.internal/debian\n http://b.internal/debian\nSuites: bookworm\n'
            'Components: main\nAllow-Insecure: yes\n\n\nTypes: deb\nURIs: http://c.internal/\nSuites: x\nAllow-Weak: no\n')
    assert package_sources.parse_deb822_sources(text, 'z.sources') == [
        {'file': 'z.sources', 'line': 1, 'source': 'http://a.internal/debian http://b.internal/debian', 'setting': 'Allow-Insecure: yes'}]


def test_apt_conf_flat_and_scoped_forms_with_lines():
    text = ('// comment Acquire::AllowInsecureRepositories "true";\n'
            'APT::Get::AllowUnauthenticated "true";\n'
            '/* a block comment\n   over two lines */\n'
            'Acquire {\n  AllowInsecureRepositories "1";\n  Retries "3";\n};\n'
            '# Acquire::AllowWeakRepositories "true";\n'
            'Acquire::AllowWeakRepositories "false";\n'
            'APT { Get { AllowUnauthenticated "yes"; }; };\n'
            'Acquire::http::Proxy "http://proxy:3128"; Acquire::AllowDowngradeToInsecureRepositories "true";\n')
    found = [(f['line'], f['setting']) for f in package_sources.parse_apt_conf(text, 'c')]
    assert found == [(2, 'apt::get::allowunauthenticated "true"'), (6, 'acquire::allowinsecurerepositories "1"'),
                     (11, 'apt::get::allowunauthenticated "yes"'), (12, 'acquire::allowdowngradetoinsecurerepositories "true"')]


def test_this_machines_apt_configuration_reads_without_false_findings():
    """The real apt.conf.d files of this machine: only a file that really allows insecure sources may be found."""
    for name in sorted(os.listdir('/etc/apt/apt.conf.d')) if os.path.isdir('/etc/apt/apt.conf.d') else []:
        path = os.path.join('/etc/apt/apt.conf.d', name)
        with open(path, encoding='utf-8', errors='replace') as handle:
            text = handle.read()
        findings = package_sources.parse_apt_conf(text, path)
        if not re.search(r'Allow(Insecure|Unauthenticated|Weak|Downgrade)', text, re.I):
            assert findings == [], path


def test_apt_unsigned_sources_reads_the_tree_and_skips_what_apt_ignores(tmp_path):
    (tmp_path / 'sources.list.d').mkdir()
    (tmp_path / 'apt.conf.d').mkdir()
    (tmp_path / 'sources.list.d' / 'debian.sources').write_text(DEB822)
    (tmp_path / 'sources.list.d' / 'unsigned.list').write_text('deb [trusted=yes] file:/srv/unsigned-mirror bullseye main\n')
    (tmp_path / 'sources.list.d' / 'old.list.disabled').write_text('deb [trusted=yes] file:/srv/old bullseye main\n')
    (tmp_path / 'apt.conf.d' / '70debconf').write_text('DPkg::Pre-Install-Pkgs {"/usr/sbin/dpkg-preconfigure --apt || true";};\n')
    (tmp_path / 'apt.conf.d' / '99insecure').write_text('Acquire::AllowInsecureRepositories "true";\n')
    (tmp_path / 'apt.conf.d' / '99insecure.dpkg-old').write_text('APT::Get::AllowUnauthenticated "true";\n')
    findings = package_sources.apt_unsigned_sources(str(tmp_path))
    assert [(f['file'], f['line']) for f in findings] == [
        (str(tmp_path / 'sources.list.d' / 'unsigned.list'), 1), (str(tmp_path / 'sources.list.d' / 'debian.sources'), 8),
        (str(tmp_path / 'apt.conf.d' / '99insecure'), 1)]


def _dnf_root(tmp_path, dnf_conf):
    (tmp_path / 'etc' / 'yum.repos.d').mkdir(parents=True)
    (tmp_path / 'etc' / 'dnf').mkdir()
    (tmp_path / 'etc' / 'dnf' / 'dnf.conf').write_text(dnf_conf)
    (tmp_path / 'etc' / 'yum.repos.d' / 'a.repo').write_text(
        '[baseos]\nname=BaseOS\nbaseurl=https://mirror/baseos\ngpgcheck=1\n\n[internal]\nbaseurl=http://internal/\ngpgcheck=0\n'
        '\n[off]\nbaseurl=http://off/\ngpgcheck=0\nenabled=0\n\n[unset]\nmetalink=https://m/?repo=x&arch=$basearch\n'
        '\n[alias]\nbaseurl=http://alias/\npkg_gpgcheck=false\n')
    return str(tmp_path)


def test_dnf_gpgcheck_off_or_unset_follows_main(tmp_path):
    root = _dnf_root(tmp_path, '[main]\ngpgcheck=True\ninstallonly_limit=3\n')
    found = package_sources.dnf_unsigned_repos(root)
    assert [f['source'] for f in found] == ['[internal] http://internal/', '[alias] http://alias/']
    assert found[0]['file'] == str(tmp_path / 'etc' / 'yum.repos.d' / 'a.repo') and found[0]['setting'] == 'gpgcheck=0'
    (tmp_path / 'etc' / 'dnf' / 'dnf.conf').write_text('[main]\n')
    assert [f['source'] for f in package_sources.dnf_unsigned_repos(root)] == [
        '[internal] http://internal/', '[unset] https://m/?repo=x&arch=$basearch', '[alias] http://alias/']


def test_dnf_reposdir_and_repositories_in_dnf_conf(tmp_path):
    root = _dnf_root(tmp_path, '[main]\ngpgcheck=1\nreposdir=/srv/repos\n\n[inline]\nbaseurl=file:///srv/inline\ngpgcheck=no\n')
    (tmp_path / 'srv' / 'repos').mkdir(parents=True)
    (tmp_path / 'srv' / 'repos' / 'b.repo').write_text('[local]\nbaseurl=file:///srv/local\ngpgcheck=0\n')
    assert [(os.path.basename(f['file']), f['source']) for f in package_sources.dnf_unsigned_repos(root)] == [
        ('dnf.conf', '[inline] file:///srv/inline'), ('b.repo', '[local] file:///srv/local')]


def test_dnf_unreadable_repo_file_is_a_finding(tmp_path):
    root = _dnf_root(tmp_path, '[main]\ngpgcheck=1\n')
    (tmp_path / 'etc' / 'yum.repos.d' / 'broken.repo').write_text('baseurl=http://no-section/\n')
    broken = [f for f in package_sources.dnf_unsigned_repos(root) if f['file'].endswith('broken.repo')]
    assert len(broken) == 1 and broken[0]['setting'].startswith('unreadable: ')


def test_apt_update_problems():
    output = ('Hit:1 http://deb.debian.org/debian bookworm InRelease\n'
              'Err:2 file:/srv/unsigned-mirror bullseye Release\n'
              "E: The repository 'file:/srv/unsigned-mirror bullseye Release' does not have a Release file.\n"
              'W: GPG error: http://x bookworm InRelease: The following signatures could not be verified: NO_PUBKEY 0E98404D386FA1D9\n'
              'W: Some index files failed to download. They have been ignored, or old ones used instead.\n')
    assert len(package_sources.apt_update_problems(output)) == 2
    assert package_sources.describe([{'file': 'f', 'line': 2, 'source': 's', 'setting': 'trusted=yes'}]) == 'f:2: s (trusted=yes)'

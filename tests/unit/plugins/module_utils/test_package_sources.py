from __future__ import annotations

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


def test_apt_conf_flat_and_scoped_forms():
    text = ('// comment Acquire::AllowInsecureRepositories "true";\n'
            'APT::Get::AllowUnauthenticated "true";\n'
            'Acquire { AllowInsecureRepositories "1"; Retries "3"; };\n'
            'Acquire::AllowWeakRepositories "false";\n')
    settings = [finding['setting'] for finding in package_sources.parse_apt_conf(text, 'c')]
    assert settings == ['apt::get::allowunauthenticated "true"', 'acquire::allowinsecurerepositories "1"']


def test_apt_unsigned_sources_reads_the_tree(tmp_path):
    (tmp_path / 'sources.list.d').mkdir()
    (tmp_path / 'apt.conf.d').mkdir()
    (tmp_path / 'sources.list.d' / 'debian.sources').write_text(DEB822)
    (tmp_path / 'sources.list.d' / 'unsigned.list').write_text('deb [trusted=yes] file:/srv/unsigned-mirror bullseye main\n')
    (tmp_path / 'apt.conf.d' / '70debconf').write_text('DPkg::Pre-Install-Pkgs {"/usr/sbin/dpkg-preconfigure --apt || true";};\n')
    files = [finding['file'] for finding in package_sources.apt_unsigned_sources(str(tmp_path))]
    assert files == [str(tmp_path / 'sources.list.d' / 'unsigned.list'), str(tmp_path / 'sources.list.d' / 'debian.sources')]


def test_dnf_gpgcheck_off_or_unset(tmp_path):
    repos = tmp_path / 'yum.repos.d'
    repos.mkdir()
    (repos / 'a.repo').write_text('[baseos]\nbaseurl=https://mirror/baseos\ngpgcheck=1\n\n[internal]\nbaseurl=http://internal/\ngpgcheck=0\n'
                                  '\n[off]\nbaseurl=http://off/\ngpgcheck=0\nenabled=0\n\n[unset]\nmetalink=https://m/\n')
    conf = tmp_path / 'dnf.conf'
    conf.write_text('[main]\ngpgcheck=True\n')
    assert [f['source'] for f in package_sources.dnf_unsigned_repos(str(repos), str(conf))] == ['[internal] http://internal/']
    conf.write_text('[main]\n')
    assert [f['source'] for f in package_sources.dnf_unsigned_repos(str(repos), str(conf))] == ['[internal] http://internal/', '[unset] https://m/']


def test_apt_update_problems():
    output = ('Hit:1 http://deb.debian.org/debian bookworm InRelease\n'
              'Err:2 file:/srv/unsigned-mirror bullseye Release\n'
              "E: The repository 'file:/srv/unsigned-mirror bullseye Release' does not have a Release file.\n"
              'W: GPG error: http://x bookworm InRelease: The following signatures could not be verified: NO_PUBKEY 0E98404D386FA1D9\n'
              'W: Some index files failed to download. They have been ignored, or old ones used instead.\n')
    assert len(package_sources.apt_update_problems(output)) == 2
    assert package_sources.describe([{'file': 'f', 'line': 2, 'source': 's', 'setting': 'trusted=yes'}]) == 'f:2: s (trusted=yes)'

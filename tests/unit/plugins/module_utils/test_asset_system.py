from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.asset_system import (
    newest_kernel,
    os_identity,
    parse_apk_installed,
    parse_dpkg_query,
    parse_os_release,
    parse_rpm_query,
)
from ansible_collections.patchwise.patching.plugins.module_utils.osv_ecosystems import ecosystem_applies
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

DEBIAN_12 = '''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
'''

UBUNTU_2204 = '''NAME="Ubuntu"
VERSION_ID="22.04"
ID=ubuntu
ID_LIKE=debian
VERSION_CODENAME=jammy
'''

ROCKY_9 = '''NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
'''


OS_RELEASES = {
    'ubuntu-22.04': ('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION="22.04.4 LTS (Jammy Jellyfish)"\n'
                     'VERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n'),
    'ubuntu-24.10': 'NAME="Ubuntu"\nVERSION_ID="24.10"\nVERSION="24.10 (Oracular Oriole)"\nID=ubuntu\nID_LIKE=debian\n',
    'rhel-9.4': ('NAME="Red Hat Enterprise Linux"\nVERSION="9.4 (Plow)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n'
                 'PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\n'),
    'almalinux-9.4': 'NAME="AlmaLinux"\nVERSION="9.4 (Seafoam Ocelot)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
    'rocky-9.4': 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
    'centos-stream-9': 'NAME="CentOS Stream"\nVERSION="9"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n',
    'oracle-9.4': 'NAME="Oracle Linux Server"\nVERSION="9.4"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n',
    'fedora-40': 'NAME="Fedora Linux"\nVERSION="40 (Container Image)"\nID=fedora\nVERSION_ID=40\n',
    'amazon-2023': 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n',
    'alpine-3.20.3': 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
    'sles-15-sp5': ('NAME="SLES"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\nID="sles"\n'
                    'ID_LIKE="suse"\n'),
    'opensuse-leap-15.5': ('NAME="openSUSE Leap"\nVERSION="15.5"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.5"\n'
                           'PRETTY_NAME="openSUSE Leap 15.5"\n'),
    'opensuse-tumbleweed': ('NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\nVERSION_ID="20240801"\n'
                            'PRETTY_NAME="openSUSE Tumbleweed"\n'),
    'virtuozzo-9': 'NAME="Virtuozzo"\nID=virtuozzo\nID_LIKE="rhel fedora"\nVERSION_ID=9\n',
}


def test_os_identity_debian():
    identity = os_identity(parse_os_release(DEBIAN_12), 'amd64')
    assert identity == {'family': 'Debian', 'distribution': 'Debian GNU/Linux', 'id': 'debian', 'version': '12',
                        'codename': 'bookworm', 'arch': 'amd64', 'pkg_mgr': 'apt', 'ecosystem': 'Debian:12', 'ecosystems': ['Debian:12']}


@pytest.mark.parametrize('name, pro, family, pkg_mgr, ecosystems, reason', [
    ('ubuntu-22.04', False, 'Debian', 'apt', ['Ubuntu:22.04:LTS'], None),
    ('ubuntu-22.04', True, 'Debian', 'apt', ['Ubuntu:22.04:LTS', 'Ubuntu:Pro:22.04:LTS'], None),
    ('ubuntu-24.10', True, 'Debian', 'apt', ['Ubuntu:24.10'], None),        # an interim release: no Pro ecosystem
    ('rhel-9.4', False, 'RedHat', 'dnf', ['Red Hat:enterprise_linux:9'], None),
    ('almalinux-9.4', False, 'RedHat', 'dnf', ['AlmaLinux:9'], None),
    ('rocky-9.4', False, 'RedHat', 'dnf', ['Rocky Linux:9'], None),
    ('centos-stream-9', False, 'RedHat', 'dnf', [], 'OSV publishes no advisories for CentOS Stream (centos): its packages are not matched'),
    ('oracle-9.4', False, 'RedHat', 'dnf', [], 'OSV publishes no advisories for Oracle Linux (ol): its packages are not matched'),
    ('fedora-40', False, 'RedHat', 'dnf', [], 'OSV publishes no advisories for Fedora (fedora): its packages are not matched'),
    ('amazon-2023', False, 'RedHat', 'dnf', [], 'OSV publishes no advisories for Amazon Linux (amzn): its packages are not matched'),
    ('alpine-3.20.3', False, 'Alpine', 'apk', ['Alpine:v3.20'], None),
    ('sles-15-sp5', False, 'Suse', 'zypper', ['SUSE:Linux Enterprise Server 15 SP5'], None),
    # OSV's SUSE names drop the vendor word PRETTY_NAME starts with (real records: "SUSE:Package Hub 12").
    ('opensuse-leap-15.5', False, 'Suse', 'zypper', ['openSUSE:Leap 15.5'], None),
    ('opensuse-tumbleweed', False, 'Suse', 'zypper', ['openSUSE:Tumbleweed'], None),
    ('virtuozzo-9', False, 'RedHat', 'dnf', [], "no OSV ecosystem is known for os-release ID 'virtuozzo'"),
])
def test_os_release_to_osv_ecosystems(name, pro, family, pkg_mgr, ecosystems, reason):  # noqa: PLR0917 - one row of the table
    identity = os_identity(parse_os_release(OS_RELEASES[name]), 'x86_64', pro=pro)
    assert (identity['family'], identity['pkg_mgr'], identity['ecosystems']) == (family, pkg_mgr, ecosystems)
    assert identity['ecosystem'] == (ecosystems[0] if ecosystems else None)
    assert identity.get('ecosystem_reason') == reason


@pytest.mark.parametrize('stored, host, applies', [
    ('Debian:12', 'Debian:12', True), ('Debian', 'Debian:12', True), ('Debian:11', 'Debian:12', False),
    ('Ubuntu:22.04:LTS', 'Ubuntu:22.04:LTS', True), ('Ubuntu:Pro:22.04:LTS', 'Ubuntu:22.04:LTS', False),
    ('Ubuntu', 'Ubuntu:22.04:LTS', True),
    ('Red Hat:enterprise_linux:9::appstream', 'Red Hat:enterprise_linux:9', True),
    ('Red Hat:enterprise_linux:9::baseos', 'Red Hat:enterprise_linux:9', True),
    ('Red Hat:enterprise_linux:8::appstream', 'Red Hat:enterprise_linux:9', False),
    ('Red Hat:rhel_eus:9.2::appstream', 'Red Hat:enterprise_linux:9', False),
    ('AlmaLinux:9', 'AlmaLinux:9', True), ('AlmaLinux', 'AlmaLinux:9', True), ('AlmaLinux:8', 'AlmaLinux:9', False),
    ('Alpine:v3.20', 'Alpine:v3.20', True), ('Alpine:v3.19', 'Alpine:v3.20', False),
])
def test_which_stored_ecosystems_apply_to_a_host(stored, host, applies):
    assert ecosystem_applies(stored, host) is applies


def test_parse_dpkg_query():
    # Captured from a Debian 12 host with the format of DPKG_QUERY_FORMAT.
    text = ('ii \tlibssl3\t3.0.17-1~deb12u2\tamd64\topenssl\t3.0.17-1~deb12u2\n'
            'hi \tpw-demo-held\t1.0-1\tall\t\t\n'
            'rc \told-package\t1.0\tamd64\told-package\t1.0\n'
            'un \tnever-there\t\t\t\t\n'
            'iU \tpw-unpacked\t2.0-1\tall\tpw-unpacked\t2.0-1\n'
            'iF \tpw-halfconf\t2.0-1\tall\t\t\n'
            'iH \tpw-halfinst\t2.0-1\tall\t\t\n'
            'iW \tpw-awaited\t2.0-1\tall\t\t\n'
            'it \tpw-pending\t2.0-1\tall\t\t\n'
            'ii \tlibgcc-s1\t12.2.0-14+deb12u1\tamd64\tgcc-12\t12.2.0-14+deb12u1\n')
    packages = parse_dpkg_query(text)
    assert [(p['name'], p['state']) for p in packages] == [
        ('libssl3', 'installed'), ('pw-demo-held', 'installed'), ('pw-unpacked', 'unpacked'), ('pw-halfconf', 'half-configured'),
        ('pw-halfinst', 'half-installed'), ('pw-awaited', 'triggers-awaited'), ('pw-pending', 'triggers-pending'),
        ('libgcc-s1', 'installed')]
    assert packages[0]['source_name'] == 'openssl'
    assert packages[1] == {'name': 'pw-demo-held', 'version': '1.0-1', 'arch': 'all', 'source_name': 'pw-demo-held',
                           'source_version': '1.0-1', 'held': True, 'state': 'installed'}


def test_parse_rpm_query():
    # Hand-written in the format of RPM_QUERY_FORMAT (no RPM host in the testbed).
    text = ('openssl-libs\t1\t3.0.7\t27.el9\tx86_64\topenssl-3.0.7-27.el9.src.rpm\n'
            'bash\t0\t5.1.8\t9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm\n'
            'gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\t(none)\n')
    packages = parse_rpm_query(text)
    assert packages[0]['version'] == '1:3.0.7-27.el9'
    # The source RPM's file name has no epoch: the binary's is carried over, as advisories compare with it.
    assert (packages[0]['source_name'], packages[0]['source_version']) == ('openssl', '1:3.0.7-27.el9')
    assert packages[1]['version'] == '5.1.8-9.el9'
    assert len(packages) == 2, 'gpg-pubkey entries are the rpmdb\'s keys, not packages'


def test_newest_kernel():
    releases = ['6.1.0-9-amd64', '6.1.0-18-amd64', '5.10.0-28-amd64']
    assert newest_kernel(releases, lambda a, b: compare_versions(a, b, 'generic')) == '6.1.0-18-amd64'
    assert newest_kernel([], lambda a, b: 0) is None


def test_parse_apk_installed():
    # The layout of /lib/apk/db/installed: one block per package, one letter per field.
    text = ('C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:407765\nI:667648\nT:the musl c library\no:musl\nm:Natanael Copa\n\n'
            'C:Q1def=\nP:libcrypto3\nV:3.3.2-r0\nA:x86_64\no:openssl\n\n'
            'C:Q1ghi=\nP:broken-entry\n\n'
            'P:ssl_client\nV:1.36.1-r29\nA:x86_64\no:busybox\n')
    assert parse_apk_installed(text) == [
        {'name': 'musl', 'version': '1.2.5-r0', 'arch': 'x86_64', 'source_name': 'musl', 'source_version': '1.2.5-r0', 'held': False,
         'state': 'installed'},
        {'name': 'libcrypto3', 'version': '3.3.2-r0', 'arch': 'x86_64', 'source_name': 'openssl', 'source_version': '3.3.2-r0',
         'held': False, 'state': 'installed'},
        {'name': 'ssl_client', 'version': '1.36.1-r29', 'arch': 'x86_64', 'source_name': 'busybox', 'source_version': '1.36.1-r29',
         'held': False, 'state': 'installed'}]

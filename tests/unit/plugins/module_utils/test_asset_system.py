from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.module_utils.asset_system import (
    newest_kernel,
    os_identity,
    parse_dpkg_query,
    parse_os_release,
    parse_rpm_query,
)
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


def test_os_identity_debian():
    identity = os_identity(parse_os_release(DEBIAN_12), 'amd64')
    assert identity == {'family': 'Debian', 'distribution': 'Debian GNU/Linux', 'id': 'debian', 'version': '12',
                        'codename': 'bookworm', 'arch': 'amd64', 'pkg_mgr': 'apt', 'ecosystem': 'Debian:12'}


def test_os_identity_ubuntu_and_rocky():
    assert os_identity(parse_os_release(UBUNTU_2204), 'amd64')['ecosystem'] == 'Ubuntu:22.04'
    rocky = os_identity(parse_os_release(ROCKY_9), 'x86_64')
    assert (rocky['family'], rocky['pkg_mgr'], rocky['ecosystem']) == ('RedHat', 'dnf', 'Rocky Linux')


def test_parse_dpkg_query():
    # Captured from a Debian 12 host with the format of DPKG_QUERY_FORMAT.
    text = ('ii \tlibssl3\t3.0.17-1~deb12u2\tamd64\topenssl\t3.0.17-1~deb12u2\n'
            'hi \tpw-demo-held\t1.0-1\tall\t\t\n'
            'rc \told-package\t1.0\tamd64\told-package\t1.0\n'
            'ii \tlibgcc-s1\t12.2.0-14+deb12u1\tamd64\tgcc-12\t12.2.0-14+deb12u1\n')
    packages = parse_dpkg_query(text)
    assert [p['name'] for p in packages] == ['libssl3', 'pw-demo-held', 'libgcc-s1']
    assert packages[0]['source_name'] == 'openssl'
    assert packages[1] == {'name': 'pw-demo-held', 'version': '1.0-1', 'arch': 'all', 'source_name': 'pw-demo-held',
                           'source_version': '1.0-1', 'held': True}


def test_parse_rpm_query():
    # Hand-written in the format of RPM_QUERY_FORMAT (no RPM host in the testbed).
    text = ('openssl-libs\t1\t3.0.7\t27.el9\tx86_64\topenssl-3.0.7-27.el9.src.rpm\n'
            'bash\t0\t5.1.8\t9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm\n'
            'gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\t(none)\n')
    packages = parse_rpm_query(text)
    assert packages[0]['version'] == '1:3.0.7-27.el9'
    assert (packages[0]['source_name'], packages[0]['source_version']) == ('openssl', '3.0.7-27.el9')
    assert packages[1]['version'] == '5.1.8-9.el9'
    assert packages[2]['source_name'] == 'gpg-pubkey'


def test_newest_kernel():
    releases = ['6.1.0-9-amd64', '6.1.0-18-amd64', '5.10.0-28-amd64']
    assert newest_kernel(releases, lambda a, b: compare_versions(a, b, 'generic')) == '6.1.0-18-amd64'
    assert newest_kernel([], lambda a, b: 0) is None

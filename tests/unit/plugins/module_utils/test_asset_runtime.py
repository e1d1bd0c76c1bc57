from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.asset_runtime import (
    deleted_libraries,
    dnf_updates,
    newest_installed,
    parse_apt_simulation,
    parse_dnf_check_update,
    parse_dnf_updateinfo,
    parse_proc_net,
    parse_systemctl_units,
    split_nevra,
    unit_from_cgroup,
)

# Captured from a testbed host (bookworm) and from the build machine.
APT_SIMULATION = '''Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages will be upgraded:
  bash pw-demo-normal pw-demo-security
Inst pw-demo-security [1.0-1] (1.0-2 Debian-Security:bookworm-security [all])
Inst pw-demo-normal [1.0-1] (1.1-1 Debian:bookworm-updates [all])
Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])
Inst libssl3 [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Inst tzdata (2025b-0+deb12u1 Debian:12.15/oldstable [all])
Inst libc6 [2.36-9] (2.36-9+deb12u4 Ubuntu:22.04/jammy-security [amd64])
Conf pw-demo-security (1.0-2 Debian-Security:bookworm-security [all])
'''


def test_parse_apt_simulation():
    updates = {u['name']: u for u in parse_apt_simulation(APT_SIMULATION)}
    assert updates['pw-demo-security'] == {'name': 'pw-demo-security', 'current': '1.0-1', 'available': '1.0-2',
                                           'security': True, 'origin': 'Debian-Security:bookworm-security'}
    assert updates['pw-demo-normal']['security'] is False
    assert updates['bash']['security'] is False
    assert updates['libssl3']['security'] is True        # one of its origins is the security archive
    assert updates['tzdata']['current'] is None           # a new install
    assert updates['libc6']['security'] is True           # Ubuntu's -security suite
    assert len(updates) == 6


def test_parse_systemctl_units():
    units = ('cron.service loaded active running Regular background program processing daemon\n'
             'pw-demod.service loaded inactive dead patchwise testbed fixture daemon\n'
             'broken.service loaded failed failed Broken thing\n')
    files = ('cron.service enabled enabled\npw-demod.service disabled enabled\n'
             'getty@.service enabled enabled\nssh.service masked enabled\n')
    services = {s['name']: s for s in parse_systemctl_units(units, files)}
    assert services['cron.service'] == {'name': 'cron.service', 'state': 'running', 'enabled': 'enabled', 'source': 'systemd'}
    assert services['pw-demod.service']['state'] == 'stopped'
    assert services['broken.service']['state'] == 'failed'
    assert services['ssh.service'] == {'name': 'ssh.service', 'state': 'stopped', 'enabled': 'masked', 'source': 'systemd'}
    assert 'getty@.service' not in services


def test_parse_proc_net():
    tcp = ('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
           '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0\n'
           '   1: 0100007F:1538 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0\n')
    assert parse_proc_net(tcp, 'tcp') == [{'proto': 'tcp', 'address': '0.0.0.0', 'port': 2024, 'inode': '12345'}]
    tcp6 = ('  sl  local_address remote_address st ...\n'
            '   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 '
            '00:00000000 00000000     0        0 999 1 0\n')
    assert parse_proc_net(tcp6, 'tcp6') == [{'proto': 'tcp6', 'address': '::1', 'port': 22, 'inode': '999'}]


def test_deleted_libraries_and_units():
    maps = ('7f735ed48000-7f735ed49000 r--p 00000000 00:28 1556582   /usr/lib/pw-libdemo/libpwdemo.so.1 (deleted)\n'
            '7f735ed49000-7f735ed4a000 r-xp 00001000 00:28 1556582   /usr/lib/pw-libdemo/libpwdemo.so.1 (deleted)\n'
            '7f7300000000-7f7300001000 rw-s 00000000 00:01 42        /dev/shm/foo (deleted)\n'
            '7f7300001000-7f7300002000 r-xp 00000000 00:28 77        /usr/lib/x86_64-linux-gnu/libc.so.6\n')
    assert deleted_libraries(maps) == ['/usr/lib/pw-libdemo/libpwdemo.so.1']
    assert unit_from_cgroup('0::/system.slice/pw-demod.service\n') == 'pw-demod.service'
    assert unit_from_cgroup('12:pids:/user.slice\n0::/init.scope\n') is None


# Hand-written in the format dnf 4 (RHEL 9) prints; not captured from a host (none is available here).
# check-update starts with an empty line, wraps a name too long for its column onto a line of its own,
# and may end with the "Obsoleting Packages" section (replacement, then the package it obsoletes).
DNF_CHECK_UPDATE = '''
NetworkManager.x86_64                      1:1.46.0-19.el9_4                   baseos
curl.x86_64                                7.76.1-29.el9_4.1                   baseos
glibc.i686                                 2.34-100.el9_4.2                    baseos
glibc.x86_64                               2.34-100.el9_4.2                    baseos
kernel.x86_64                              5.14.0-427.31.1.el9_4               baseos
libcurl.x86_64                             7.76.1-29.el9_4.1                   baseos
subscription-manager-rhsm-certificates.noarch
                                           20220623-1.el9                      baseos
tzdata.noarch                              2024a-1.el9                         appstream
Obsoleting Packages
grub2-tools.x86_64                         1:2.06-80.el9_4                     baseos
    grub2-tools.x86_64                     1:2.06-77.el9                       @anaconda
'''

# dnf -q updateinfo list --updates: ADVISORY TYPE NEVRA (epoch shown when not 0).
DNF_UPDATEINFO = '''RHBA-2024:4240 bugfix         NetworkManager-1:1.46.0-19.el9_4.x86_64
RHSA-2024:4241 Moderate/Sec.  curl-7.76.1-29.el9_4.1.x86_64
RHSA-2024:5312 Important/Sec. glibc-2.34-100.el9_4.2.i686
RHSA-2024:5312 Important/Sec. glibc-2.34-100.el9_4.2.x86_64
RHSA-2024:5101 Important/Sec. kernel-5.14.0-427.31.1.el9_4.x86_64
RHSA-2024:5102 Low/Sec.       kernel-5.14.0-427.31.1.el9_4.x86_64
RHSA-2024:4241 Moderate/Sec.  libcurl-7.76.1-29.el9_4.1.x86_64
RHEA-2024:1234 enhancement    tzdata-2024a-1.el9.noarch
'''

RPM_INSTALLED = [
    {'name': 'NetworkManager', 'version': '1:1.44.0-3.el9', 'arch': 'x86_64'},
    {'name': 'curl', 'version': '7.76.1-26.el9_3.3', 'arch': 'x86_64'},
    {'name': 'glibc', 'version': '2.34-83.el9_3.7', 'arch': 'x86_64'},
    {'name': 'glibc', 'version': '2.34-83.el9_3.7', 'arch': 'i686'},
    # Two kernels installed: the update replaces the newer, and 427 > 70 only in RPM (not string) order.
    {'name': 'kernel', 'version': '5.14.0-427.13.1.el9_4', 'arch': 'x86_64'},
    {'name': 'kernel', 'version': '5.14.0-70.13.1.el9_0', 'arch': 'x86_64'},
    {'name': 'libcurl', 'version': '7.76.1-26.el9_3.3', 'arch': 'x86_64'},
    {'name': 'subscription-manager-rhsm-certificates', 'version': '20210902-1.el9', 'arch': 'noarch'},
    {'name': 'tzdata', 'version': '2023c-1.el9', 'arch': 'noarch'},
]


@pytest.mark.parametrize('nevra, expected', [
    ('curl-7.76.1-29.el9_4.1.x86_64', ('curl', '7.76.1-29.el9_4.1', 'x86_64')),
    ('NetworkManager-1:1.46.0-19.el9_4.x86_64', ('NetworkManager', '1:1.46.0-19.el9_4', 'x86_64')),
    ('python3-perf-5.14.0-427.31.1.el9_4.x86_64', ('python3-perf', '5.14.0-427.31.1.el9_4', 'x86_64')),
])
def test_split_nevra(nevra, expected):
    assert split_nevra(nevra) == expected


@pytest.mark.parametrize('nevra', ['curl', 'curl.x86_64', 'curl-7.76.1.x86_64', 'curl-7.76.1-1'])
def test_split_nevra_rejects(nevra):
    with pytest.raises(ValueError, match=r'not a name-version-release\.arch'):
        split_nevra(nevra)


def test_parse_dnf_updateinfo():
    advisories = parse_dnf_updateinfo(DNF_UPDATEINFO + 'Updates Information Summary: available\nnot-a-nevra x y\n')
    assert advisories[('kernel', 'x86_64')] == [
        {'id': 'RHSA-2024:5101', 'type': 'Important/Sec.', 'security': True, 'version': '5.14.0-427.31.1.el9_4'},
        {'id': 'RHSA-2024:5102', 'type': 'Low/Sec.', 'security': True, 'version': '5.14.0-427.31.1.el9_4'},
    ]
    assert advisories[('NetworkManager', 'x86_64')][0]['security'] is False
    assert advisories[('tzdata', 'noarch')][0]['security'] is False
    assert ('glibc', 'i686') in advisories
    assert len(advisories) == 7


def test_parse_dnf_check_update():
    updates = parse_dnf_check_update(DNF_CHECK_UPDATE)
    assert [(u['name'], u['arch']) for u in updates] == [
        ('NetworkManager', 'x86_64'), ('curl', 'x86_64'), ('glibc', 'i686'), ('glibc', 'x86_64'), ('kernel', 'x86_64'),
        ('libcurl', 'x86_64'), ('subscription-manager-rhsm-certificates', 'noarch'), ('tzdata', 'noarch')]
    assert updates[0] == {'name': 'NetworkManager', 'arch': 'x86_64', 'available': '1:1.46.0-19.el9_4', 'repo': 'baseos'}
    # The wrapped line is joined; the obsoleting section is not an update.
    assert updates[6]['available'] == '20220623-1.el9'
    assert 'grub2-tools' not in {u['name'] for u in updates}
    assert parse_dnf_check_update('') == []


def test_parse_dnf_check_update_skips_messages():
    text = ('Security: kernel-core-5.14.0-427.31.1.el9_4.x86_64 is an installed security update\n'
            'Security: kernel-core-5.14.0-427.13.1.el9_4.x86_64 is the currently running version\n'
            '\ncurl.x86_64  7.76.1-29.el9_4.1  baseos\n')
    assert parse_dnf_check_update(text) == [{'name': 'curl', 'arch': 'x86_64', 'available': '7.76.1-29.el9_4.1',
                                             'repo': 'baseos'}]


def test_newest_installed_uses_rpm_order():
    newest = newest_installed(RPM_INSTALLED)
    assert newest[('kernel', 'x86_64')] == '5.14.0-427.13.1.el9_4'
    assert newest[('glibc', 'i686')] == '2.34-83.el9_3.7'


def test_dnf_updates():
    updates = {(u['name'], u['arch']): u for u in dnf_updates(DNF_CHECK_UPDATE, DNF_UPDATEINFO, RPM_INSTALLED)}
    assert updates[('kernel', 'x86_64')] == {
        'name': 'kernel', 'arch': 'x86_64', 'current': '5.14.0-427.13.1.el9_4', 'available': '5.14.0-427.31.1.el9_4',
        'security': True, 'origin': 'baseos', 'advisories': ['RHSA-2024:5101', 'RHSA-2024:5102']}
    assert updates[('curl', 'x86_64')]['security'] is True
    assert updates[('glibc', 'i686')]['advisories'] == ['RHSA-2024:5312']
    assert updates[('NetworkManager', 'x86_64')]['security'] is False         # a bugfix advisory
    assert updates[('NetworkManager', 'x86_64')]['current'] == '1:1.44.0-3.el9'
    assert updates[('NetworkManager', 'x86_64')]['advisories'] == []
    assert updates[('tzdata', 'noarch')]['security'] is False                 # an enhancement
    assert updates[('tzdata', 'noarch')]['origin'] == 'appstream'
    assert updates[('subscription-manager-rhsm-certificates', 'noarch')]['security'] is False   # no advisory
    security = sorted(name for (name, _arch), update in updates.items() if update['security'])
    assert security == ['curl', 'glibc', 'glibc', 'kernel', 'libcurl']
    # Installed data missing: current is None rather than a guess.
    assert dnf_updates('curl.x86_64 7.76.1-29.el9_4.1 baseos\n', '', [])[0]['current'] is None

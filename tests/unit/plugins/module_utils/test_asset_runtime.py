from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.module_utils.asset_runtime import (
    deleted_libraries,
    parse_apt_simulation,
    parse_proc_net,
    parse_systemctl_units,
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

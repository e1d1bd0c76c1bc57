"""The situation the discover scenario relies on is real on the hosts."""


def test_daemon_still_maps_the_replaced_library(host):
    pid = host.check_output("systemctl show -p MainPID --value pw-demod")
    maps = host.file("/proc/%s/maps" % pid).content_string
    assert "/usr/lib/pw-libdemo/libpwdemo.so.1 (deleted)" in maps


def test_security_update_still_pending(host):
    assert "Inst pw-demo-security [1.0-1]" in host.check_output("apt-get -s -o Debug::NoLocking=1 dist-upgrade")

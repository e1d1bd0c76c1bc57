"""The testbed hosts are real Debian hosts with the signed fixture repository."""

import re

import pytest

RELEASES = {"bullseye": "11", "bookworm": "12", "trixie": "13"}


def _codename(host):
    return host.system_info.codename


def test_host_runs_its_debian_release(host):
    codename = _codename(host)
    assert codename in RELEASES
    assert host.file("/etc/debian_version").content_string.startswith(RELEASES[codename])


def test_systemd_is_pid_1_and_running(host):
    assert host.check_output("cat /proc/1/comm") == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state in ("running", "degraded"), state
    # A unit can really be started and reports its state.
    host.run_test("systemctl start pw-demod")
    assert host.service("pw-demod").is_running


def test_fixture_repository_is_signed_and_checked(host):
    sources = host.file("/etc/apt/sources.list.d/patchwise-testbed.sources").content_string
    assert "Signed-By: /usr/share/keyrings/patchwise-testbed.gpg" in sources
    assert "trusted" not in sources
    update = host.run("apt-get update")
    assert update.rc == 0, update.stderr
    assert "NO_PUBKEY" not in update.stderr and "not signed" not in update.stderr


@pytest.mark.parametrize("package", ["pw-demo-security", "pw-demo-normal"])
def test_release_version_installed(host, package):
    assert host.package(package).version == "1.0-1"


def test_security_and_normal_updates_pending(host):
    codename = _codename(host)
    simulated = host.check_output("apt-get -s -o Debug::NoLocking=1 upgrade")
    pending = dict(re.findall(r"^Inst (\S+) \[[^]]+\] \((\S+ \S+)", simulated, re.MULTILINE))
    assert pending["pw-demo-security"] == "1.0-2 Debian-Security:%s-security" % codename
    assert pending["pw-demo-normal"] == "1.1-1 Debian:%s-updates" % codename


def test_unsigned_repository_is_refused(host):
    # Signature checking is really enforced: the same repository without its signatures fails.
    codename = _codename(host)
    host.run_test(
        "rm -rf /tmp/unsigned && cp -r /srv/patchwise-repo /tmp/unsigned && "
        "rm /tmp/unsigned/dists/*/InRelease /tmp/unsigned/dists/*/Release.gpg && "
        "mkdir -p /tmp/unsigned-lists/partial && "
        "echo 'deb file:/tmp/unsigned %s main' > /tmp/unsigned.list" % codename
    )
    result = host.run(
        "apt-get update -o Dir::Etc::sourcelist=/tmp/unsigned.list "
        "-o Dir::Etc::sourceparts=- -o Dir::State::lists=/tmp/unsigned-lists"
    )
    assert result.rc != 0
    assert "is not signed" in result.stdout + result.stderr

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import apt_update
from ansible_collections.patchwise.patching.plugins.module_utils.apt_update import (
    AptBackend,
    AptError,
    parse_dpkg_query,
    parse_simulated_changes,
    reboot_required,
)

# apt-get -s install output of the testbed (bookworm), with a dependency pulled in and a package removed.
SIMULATION = """NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
Reading package lists...
Building dependency tree...
The following packages will be upgraded:
  pw-demo-security pw-libdemo
Remv pw-old [0.9-1]
Inst pw-demo-security [1.0-1] (1.0-2 Debian-Security:bookworm-security [all])
Inst pw-libdemo [1.0-1] (1.0-2 Debian-Security:bookworm-security [amd64])
Inst pw-newdep (2.0-1 Debian:bookworm [all])
Conf pw-demo-security (1.0-2 Debian-Security:bookworm-security [all])
"""


def test_parse_simulated_changes():
    assert parse_simulated_changes(SIMULATION) == [
        {'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'},
        {'name': 'pw-libdemo', 'from': '1.0-1', 'to': '1.0-2'},
        {'name': 'pw-newdep', 'from': None, 'to': '2.0-1'},
        {'name': 'pw-old', 'from': '0.9-1', 'to': None},
    ]


def test_parse_dpkg_query_keeps_installed_and_half_configured_packages():
    text = 'bash\t5.2.15-2+b7\tii \npw-failing\t1.0-2\tiF \ngone\t1.0\trc \nlibc6:i386\t2.36-9\tii \nbroken line\n'
    assert parse_dpkg_query(text) == {'bash': '5.2.15-2+b7', 'pw-failing': '1.0-2', 'libc6:i386': '2.36-9'}


def test_reboot_required_reads_debians_flag_files(tmp_path):
    assert reboot_required(str(tmp_path)) == (False, [], [])
    (tmp_path / 'reboot-required').write_text('*** System restart required ***\n')
    (tmp_path / 'reboot-required.pkgs').write_text('linux-image-6.1.0-28-amd64\nlibc6\nlibc6\n')
    required, reasons, packages = reboot_required(str(tmp_path))
    assert required and packages == ['libc6', 'linux-image-6.1.0-28-amd64']
    assert reasons == ['%s/reboot-required exists (libc6, linux-image-6.1.0-28-amd64)' % tmp_path]


class Recorder:
    """A run() that answers from a table and remembers the commands."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, args, env=None):
        self.calls.append((args, env))
        for prefix, answer in self.answers:
            if args[:len(prefix)] == prefix:
                return answer
        raise AssertionError('unexpected command %r' % (args,))


def test_install_is_unattended_pinned_and_keeps_configuration():
    run = Recorder([(['apt-get'], (0, 'done', ''))])
    rc, output = AptBackend(run).apply([{'name': 'pw-demo-security', 'target': '1.0-2'}])
    args, env = run.calls[0]
    assert (rc, output) == (0, 'done')
    assert env['DEBIAN_FRONTEND'] == 'noninteractive'
    assert args[-2:] == ['install', 'pw-demo-security=1.0-2']
    assert 'Dpkg::Options::=--force-confold' in args and '-y' in args and '-s' not in args
    AptBackend(run, keep_config=False).simulate([{'name': 'x', 'target': '1'}])
    assert 'Dpkg::Options::=--force-confnew' in run.calls[1][0] and '-s' in run.calls[1][0]


def test_failures_name_the_command_and_the_end_of_its_output():
    run = Recorder([(['apt-mark'], (100, '', 'E: Could not open lock file /var/lib/dpkg/lock-frontend'))])
    with pytest.raises(AptError, match=r'apt-mark showhold failed \(rc 100\): E: Could not open lock file'):
        AptBackend(run).holds()


def test_repair_reports_dpkg_consistency():
    run = Recorder([(['dpkg', '--configure'], (1, '', 'dpkg: error processing package pw-failing (--configure)')),
                    (['dpkg', '--audit'], (0, 'The following packages are only half configured:\n pw-failing', ''))])
    repair = AptBackend(run).repair()
    assert repair['rc'] == 1 and not repair['consistent'] and 'pw-failing' in repair['audit']


def test_pending_lists_held_updates_too(monkeypatch):
    monkeypatch.setattr(apt_update.apt_pending, 'pending_updates', lambda: [
        {'name': 'pw-demo-security', 'current': '1.0-1', 'available': '1.0-2', 'security': True, 'origin': 'o'}])
    monkeypatch.setattr(apt_update.apt_pending, 'held_updates', lambda names: [
        {'name': name, 'current': '1.0-1', 'available': '1.0-2', 'security': True, 'origin': 'o'} for name in names])
    run = Recorder([(['apt-mark', 'showhold'], (0, 'pw-demo-held\n', ''))])
    assert [u['name'] for u in AptBackend(run).pending()] == ['pw-demo-held', 'pw-demo-security']


def test_pending_without_python_apt_simulates_ignoring_holds(monkeypatch):
    monkeypatch.setattr(apt_update.apt_pending, 'pending_updates', lambda: None)
    run = Recorder([(['apt-get', '-s'], (0, SIMULATION, ''))])
    assert [u['name'] for u in AptBackend(run).pending()] == ['pw-demo-security', 'pw-libdemo', 'pw-newdep']
    assert '--ignore-hold' in run.calls[0][0]


FAILED_INSTALL = """Setting up pw-failing (1.0-2) ...
pw-failing 1.0-2: postinst fails on purpose (testbed failure fixture)
dpkg: error processing package pw-failing (--configure):
 installed pw-failing package post-installation script subprocess returned error exit status 1
Setting up pw-demo-security (1.0-2) ...
Errors were encountered while processing:
 pw-failing
E: Sub-process /usr/bin/dpkg returned an error code (1)
"""


def test_explain_failure_names_the_package_and_dpkgs_reason():
    assert apt_update.explain_failure(FAILED_INSTALL) == (
        'pw-failing (--configure): installed pw-failing package post-installation script subprocess returned error exit status 1')
    assert apt_update.explain_failure('W: x\nE: Unable to locate package nope\n') == 'Unable to locate package nope'
    assert apt_update.explain_failure('something odd\nat the end\n') == 'at the end'


def test_parse_madison_lists_each_offered_version_once_and_skips_sources():
    from ansible_collections.patchwise.patching.plugins.module_utils.apt_update import parse_madison

    text = ('pw-demo-stepped |      1.0-3 | file:/srv/patchwise-repo bookworm-updates/main amd64 Packages\n'
            'pw-demo-stepped |      1.0-2 | file:/srv/patchwise-repo bookworm-security/main amd64 Packages\n'
            'pw-demo-stepped |      1.0-2 | file:/srv/mirror bookworm-security/main amd64 Packages\n'
            'pw-demo-stepped |      1.0-1 | file:/srv/patchwise-repo bookworm/main Sources\n'
            'garbage line\n')
    assert parse_madison(text) == {'pw-demo-stepped': ['1.0-3', '1.0-2']}

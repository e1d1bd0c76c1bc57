"""asset_facts on a dnf host: the real dnf/rpm installroot of ``dnf_installroot``, not recorded output.

Packages with their source RPMs, pending updates with their updateinfo advisory ids and severities,
``dnf needs-restarting`` for the reboot (true, false, and unknown when the plugin is missing) and for
the services, with a process of this machine that maps a file of a package updated in the root.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from ansible_collections.patchwise.patching.plugins.modules import asset_facts
from ansible_collections.patchwise.patching.tests.unit.controller.dnf_installroot import checked, library_path
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module

ROCKY_OS_RELEASE = 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n'
SYSTEMD_CGROUPS = '/sys/fs/cgroup/systemd'


def _dnf(root, *args):
    return checked(['dnf', '--installroot=%s' % root, '--setopt=pluginconfpath=%s' % (root / 'etc' / 'dnf' / 'plugins'), '-y', '-q', *args])


@pytest.fixture()
def rocky_root(root):
    """The test host as a Rocky Linux 9 machine with pw-daemon 1.0-1 (two binaries of one source RPM) installed."""
    (root / 'etc' / 'os-release').write_text(ROCKY_OS_RELEASE)
    _dnf(root, 'install', 'pw-daemon-1.0-1', 'pw-daemon-libs-1.0-1')
    return root


def _discover(root, subsets=('packages', 'updates', 'restart')):
    outcome = run_module(asset_facts.main, {'root': str(root), 'gather_subset': list(subsets), 'facts_detail': 'full'})
    assert not outcome.failed, outcome.result
    return outcome


def test_packages_carry_their_source_rpm_and_the_os_its_ecosystem(rocky_root):
    record = _discover(rocky_root, ['packages']).result['record']
    assert record['os']['ecosystem'] == 'Rocky Linux:9' and record['os']['pkg_mgr'] == 'dnf'
    packages = {package['name']: package for package in record['packages']}
    assert 'gpg-pubkey' not in packages, 'the imported repository key is not a package'
    assert packages['pw-daemon-libs'] == {'name': 'pw-daemon-libs', 'version': '1.0-1', 'arch': 'noarch', 'source_name': 'pw-daemon',
                                          'source_version': '1.0-1', 'held': False, 'state': 'installed'}
    assert packages['pw-daemon']['source_name'] == 'pw-daemon'
    assert {name: package['version'] for name, package in packages.items() if name.startswith('pw-demo')} == {
        'pw-demo-security': '1.0-1', 'pw-demo-normal': '1.0-1', 'pw-demo-held': '1.0-1'}
    assert record['restart']['reboot_required'] is False and record['updates'] == [], 'only the subsets asked for'


def test_pending_updates_carry_their_advisory_ids_and_severities(rocky_root):
    outcome = _discover(rocky_root, ['packages', 'updates'])
    updates = {update['name']: update for update in outcome.result['record']['updates']}
    assert {name: (u['current'], u['available'], u['security'], u['advisories'], u['severity'], u['origin'])
            for name, u in updates.items()} == {
        'pw-daemon': ('1.0-1', '1.0-2', True, ['PWSA-2026:0003'], 'Critical', 'pw'),
        'pw-daemon-libs': ('1.0-1', '1.0-2', True, ['PWSA-2026:0003'], 'Critical', 'pw'),
        'pw-demo-security': ('1.0-1', '1.0-2', True, ['PWSA-2026:0001'], 'Important', 'pw'),
        'pw-demo-normal': ('1.0-1', '1.1-1', False, [], None, 'pw'),
        'pw-failing': ('1.0-1', '1.0-2', False, [], None, 'pw'),
    }, 'the versionlocked pw-demo-held is not pending: dnf would not install it'
    assert outcome.result['ansible_facts']['patchwise']['updates'] == outcome.result['record']['updates']


def test_the_reboot_need_follows_needs_restarting(rocky_root):
    assert _discover(rocky_root, ['restart']).result['record']['restart']['reboot_required'] is False
    folder = rocky_root / 'etc' / 'dnf' / 'plugins' / 'needs-restarting.d'
    folder.mkdir()
    # Listed there, pw-daemon-libs counts as a core package (like glibc) installed after this machine booted.
    (folder / 'pw.conf').write_text('pw-daemon-libs\n')
    restart = _discover(rocky_root, ['restart']).result['record']['restart']
    assert restart['reboot_required'] is True
    assert restart['reasons'] == ['dnf needs-restarting -r: core libraries or services updated since boot-up (pw-daemon-libs)']


def test_the_reboot_need_is_unknown_not_false_without_needs_restarting(rocky_root):
    # What a host without dnf-plugins-core's needs-restarting looks like to dnf.
    (rocky_root / 'etc' / 'dnf' / 'plugins' / 'needs-restarting.conf').write_text('[main]\nenabled = 0\n')
    outcome = _discover(rocky_root, ['restart'])
    restart = outcome.result['record']['restart']
    assert restart['reboot_required'] == 'unknown'
    assert len(restart['reasons']) == 1 and restart['reasons'][0].startswith('dnf needs-restarting -r could not tell (rc 1)')
    assert 'No such command: needs-restarting' in restart['reasons'][0] and "dnf install 'dnf-command(needs-restarting)'" in restart['reasons'][0]
    assert outcome.result['ansible_facts']['patchwise']['restart']['reboot_required'] == 'unknown'
    assert any('processes to restart are not complete' in warning for warning in outcome.warnings)


@pytest.fixture()
def daemon(rocky_root, signed_repository):
    """A process of this machine in the systemd cgroup of pw-daemon.service, mapping pw-daemon-libs' library."""
    library = library_path(signed_repository[0].parent)
    os.makedirs(os.path.dirname(library), exist_ok=True)
    with open(library, 'w', encoding='utf-8') as handle:
        handle.write('pw-daemon library 1.0-1\n')
    unit_dir = os.path.join(SYSTEMD_CGROUPS, 'patchwise-test-%d.slice' % os.getpid(), 'pw-daemon.service')
    try:
        os.makedirs(unit_dir)
    except OSError as exc:
        pytest.skip('cannot make a systemd cgroup for the test service here: %s' % exc)
    code = ('import mmap, sys, time\nhandle = open(sys.argv[1], "rb")\nmapped = mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ)\n'
            'print("mapped", flush=True)\ntime.sleep(300)\n')
    process = subprocess.Popen([sys.executable, '-c', code, library], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == 'mapped'
        with open(os.path.join(unit_dir, 'cgroup.procs'), 'w', encoding='utf-8') as handle:
            handle.write(str(process.pid))
        yield process
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        os.rmdir(unit_dir)
        os.rmdir(os.path.dirname(unit_dir))


def test_a_service_whose_library_was_updated_needs_a_restart(rocky_root, daemon):
    _dnf(rocky_root, 'upgrade', 'pw-daemon-libs')
    restart = _discover(rocky_root, ['restart']).result['record']['restart']
    assert restart['services'] == ['pw-daemon.service']
    with open('/proc/%d/comm' % daemon.pid, encoding='utf-8') as handle:
        name = handle.read().strip()
    assert [process for process in restart['processes'] if process['pid'] == daemon.pid] == [
        {'pid': daemon.pid, 'process': name, 'unit': 'pw-daemon.service', 'libraries': []}]
    assert restart['reboot_required'] is False


def test_root_is_refused_for_a_root_that_is_not_a_dnf_system(root):
    (root / 'etc' / 'os-release').write_text('ID=debian\nVERSION_ID="12"\n')
    outcome = run_module(asset_facts.main, {'root': str(root), 'gather_subset': ['packages']})
    assert outcome.failed and outcome.result['msg'].startswith('root is only supported for dnf systems')

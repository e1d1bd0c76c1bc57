"""The module through AnsibleModule: on this machine in check mode, and on temporary system roots for real."""
from __future__ import annotations

import subprocess
import sys

from ansible_collections.patchwise.patching.plugins.modules import system_precheck
from ansible_collections.patchwise.patching.tests.unit.plugins.module_utils.system_roots import apt_root, dpkg_root, rpm_root
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module


def test_check_mode_on_this_machine_reports_every_check():
    outcome = run_module(system_precheck.main, {'min_free_mib': {'/': 1}, 'lock_timeout': 5}, check_mode=True)
    names = [check['name'] for check in outcome.result['checks']]
    assert names == ['lock', 'space', 'sources', 'dpkg', 'refresh']
    assert outcome.result['manager'] == 'apt' and not outcome.result['changed']
    refresh = outcome.result['checks'][-1]
    assert refresh['skipped'] and 'check mode' in refresh['detail']


def test_an_impossible_space_threshold_fails_naming_the_path():
    outcome = run_module(system_precheck.main, {'min_free_mib': {'/': 10 ** 9}, 'skip': ['refresh', 'dpkg']}, check_mode=True)
    assert outcome.failed and outcome.result['failed_checks'] == ['space']
    assert outcome.result['msg'].startswith('pre-checks failed: space: / has ')


def test_bad_thresholds_are_refused():
    outcome = run_module(system_precheck.main, {'min_free_mib': {'/': 'lots'}}, check_mode=True)
    assert outcome.failed and outcome.result['msg'] == "min_free_mib: / must be a whole number of MiB, got 'lots'"


def _half_configured_root(tmp_path, source_line):
    """An apt root with a dpkg database holding one half-configured package and one file: source."""
    root = apt_root(tmp_path, source_line)
    (tmp_path / 'root' / 'var' / 'lib' / 'dpkg' / 'status').unlink()
    (tmp_path / 'root' / 'var' / 'lib' / 'dpkg').rmdir()
    dpkg_root(tmp_path / 'root')
    return root


def test_an_unsigned_source_fails_the_host_naming_file_and_source(tmp_path):
    root = _half_configured_root(tmp_path, 'deb [trusted=yes] file:%s ./')
    outcome = run_module(system_precheck.main, {'root': root, 'repair': True, 'min_free_mib': {'/': 1}})
    assert outcome.failed and outcome.result['failed_checks'] == ['sources', 'dpkg'] and not outcome.result['changed']
    assert outcome.result['manager'] == 'apt'
    assert '%s/etc/apt/sources.list:1: file:%s/repo (trusted=yes)' % (root, tmp_path) in outcome.result['msg']
    assert 'not repaired because the sources check failed' in outcome.result['msg']
    assert outcome.result['checks'][4]['detail'] == 'not run: an earlier check failed'


def test_repair_and_refresh_change_the_root_and_a_second_run_changes_nothing(tmp_path):
    root = _half_configured_root(tmp_path, 'deb [trusted=yes] file:%s ./')
    args = {'root': root, 'repair': True, 'allow_unsigned': True, 'min_free_mib': {'/': 1, '/boot': 100}, 'lock_timeout': 0}
    checked = run_module(system_precheck.main, args, check_mode=True)
    assert checked.failed and checked.result['failed_checks'] == ['dpkg'] and not checked.result['changed']
    assert 'half-configured' in (tmp_path / 'root' / 'var' / 'lib' / 'dpkg' / 'status').read_text(), 'check mode changed nothing'
    first = run_module(system_precheck.main, args)
    assert not first.failed and first.result['changed'] and first.result['failed_checks'] == []
    by_name = {check['name']: check for check in first.result['checks']}
    assert by_name['dpkg']['repaired'] == ['pw-failing'] and by_name['refresh']['lists_changed']
    assert by_name['sources']['ok'] and by_name['sources']['unsigned'][0]['setting'] == 'trusted=yes'
    assert [(p['path'], p['absent']) for p in by_name['space']['paths']] == [('/', False), ('/boot', True)]
    second = run_module(system_precheck.main, args)
    assert not second.failed and not second.result['changed']


def test_a_held_lock_fails_after_the_timeout_naming_its_holder(tmp_path):
    root = dpkg_root(tmp_path, status='')
    lock = tmp_path / 'var' / 'lib' / 'dpkg' / 'lock-frontend'
    lock.write_text('')
    holder = subprocess.Popen([sys.executable, '-c', 'import fcntl, sys, time\nh = open(sys.argv[1], "r+")\nfcntl.lockf(h, fcntl.LOCK_EX)\n'
                               'print("locked", flush=True)\ntime.sleep(60)\n', str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        outcome = run_module(system_precheck.main, {'root': root, 'manager': 'apt', 'lock_timeout': 1, 'refresh': False, 'min_free_mib': {}})
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert outcome.failed and outcome.result['failed_checks'] == ['lock']
    assert outcome.result['msg'].startswith('pre-checks failed: lock: still locked after ')
    assert '%s held by pid %s (%s' % (lock, holder.pid, sys.executable) in outcome.result['msg']
    assert outcome.result['checks'][0]['waited'] >= 1
    freed = run_module(system_precheck.main, {'root': root, 'manager': 'apt', 'lock_timeout': 1, 'refresh': False, 'min_free_mib': {}})
    assert not freed.failed and freed.result['checks'][0]['waited'] < 1


def test_a_dnf_root_with_an_unsigned_repo_a_broken_rpmdb_and_a_running_dnf(tmp_path):
    root = rpm_root(tmp_path)
    for sub in ('etc/dnf', 'etc/yum.repos.d', 'var/lib/dnf'):
        (tmp_path / 'rpm-root' / sub).mkdir(parents=True)
    (tmp_path / 'rpm-root' / 'etc' / 'dnf' / 'dnf.conf').write_text('[main]\ngpgcheck=1\n')
    (tmp_path / 'rpm-root' / 'etc' / 'yum.repos.d' / 'internal.repo').write_text(
        '[internal]\nname=Internal\nbaseurl=file:///srv/internal\ngpgcheck=0\n')
    dnf_stand_in = subprocess.Popen([sys.executable, '-c', 'import time; print("ready", flush=True); time.sleep(60)', 'dnf-stand-in'],
                                    stdout=subprocess.PIPE, text=True)
    try:
        assert dnf_stand_in.stdout.readline().strip() == 'ready'
        (tmp_path / 'rpm-root' / 'var' / 'lib' / 'dnf' / 'rpmdb_lock.pid').write_text(str(dnf_stand_in.pid))
        outcome = run_module(system_precheck.main, {'root': root, 'manager': 'dnf', 'lock_timeout': 0, 'refresh': False, 'min_free_mib': {'/': 1}})
    finally:
        dnf_stand_in.kill()
        dnf_stand_in.wait()
        dnf_stand_in.stdout.close()
    assert outcome.failed and outcome.result['manager'] == 'dnf'
    assert outcome.result['failed_checks'] == ['lock', 'sources', 'dpkg'] and not outcome.result['changed']
    msg = outcome.result['msg']
    assert '%s/var/lib/dnf/rpmdb_lock.pid held by pid %s' % (root, dnf_stand_in.pid) in msg and 'dnf-stand-in' in msg
    assert '%s/etc/yum.repos.d/internal.repo: [internal] file:///srv/internal (gpgcheck=0)' % root in msg
    assert 'pw-broken-1.0-1.noarch has missing requires of pw-missing-library >= 2' in msg
    assert outcome.result['checks'][4] == {'name': 'refresh', 'ok': True, 'skipped': True, 'detail': 'skipped as asked (refresh: false)'}

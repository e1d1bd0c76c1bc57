"""The checks on temporary system roots, with the real dpkg and apt-get of this machine (as root: dpkg --root chroots)."""
from __future__ import annotations

import os

from ansible_collections.patchwise.patching.plugins.module_utils import system_precheck
from ansible_collections.patchwise.patching.tests.unit.plugins.module_utils.system_roots import Runner, apt_root, dpkg_root, rpm_root


def test_dpkg_audit_real_output_names_the_package_and_is_repaired(tmp_path):
    root = dpkg_root(tmp_path)
    refused = system_precheck.check_dpkg(Runner(), False, False, root)
    assert not refused['ok'] and refused['packages'] == ['pw-failing']
    assert 'only half configured' in refused['detail'] and 'repair: true' in refused['detail']

    in_check_mode = Runner()
    result = system_precheck.check_dpkg(in_check_mode, True, True, root)
    assert not result['ok'] and 'check mode' in result['detail']
    assert not any('--configure' in call for call in in_check_mode.calls)

    blocked = Runner()
    result = system_precheck.check_dpkg(blocked, True, False, root, blocked_by='lock')
    assert not result['ok'] and 'the lock check failed' in result['detail']
    assert not any('--configure' in call for call in blocked.calls)

    repaired = system_precheck.check_dpkg(Runner(), True, False, root)
    assert repaired['ok'] and repaired['repaired'] == ['pw-failing'] and 'Setting up pw-failing' in repaired['repair_output']
    assert 'Status: install ok installed' in (tmp_path / 'var' / 'lib' / 'dpkg' / 'status').read_text()
    assert system_precheck.check_dpkg(Runner(), False, False, root) == {
        'name': 'dpkg', 'ok': True, 'skipped': False, 'detail': 'consistent (dpkg --audit reports nothing)', 'packages': []}


def test_a_failing_repair_stays_inconsistent(tmp_path):
    root = dpkg_root(tmp_path, postinst='#!/bin/sh\nexit 1\n')
    result = system_precheck.check_dpkg(Runner(), True, False, root)
    assert not result['ok'] and result['repaired'] == [] and result['packages'] == ['pw-failing']
    assert result['detail'].startswith('still inconsistent after dpkg --configure -a (rc 1)')
    assert 'pw-failing' in result['repair_output']


def test_an_interrupted_dpkg_journal_is_inconsistent(tmp_path):
    root = dpkg_root(tmp_path, status='')
    (tmp_path / 'var' / 'lib' / 'dpkg' / 'updates' / '0001').write_text('')
    result = system_precheck.check_dpkg(Runner(), False, False, root)
    assert not result['ok'] and 'dpkg was interrupted (journal entries in %s' % tmp_path in result['detail']


def test_audit_packages_reads_every_section():
    text = ('The following packages are only half configured, probably due to problems\n'
            'dpkg --configure <package> or the configure menu option in dselect:\n'
            ' pw-failing           patchwise testbed fixture package\n\n'
            'The following packages are missing the list control file in the\ndatabase, they need to be reinstalled:\n'
            ' pw-failing           patchwise testbed fixture package\n pw-other             other\n')
    assert system_precheck.audit_packages(text) == ['pw-failing', 'pw-other']


def test_dnf_check_passes_on_rc_0_and_names_problems():
    def answer(rc, out, err):
        calls = []

        def run(args, env=None):
            calls.append(args)
            return rc, out, err
        return run, calls

    run, calls = answer(0, '', 'Unable to detect release version\n')
    assert system_precheck.check_dnf(run, '/srv/root')['ok']
    assert calls == [['dnf', '-q', '-C', '--installroot=/srv/root', 'check']]
    run, calls = answer(1, 'pw-app-1.0-1.x86_64 has missing requires of libpw.so.2()(64bit)\n',
                        'Error: Check discovered 1 problem(s)\n')
    result = system_precheck.check_dnf(run)
    assert not result['ok'] and result['packages'] == ['pw-app-1.0-1.x86_64'] and 'missing requires of libpw' in result['detail']
    assert calls == [['dnf', '-q', '-C', 'check']]


def test_dnf_check_on_a_real_rpm_database(tmp_path):
    broken = system_precheck.check_dnf(Runner(), rpm_root(tmp_path))
    assert not broken['ok'] and broken['packages'] == ['pw-broken-1.0-1.noarch']
    assert 'pw-broken-1.0-1.noarch has missing requires of pw-missing-library >= 2' in broken['detail']
    clean = tmp_path / 'clean'
    clean.mkdir()
    assert system_precheck.check_dnf(Runner(), rpm_root(clean, broken=False))['ok']


def test_the_dnf_lock_files_are_the_ones_this_machines_dnf_uses():
    """dnf's own lock module (Debian's python3-dnf) builds the same pid-file paths as DNF_LOCK_FILES."""
    code = ('import dnf.const, dnf.lock\n'
            'for lock in (dnf.lock.build_rpmdb_lock(dnf.const.PERSISTDIR, True), dnf.lock.build_metadata_lock(dnf.const.SYSTEM_CACHEDIR, True),'
            ' dnf.lock.build_download_lock(dnf.const.SYSTEM_CACHEDIR, True)):\n'
            '    print(lock.target)\n')
    rc, out, err = Runner()(['/usr/bin/python3', '-c', code])
    assert rc == 0, err
    assert out.split() == list(system_precheck.package_locks.DNF_LOCK_FILES[1:])


def test_space_every_path_with_free_mib_threshold_and_mount(tmp_path):
    (tmp_path / 'var').mkdir()
    result = system_precheck.check_space({'/': 1, '/var': 1, '/boot': 100}, str(tmp_path))
    assert result['ok'] and [(p['path'], p['absent']) for p in result['paths']] == [('/', False), ('/boot', True), ('/var', False)]
    stat = os.statvfs(str(tmp_path))
    free = stat.f_bavail * stat.f_frsize // (1024 * 1024)
    assert abs(result['paths'][0]['free_mib'] - free) <= 64 and result['paths'][0]['mount'] == system_precheck.mount_point(str(tmp_path))
    assert os.path.ismount(result['paths'][0]['mount'])
    result = system_precheck.check_space({'/var': free + 1024}, str(tmp_path))
    assert not result['ok'] and result['detail'].startswith('/var has ') and result['detail'].endswith('needs %s' % (free + 1024))


def test_sources_finding_fails_unless_allowed(tmp_path):
    (tmp_path / 'etc' / 'apt' / 'sources.list.d').mkdir(parents=True)
    (tmp_path / 'etc' / 'apt' / 'sources.list.d' / 'unsigned.list').write_text('deb [trusted=yes] file:/srv/unsigned-mirror bullseye main\n')
    refused = system_precheck.check_sources('apt', False, str(tmp_path))
    assert not refused['ok'] and 'unsigned.list:1: file:/srv/unsigned-mirror (trusted=yes)' in refused['detail']
    allowed = system_precheck.check_sources('apt', True, str(tmp_path))
    assert allowed['ok'] and allowed['unsigned'] == refused['unsigned'] and 'allowed by allow_unsigned' in allowed['detail']


def test_refresh_of_an_unsigned_repository_fails_naming_it(tmp_path):
    root = apt_root(tmp_path, 'deb file:%s ./')
    result, changed = system_precheck.check_refresh(Runner(), 'apt', False, root)
    assert not result['ok'] and not changed
    assert result['problems'] == ["E: The repository 'file:%s ./ Release' is not signed." % (tmp_path / 'repo')]


def test_refresh_reports_a_change_only_when_the_lists_change(tmp_path):
    root = apt_root(tmp_path, 'deb [trusted=yes] file:%s ./')
    result, changed = system_precheck.check_refresh(Runner(), 'apt', False, root)
    assert result['ok'] and changed and result['detail'] == 'package lists refreshed'
    result, changed = system_precheck.check_refresh(Runner(), 'apt', False, root)
    assert result['ok'] and not changed and result['detail'] == 'package lists already current'
    result, changed = system_precheck.check_refresh(Runner(), 'apt', True, root)
    assert result['skipped'] and not changed and 'check mode' in result['detail']


def test_apt_update_problem_lines_name_their_source():
    output = ('Hit:1 http://deb.debian.org/debian bookworm InRelease\n'
              'Err:2 http://unreachable.invalid/debian bookworm InRelease\n'
              '  Could not resolve \'unreachable.invalid\'\n'
              'W: GPG error: http://x.internal bookworm InRelease: The following signatures couldn\'t be verified because the public '
              'key is not available: NO_PUBKEY 0E98404D386FA1D9\n'
              "E: The repository 'http://x.internal bookworm InRelease' is not signed.\n"
              "W: Failed to fetch http://unreachable.invalid/debian/dists/bookworm/InRelease  Could not resolve 'unreachable.invalid'\n"
              'W: Some index files failed to download. They have been ignored, or old ones used instead.\n')

    def run(args, env=None):
        return 100, output, ''
    result, _changed = system_precheck.check_refresh(run, 'apt', False, '/nonexistent-root')
    assert [line.split()[0] for line in result['problems']] == ['W:', 'E:', 'W:']
    assert 'http://x.internal' in result['detail'] and 'unreachable.invalid' in result['detail']


def test_run_checks_order_skips_and_nothing_changes_after_a_failure(tmp_path):
    (tmp_path / 'etc' / 'apt' / 'sources.list.d').mkdir(parents=True)
    (tmp_path / 'etc' / 'apt' / 'sources.list.d' / 'unsigned.list').write_text('deb [trusted=yes] file:/srv/unsigned-mirror bullseye main\n')
    calls = []

    def run(args, env=None):
        calls.append(args)
        return (0, ' pw-failing           patchwise testbed fixture package\n', '') if '--audit' in args else (0, '', '')

    params = {'root': str(tmp_path), 'lock_timeout': 0, 'repair': True, 'min_free_mib': {'/': 1},
              'allow_unsigned': False, 'refresh': True, 'skip': []}
    checks, changed = system_precheck.run_checks(run, 'apt', params, False)
    assert [c['name'] for c in checks] == list(system_precheck.CHECKS)
    assert [c['name'] for c in checks if not c['ok']] == ['sources', 'dpkg']
    assert 'the sources check failed' in checks[3]['detail']
    assert checks[4] == {'name': 'refresh', 'ok': True, 'skipped': True, 'detail': 'not run: an earlier check failed'}
    assert not changed and not [call for call in calls if '--configure' in call or 'update' in call]
    assert checks[0]['ok'] and checks[0]['detail'].startswith('free: %s/var/lib/dpkg/lock-frontend' % tmp_path)
    params.update(skip=['sources', 'dpkg'], refresh=False)
    checks, _changed = system_precheck.run_checks(run, 'apt', params, False)
    assert [(c['name'], c['detail']) for c in checks if c['skipped']] == [
        ('sources', 'skipped as asked (skip)'), ('dpkg', 'skipped as asked (skip)'), ('refresh', 'skipped as asked (refresh: false)')]
    assert all(c['ok'] for c in checks)


def test_default_lock_files_are_inside_the_root():
    assert system_precheck.default_lock_files('apt', '/srv/r')[0] == '/srv/r/var/lib/dpkg/lock-frontend'
    assert system_precheck.default_lock_files('dnf') == list(system_precheck.package_locks.DNF_LOCK_FILES)

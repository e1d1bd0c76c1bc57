from __future__ import annotations

import os

from ansible_collections.patchwise.patching.plugins.module_utils import system_precheck


class Recorder:
    def __init__(self, answers):
        self.answers, self.calls = list(answers), []

    def __call__(self, args, env=None):
        self.calls.append(args)
        for prefix, answer in self.answers:
            if args[:len(prefix)] == prefix:
                if isinstance(answer, list):
                    return answer.pop(0)
                return answer
        raise AssertionError('unexpected command %r' % (args,))


AUDIT = ('The following packages are only half configured, probably due to problems\n'
         'configuring them the first time.\n pw-failing           patchwise testbed fixture package\n')


def test_dpkg_consistent_inconsistent_and_repaired(tmp_path):
    updates = str(tmp_path)
    assert system_precheck.check_dpkg(Recorder([(['dpkg', '--audit'], (0, '', ''))]), False, False, updates)['ok']
    refused = system_precheck.check_dpkg(Recorder([(['dpkg', '--audit'], (0, AUDIT, ''))]), False, False, updates)
    assert not refused['ok'] and 'pw-failing' in refused['detail'] and 'repair' in refused['detail']
    run = Recorder([(['dpkg', '--audit'], [(0, AUDIT, ''), (0, '', '')]), (['dpkg', '--configure'], (0, 'Setting up pw-failing', ''))])
    repaired = system_precheck.check_dpkg(run, True, False, updates)
    assert repaired['ok'] and repaired['repaired'] and ['dpkg', '--configure', '-a'] in run.calls
    in_check_mode = Recorder([(['dpkg', '--audit'], (0, AUDIT, ''))])
    assert not system_precheck.check_dpkg(in_check_mode, True, True, updates)['ok']
    assert ['dpkg', '--configure', '-a'] not in in_check_mode.calls


def test_an_interrupted_dpkg_journal_is_inconsistent(tmp_path):
    (tmp_path / '0001').write_text('')
    result = system_precheck.check_dpkg(Recorder([(['dpkg', '--audit'], (0, '', ''))]), False, False, str(tmp_path))
    assert not result['ok'] and 'dpkg was interrupted' in result['detail']


def test_space_thresholds(tmp_path):
    result = system_precheck.check_space({str(tmp_path): 1, '/no/such/boot': 100})
    assert result['ok'] and [p.get('absent', False) for p in result['paths']] == [True, False]
    free = os.statvfs(str(tmp_path))
    too_much = free.f_bavail * free.f_frsize // (1024 * 1024) + 10
    result = system_precheck.check_space({str(tmp_path): too_much})
    assert not result['ok'] and result['detail'].startswith('%s has ' % tmp_path) and 'needs %s' % too_much in result['detail']


def test_refresh_fails_on_unsigned_sources_and_reports_changes(tmp_path):
    lists = tmp_path / 'lists'
    lists.mkdir()

    def update(args, env=None):
        (lists / 'deb.debian.org_debian_dists_bookworm_InRelease').write_text('new')
        return 0, 'Get:1 http://deb.debian.org/debian bookworm InRelease\n', ''

    result, changed = system_precheck.check_refresh(update, 'apt', False, str(lists))
    assert result['ok'] and changed and result['detail'] == 'package lists refreshed'
    unchanged = Recorder([(['apt-get', 'update'], (0, 'Hit:1 http://deb.debian.org/debian bookworm InRelease', ''))])
    result, changed = system_precheck.check_refresh(unchanged, 'apt', False, str(lists))
    assert result['ok'] and not changed
    unsigned = Recorder([(['apt-get', 'update'], (0, '', 'W: GPG error: http://x bookworm InRelease: NO_PUBKEY 0E98404D386FA1D9'))])
    result, _changed = system_precheck.check_refresh(unsigned, 'apt', False, str(lists))
    assert not result['ok'] and 'NO_PUBKEY' in result['detail']
    result, changed = system_precheck.check_refresh(Recorder([]), 'apt', True, str(lists))
    assert result['skipped'] and not changed


def test_run_checks_order_skips_and_no_change_after_a_failure(tmp_path):
    etc_apt = tmp_path / 'apt'
    (etc_apt / 'sources.list.d').mkdir(parents=True)
    (etc_apt / 'sources.list.d' / 'unsigned.list').write_text('deb [trusted=yes] file:/srv/unsigned-mirror bullseye main\n')
    lock = tmp_path / 'lock'
    lock.write_text('')
    run = Recorder([(['dpkg', '--audit'], (0, AUDIT, ''))])
    params = {'lock_files': [str(lock)], 'lock_timeout': 0, 'repair': True, 'min_free_mib': {str(tmp_path): 1},
              'allow_unsigned': False, 'refresh': True, 'skip': []}
    checks, changed = system_precheck.run_checks(run, 'apt', params, False, etc_apt=str(etc_apt), updates_dir=str(tmp_path))
    assert [c['name'] for c in checks] == list(system_precheck.CHECKS)
    assert [c['name'] for c in checks if not c['ok']] == ['sources', 'dpkg']
    assert 'unsigned.list:1: file:/srv/unsigned-mirror (trusted=yes)' in checks[2]['detail']
    assert checks[4]['skipped'] and not changed
    assert ['dpkg', '--configure', '-a'] not in run.calls, 'no repair once a check failed'
    params.update(skip=['sources', 'dpkg'], refresh=False)
    checks, _changed = system_precheck.run_checks(run, 'apt', params, False, etc_apt=str(etc_apt))
    assert [c['name'] for c in checks if c['skipped']] == ['sources', 'dpkg', 'refresh']
    assert all(c['ok'] for c in checks)

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checks a host passes before its operating system is patched.

Each check returns {name, ok, skipped, detail, ...}; ``run_checks`` runs them
in a fixed order so the report reads the same on every host.  ``run(args,
env)`` runs a command and returns (rc, stdout, stderr).
"""

from __future__ import annotations

import os

from ansible_collections.patchwise.patching.plugins.module_utils import package_locks, package_sources

# Checks that only look come first; repair and refresh change the host and run only when those passed.
CHECKS = ('lock', 'space', 'sources', 'dpkg', 'refresh')
_ENV = {'DEBIAN_FRONTEND': 'noninteractive', 'LC_ALL': 'C'}


def _result(name, ok, detail, **extra):
    return dict({'name': name, 'ok': ok, 'skipped': False, 'detail': detail}, **extra)


def check_locks(lock_files, timeout, wait=package_locks.wait_for_locks):
    state = wait(lock_files, timeout)
    if state['free']:
        detail = 'free' + (' after waiting %ss' % state['waited'] if state['waited'] >= 1 else '')
        return _result('lock', True, detail, waited=state['waited'])
    return _result('lock', False, 'still locked after %ss: %s' % (state['waited'], package_locks.describe_holders(state['holders'])),
                   waited=state['waited'], holders=state['holders'])


def interrupted_dpkg(updates_dir='/var/lib/dpkg/updates'):
    """dpkg was interrupted: its journal directory holds pending updates (what apt reports as 'dpkg was interrupted')."""
    try:
        return sorted(name for name in os.listdir(updates_dir) if name.isdigit())
    except OSError:
        return []


def check_dpkg(run, repair, check_mode, updates_dir='/var/lib/dpkg/updates'):
    def problems():
        _rc, out, err = run(['dpkg', '--audit'], _ENV)
        text = (out + err).strip()
        if interrupted_dpkg(updates_dir):
            text = ('dpkg was interrupted (journal entries in %s)\n' % updates_dir + text).strip()
        return text

    found = problems()
    if not found:
        return _result('dpkg', True, 'consistent (dpkg --audit reports nothing)')
    if not repair:
        return _result('dpkg', False, 'inconsistent; run dpkg --configure -a or set repair: %s' % found.replace('\n', ' '))
    if check_mode:
        return _result('dpkg', False, 'inconsistent; check mode does not repair: %s' % found.replace('\n', ' '))
    rc, out, err = run(['dpkg', '--configure', '-a'], _ENV)
    left = problems()
    return _result('dpkg', not left, 'repaired with dpkg --configure -a' if not left else
                   'still inconsistent after dpkg --configure -a (rc %s): %s' % (rc, left.replace('\n', ' ')),
                   repaired=True, repair_output=(out + err).strip()[-2000:])


def check_dnf(run):
    rc, out, err = run(['dnf', '-q', 'check'], {'LC_ALL': 'C'})
    text = (out + err).strip()
    if rc == 0 and not text:
        return _result('dpkg', True, 'consistent (dnf check reports nothing)')
    return _result('dpkg', False, 'dnf check reports problems: %s' % text.replace('\n', ' ')[:2000])


def check_space(minimums, statvfs=os.statvfs, exists=os.path.exists):
    """Free MiB of each path's file system against its minimum; paths that do not exist are reported, not failed."""
    paths, failed = [], []
    for path, minimum in sorted(minimums.items()):
        if not exists(path):
            paths.append({'path': path, 'minimum_mib': minimum, 'free_mib': None, 'ok': True, 'absent': True})
            continue
        stat = statvfs(path)
        free = stat.f_bavail * stat.f_frsize // (1024 * 1024)
        entry = {'path': path, 'minimum_mib': minimum, 'free_mib': free, 'ok': free >= minimum}
        paths.append(entry)
        if not entry['ok']:
            failed.append('%s has %s MiB free, needs %s' % (path, free, minimum))
    detail = '; '.join(failed) if failed else ', '.join(
        '%s %s' % (p['path'], 'absent' if p.get('absent') else '%s MiB free' % p['free_mib']) for p in paths)
    return _result('space', not failed, detail, paths=paths)


def check_sources(manager, allow_unsigned, etc_apt='/etc/apt', repos_dir='/etc/yum.repos.d', dnf_conf='/etc/dnf/dnf.conf'):
    if manager == 'apt':
        findings = package_sources.apt_unsigned_sources(etc_apt)
    else:
        findings = package_sources.dnf_unsigned_repos(repos_dir, dnf_conf)
    if not findings:
        return _result('sources', True, 'every source is signature-checked', unsigned=[])
    text = 'sources without signature checks: ' + package_sources.describe(findings)
    if allow_unsigned:
        return _result('sources', True, text + ' (allowed by allow_unsigned)', unsigned=findings)
    return _result('sources', False, text, unsigned=findings)


def _lists_state(lists_dir):
    state = {}
    try:
        for name in os.listdir(lists_dir):
            path = os.path.join(lists_dir, name)
            if os.path.isfile(path) and name not in ('lock',):
                stat = os.stat(path)
                state[name] = (stat.st_size, stat.st_mtime_ns)
    except OSError:
        pass
    return state


def check_refresh(run, manager, check_mode, lists_dir='/var/lib/apt/lists'):
    """Refresh the metadata; unsigned or unreachable sources fail. Returns (result, changed)."""
    if check_mode:
        return dict(_result('refresh', True, 'not refreshed in check mode (no side effects)'), skipped=True), False
    if manager == 'dnf':
        rc, out, err = run(['dnf', '-q', 'makecache'], {'LC_ALL': 'C'})
        text = (out + err).strip()
        return _result('refresh', rc == 0, 'dnf makecache ok' if rc == 0 else 'dnf makecache failed (rc %s): %s' % (rc, text[-2000:])), False
    before = _lists_state(lists_dir)
    rc, out, err = run(['apt-get', 'update', '-q'], _ENV)
    changed = _lists_state(lists_dir) != before
    problems = package_sources.apt_update_problems(out + '\n' + err)
    if rc != 0 or problems:
        return _result('refresh', False, 'apt-get update (rc %s): %s' % (rc, ' | '.join(problems) or (err or out).strip()[-2000:])), changed
    return _result('refresh', True, 'package lists refreshed' if changed else 'package lists already current'), changed


def run_checks(run, manager, params, check_mode, **paths):
    """Every check in CHECKS order; returns (checks, changed)."""
    skip = set(params.get('skip') or [])
    checks, changed = [], False
    for name in CHECKS:
        if name in skip or (name == 'refresh' and not params.get('refresh', True)):
            checks.append({'name': name, 'ok': True, 'skipped': True, 'detail': 'skipped as asked'})
            continue
        if name == 'lock':
            lock_files = params.get('lock_files') or (package_locks.APT_LOCK_FILES if manager == 'apt' else package_locks.DNF_LOCK_FILES)
            checks.append(check_locks(lock_files, params.get('lock_timeout', 300)))
        elif name == 'dpkg':
            repair = params.get('repair', False) and all(c['ok'] for c in checks)
            checks.append(check_dpkg(run, repair, check_mode, paths.get('updates_dir', '/var/lib/dpkg/updates'))
                          if manager == 'apt' else check_dnf(run))
            changed = changed or bool(checks[-1].get('repaired'))
        elif name == 'space':
            checks.append(check_space(params.get('min_free_mib') or {}))
        elif name == 'sources':
            checks.append(check_sources(manager, params.get('allow_unsigned', False), **{
                k: v for k, v in paths.items() if k in ('etc_apt', 'repos_dir', 'dnf_conf')}))
        elif name == 'refresh':
            failed_before = [c for c in checks if not c['ok']]
            if failed_before:
                # Nothing that changes the host runs once a check has failed.
                checks.append({'name': 'refresh', 'ok': True, 'skipped': True, 'detail': 'not run: an earlier check failed'})
                continue
            result, refreshed = check_refresh(run, manager, check_mode, paths.get('lists_dir', '/var/lib/apt/lists'))
            checks.append(result)
            changed = changed or refreshed
    return checks, changed

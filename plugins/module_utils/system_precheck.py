# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checks a host passes before its operating system is patched.

Each check returns {name, ok, skipped, detail, ...}; ``run_checks`` runs them
in a fixed order so the report reads the same on every host.  ``run(args,
env)`` runs a command and returns (rc, stdout, stderr).  Every path is read
below ``root`` (V(/) on a real host), the way ``dpkg --root`` and ``dnf
--installroot`` see a system.
"""

from __future__ import annotations

import hashlib
import os

from ansible_collections.patchwise.patching.plugins.module_utils import package_locks, package_sources

# Checks that only look come first; repair and refresh change the host and run only when those passed.
CHECKS = ('lock', 'space', 'sources', 'dpkg', 'refresh')
_ENV = {'DEBIAN_FRONTEND': 'noninteractive', 'LC_ALL': 'C'}
_MIB = 1024 * 1024


def under(root, path):
    """``path`` inside the system installed at ``root``."""
    return path if root in ('', '/') else os.path.join(root, path.lstrip('/'))


def _result(name, ok, detail, **extra):
    return dict({'name': name, 'ok': ok, 'skipped': False, 'detail': detail}, **extra)


def _skipped(name, why):
    return {'name': name, 'ok': True, 'skipped': True, 'detail': why}


def check_locks(lock_files, timeout, wait=package_locks.wait_for_locks):
    state = wait(lock_files, timeout)
    if state['free']:
        detail = 'free: %s' % ', '.join(lock_files) + (' (after waiting %ss)' % state['waited'] if state['waited'] >= 1 else '')
        return _result('lock', True, detail, waited=state['waited'], holders=[])
    unknown = any('error' in holder for holder in state['holders'])
    return _result('lock', False, '%s%s' % ('' if unknown else 'still locked after %ss: ' % state['waited'],
                                            package_locks.describe_holders(state['holders'])),
                   waited=state['waited'], holders=state['holders'])


def interrupted_dpkg(updates_dir):
    """dpkg's journal entries: dpkg was interrupted while they were written (apt says 'dpkg was interrupted')."""
    try:
        return sorted(name for name in os.listdir(updates_dir) if name.isdigit())
    except OSError:
        return []


def audit_packages(audit_output):
    """The package names dpkg --audit lists (indented lines: name, then its description)."""
    names = []
    for line in audit_output.splitlines():
        if line.startswith(' ') and line.strip():
            name = line.split()[0]
            if name not in names:
                names.append(name)
    return names


def check_dpkg(run, repair, check_mode, root='/', blocked_by=None):
    """dpkg --audit and the journal; with ``repair`` dpkg --configure -a, unless ``blocked_by`` names a failed check."""
    dpkg = ['dpkg'] if root in ('', '/') else ['dpkg', '--root=%s' % root]
    updates_dir = under(root, '/var/lib/dpkg/updates')

    def problems():
        rc, out, err = run([*dpkg, '--audit'], _ENV)
        text = (out + err).strip() if (out.strip() or rc != 0) else ''
        if interrupted_dpkg(updates_dir):
            text = ('dpkg was interrupted (journal entries in %s)\n%s' % (updates_dir, text)).strip()
        return text

    found = problems()
    if not found:
        return _result('dpkg', True, 'consistent (dpkg --audit reports nothing)', packages=[])
    packages = audit_packages(found)
    if repair and blocked_by:
        return _result('dpkg', False, 'inconsistent, not repaired because the %s check failed: %s' % (blocked_by, _one_line(found)),
                       packages=packages)
    if not repair:
        return _result('dpkg', False, 'inconsistent (repair: true runs dpkg --configure -a): %s' % _one_line(found), packages=packages)
    if check_mode:
        return _result('dpkg', False, 'inconsistent, not repaired in check mode: %s' % _one_line(found), packages=packages)
    rc, out, err = run([*dpkg, '--configure', '-a'], _ENV)
    left = problems()
    if left:
        return _result('dpkg', False, 'still inconsistent after dpkg --configure -a (rc %s): %s' % (rc, _one_line(left)),
                       packages=audit_packages(left), repaired=[], repair_output=(out + err).strip()[-2000:])
    return _result('dpkg', True, 'repaired with dpkg --configure -a: %s' % (', '.join(packages) or 'interrupted run completed'),
                   packages=[], repaired=packages, repair_output=(out + err).strip()[-2000:])


def check_dnf(run, root='/'):
    """``dnf check``: dependency, duplicate and obsoleted problems in the rpm database (what an interrupted
    transaction leaves behind; dnf has no yum-complete-transaction). Cache only: nothing is downloaded."""
    dnf = ['dnf', '-q', '-C'] + ([] if root in ('', '/') else ['--installroot=%s' % root])
    rc, out, err = run([*dnf, 'check'], {'LC_ALL': 'C'})
    if rc == 0:
        return _result('dpkg', True, 'consistent (dnf check reports nothing)', packages=[])
    return _result('dpkg', False, 'dnf check reports problems (rc %s): %s' % (rc, _one_line((out + err).strip())[:2000]),
                   packages=[line.split()[0] for line in out.splitlines() if line.strip()])


def _one_line(text):
    return ' '.join(text.split())


def mount_point(path):
    """The mount point of the file system holding ``path``."""
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def check_space(minimums, root='/', statvfs=os.statvfs):
    """Free MiB of each path's file system against its minimum; a path that does not exist is reported as absent."""
    paths, failed = [], []
    for path, minimum in sorted(minimums.items()):
        real = under(root, path)
        if not os.path.exists(real):
            paths.append({'path': path, 'minimum_mib': minimum, 'free_mib': None, 'mount': None, 'ok': True, 'absent': True})
            continue
        stat = statvfs(real)
        free = stat.f_bavail * stat.f_frsize // _MIB
        entry = {'path': path, 'minimum_mib': minimum, 'free_mib': free, 'mount': mount_point(real), 'ok': free >= minimum,
                 'absent': False}
        paths.append(entry)
        if not entry['ok']:
            failed.append('%s has %s MiB free (file system at %s), needs %s' % (path, free, entry['mount'], minimum))
    detail = '; '.join(failed) if failed else ', '.join(
        '%s %s' % (p['path'], 'absent' if p['absent'] else '%s MiB free (needs %s)' % (p['free_mib'], p['minimum_mib'])) for p in paths)
    return _result('space', not failed, detail, paths=paths)


def check_sources(manager, allow_unsigned, root='/'):
    if manager == 'apt':
        findings = package_sources.apt_unsigned_sources(under(root, '/etc/apt'))
    else:
        findings = package_sources.dnf_unsigned_repos(root)
    if not findings:
        return _result('sources', True, 'every source is signature-checked', unsigned=[])
    text = 'sources without signature checks: ' + package_sources.describe(findings)
    if allow_unsigned:
        return _result('sources', True, text + ' (allowed by allow_unsigned)', unsigned=findings)
    return _result('sources', False, text + ' (allow_unsigned: true accepts them)', unsigned=findings)


def lists_state(lists_dir):
    """{file name: SHA-256} of the downloaded package lists, to tell whether a refresh changed them."""
    state = {}
    try:
        names = os.listdir(lists_dir)
    except OSError:
        return state
    for name in names:
        path = os.path.join(lists_dir, name)
        if name != 'lock' and os.path.isfile(path):
            digest = hashlib.sha256()
            with open(path, 'rb') as handle:
                for block in iter(lambda: handle.read(1 << 20), b''):
                    digest.update(block)
            state[name] = digest.hexdigest()
    return state


def check_refresh(run, manager, check_mode, root='/'):
    """Refresh the package metadata; unsigned or unreachable sources fail. Returns (result, changed)."""
    if check_mode:
        return _skipped('refresh', 'not refreshed in check mode (no side effects)'), False
    if manager == 'dnf':
        dnf = ['dnf', '-q'] + ([] if root in ('', '/') else ['--installroot=%s' % root])
        rc, out, err = run([*dnf, 'makecache'], {'LC_ALL': 'C'})
        text = _one_line(out + ' ' + err)
        # dnf keeps no comparable list files; its metadata cache is a cache, so a refresh is not a change.
        return _result('refresh', rc == 0, 'dnf makecache ok' if rc == 0 else 'dnf makecache failed (rc %s): %s' % (rc, text[-2000:]),
                       problems=[] if rc == 0 else [text[-2000:]]), False
    lists_dir = under(root, '/var/lib/apt/lists')
    apt = ['apt-get', '-q'] + ([] if root in ('', '/') else [
        '-o', 'Dir=%s' % root, '-o', 'Dir::State::status=%s' % under(root, '/var/lib/dpkg/status')])
    before = lists_state(lists_dir)
    rc, out, err = run([*apt, 'update'], _ENV)
    changed = lists_state(lists_dir) != before
    problems = package_sources.apt_update_problems(out + '\n' + err)
    if rc != 0 or problems:
        return _result('refresh', False, 'apt-get update (rc %s): %s' % (rc, ' | '.join(problems) or _one_line(err or out)[-2000:]),
                       problems=problems, lists_changed=changed), changed
    return _result('refresh', True, 'package lists refreshed' if changed else 'package lists already current',
                   problems=[], lists_changed=changed), changed


def default_lock_files(manager, root='/'):
    return [under(root, path) for path in (package_locks.APT_LOCK_FILES if manager == 'apt' else package_locks.DNF_LOCK_FILES)]


def run_checks(run, manager, params, check_mode):
    """Every check in CHECKS order; returns (checks, changed)."""
    root = params.get('root') or '/'
    skip = set(params.get('skip') or [])
    checks, changed = [], False
    for name in CHECKS:
        if name in skip:
            checks.append(_skipped(name, 'skipped as asked (skip)'))
        elif name == 'refresh' and not params.get('refresh', True):
            checks.append(_skipped(name, 'skipped as asked (refresh: false)'))
        elif name == 'lock':
            lock_files = [under(root, path) for path in params['lock_files']] if params.get('lock_files') else default_lock_files(manager, root)
            checks.append(check_locks(lock_files, params.get('lock_timeout', 300)))
        elif name == 'space':
            checks.append(check_space(params.get('min_free_mib') or {}, root))
        elif name == 'sources':
            checks.append(check_sources(manager, params.get('allow_unsigned', False), root))
        elif name == 'dpkg' and manager == 'dnf':
            checks.append(check_dnf(run, root))
        elif name == 'dpkg':
            # Repairing runs dpkg: only when the locks are free and nothing else is wrong.
            failed = [check['name'] for check in checks if not check['ok']]
            checks.append(check_dpkg(run, params.get('repair', False), check_mode, root, ', '.join(failed) or None))
            # dpkg --configure -a ran: it may have configured packages even when problems are left.
            changed = changed or 'repair_output' in checks[-1]
        elif [check for check in checks if not check['ok']]:
            checks.append(_skipped('refresh', 'not run: an earlier check failed'))
        else:
            result, refreshed = check_refresh(run, manager, check_mode, root)
            checks.append(result)
            changed = changed or refreshed
    return checks, changed

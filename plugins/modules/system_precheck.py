#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: system_precheck
short_description: Check a host before its operating system is patched - locks, free space, signed sources, package database
version_added: 0.1.0
description:
  - Runs the checks that must pass before P(patchwise.patching.system_update#module) changes anything, always in the
    order V(lock), V(space), V(sources), V(dpkg), V(refresh), and reports every one of them. A check left out with
    O(skip) (or O(refresh=false)) is reported as skipped, never silently dropped.
  - "V(lock): the package manager's lock files are not held. apt, dpkg and rpm lock files are probed with
    C(fcntl) C(F_GETLK), which asks the kernel for a conflicting lock and its owner without taking the lock (how dpkg and
    apt name a holder themselves), so a starting apt or dnf is never disturbed. dnf 4 marks its locks with C(*.pid)
    files naming its process; such a file is held while that process runs. The module polls every 2 seconds for up to
    O(lock_timeout) seconds and then fails naming each lock file, the holder's process id and command line."
  - "V(space): the file system holding each path of O(min_free_mib) has at least that many MiB free for unprivileged
    users (C(statvfs) C(f_bavail)). Every path is reported with its free MiB, minimum and mount point; a path that does
    not exist (C(/boot) in a container) is reported as absent and does not fail."
  - "V(sources): every package source checks signatures. apt - a C(sources.list) / C(*.list) entry with
    C([trusted=yes]), C(allow-insecure=yes), C(allow-weak=yes) or C(allow-downgrade-to-insecure=yes), a deb822
    C(*.sources) stanza with C(Trusted: yes) (or the other three), or apt configuration (C(apt.conf), C(apt.conf.d))
    setting C(Acquire::AllowInsecureRepositories), C(Acquire::AllowWeakRepositories),
    C(Acquire::AllowDowngradeToInsecureRepositories) or C(APT::Get::AllowUnauthenticated) to true. dnf - an enabled
    repository (C(*.repo) in the C(reposdir) directories, or in C(dnf.conf)) whose C(gpgcheck) is off, or unset while
    C([main]) in C(/etc/dnf/dnf.conf) does not turn it on (dnf's default is off). Each finding names its file, line
    (apt; the first line of a deb822 stanza) and source URI. Fails unless O(allow_unsigned)."
  - "V(dpkg): the package database is consistent. apt hosts - C(dpkg --audit) reports nothing (no half-installed,
    half-configured, unpacked or trigger-pending package) and dpkg's journal (C(/var/lib/dpkg/updates)) holds no
    entry of an interrupted run; with O(repair), C(dpkg --configure -a) is run (not in check mode, and only when the
    earlier checks passed) and the audit repeated. dnf hosts - C(dnf check) (dependency, duplicate and obsoleted
    problems, which is what an interrupted rpm transaction leaves; dnf has no C(yum-complete-transaction)); there is
    nothing to repair automatically, so O(repair) does not apply."
  - "V(refresh): the package metadata is refreshed (C(apt-get -q update), C(dnf -q makecache)). apt's C(W:), C(E:) and
    C(Err:) lines about a missing public key (C(NO_PUBKEY)), an unsigned repository, a repository without Release file,
    a GPG error or a source that cannot be fetched fail the check and are returned, each naming its source. Not run in
    check mode (reported as skipped, so check mode has no side effects) and not run after a failed check."
author: patchwise developers !UNKNOWN
extends_documentation_fragment:
  - patchwise.patching.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is repaired or refreshed; the refresh is reported as skipped, and C(changed) is always false.
  diff_mode:
    support: none
notes:
  - "C(changed) is true only when C(dpkg --configure -a) ran, or when C(apt-get update) changed the content of a
    file in C(/var/lib/apt/lists) (SHA-256 of each file compared before and after). dnf's metadata cache is not
    counted as a change."
  - The module fails (and still returns every check) when any check fails; its message names each failed check with
    its details.
  - Needs root (C(become)) to read the lock files and run dpkg and the refresh.
options:
  manager:
    description:
      - The package manager. V(auto) picks apt when C(apt-get) is installed and O(root) has a dpkg database
        (C(/var/lib/dpkg)), else dnf when C(dnf) is installed.
    type: str
    choices: [auto, apt, dnf]
    default: auto
  root:
    description:
      - The root directory of the system to check, as C(dpkg --root) and C(dnf --installroot) take it. Every path
        (lock files, sources, O(min_free_mib) paths, the dpkg database, the package lists) is read below it, and the
        commands run with C(dpkg --root), C(apt-get -o Dir=) or C(dnf --installroot). Leave V(/) on a real host.
    type: path
    default: /
  lock_timeout:
    description: Seconds to wait for the locks to be released before failing; V(0) checks once.
    type: int
    default: 300
  lock_files:
    description:
      - The lock files to watch, inside O(root). Files ending in C(.pid) are dnf-style pid files, the others are
        locked with C(fcntl).
      - "Default for apt: C(/var/lib/dpkg/lock-frontend), C(/var/lib/dpkg/lock), C(/var/lib/apt/lists/lock),
        C(/var/cache/apt/archives/lock). For dnf 4: C(/var/lib/rpm/.rpm.lock), C(/var/lib/dnf/rpmdb_lock.pid),
        C(/var/cache/dnf/metadata_lock.pid), C(/var/cache/dnf/download_lock.pid)."
    type: list
    elements: path
  repair:
    description:
      - Repair an inconsistent dpkg with C(dpkg --configure -a) instead of failing; the check then reports the packages
        repaired. apt hosts only.
    type: bool
    default: false
  min_free_mib:
    description:
      - Path -> the free space in MiB the file system holding it needs. Only the paths given are checked.
    type: dict
    default: {"/": 1024, "/var": 1024, "/boot": 100}
  allow_unsigned:
    description: Accept sources without signature checks; they are still reported in the V(sources) check.
    type: bool
    default: false
  refresh:
    description: Refresh the package metadata (the V(refresh) check). V(false) reports it as skipped.
    type: bool
    default: true
  skip:
    description: Checks to leave out; each is reported as skipped.
    type: list
    elements: str
    choices: [lock, space, sources, dpkg, refresh]
    default: []
seealso:
  - module: patchwise.patching.system_update
  - module: patchwise.patching.system_backup
"""

EXAMPLES = r"""
- name: Check the host before patching
  patchwise.patching.system_precheck:
    lock_timeout: 600
    min_free_mib: {"/": 2048, "/var": 2048, "/boot": 150}
  become: true

- name: Repair an interrupted dpkg, accept a known unsigned internal mirror
  patchwise.patching.system_precheck:
    repair: true
    allow_unsigned: true
  become: true

- name: Look only (no refresh), and keep the report even when a check fails
  patchwise.patching.system_precheck:
    refresh: false
    skip: [space]
  become: true
  register: precheck
  ignore_errors: true

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ precheck.checks | selectattr('ok', 'false') | map(attribute='detail') }}"
  when: precheck.failed_checks | length > 0
"""

RETURN = r"""
manager:
  description: The package manager checked.
  returned: always
  type: str
  sample: apt
checks:
  description:
    - One entry per check, always in the order V(lock), V(space), V(sources), V(dpkg), V(refresh), each with
      C(name), C(ok), C(skipped) and C(detail) (a sentence naming files, holders, paths or sources).
    - "V(lock) adds C(waited) (seconds) and C(holders) (C(file), C(pid), C(command), C(kind) V(fcntl) or V(pid-file);
      C(error) when a lock file could not be read)."
    - V(space) adds C(paths) (C(path), C(free_mib), C(minimum_mib), C(mount), C(ok), C(absent)).
    - V(sources) adds C(unsigned) (C(file), C(line), C(source), C(setting)).
    - V(dpkg) adds C(packages) (the packages C(dpkg --audit) or C(dnf check) names); after a repair also C(repaired)
      (the packages repaired) and C(repair_output) (the end of the output of C(dpkg --configure -a)).
    - V(refresh) adds C(problems) (the lines about unsigned or unreachable sources) and, on apt, C(lists_changed).
    - A skipped check has only the four common keys.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: lock, ok: true, skipped: false, detail: "free: /var/lib/dpkg/lock-frontend, ...", waited: 0.0, holders: []}
    - name: space
      ok: true
      skipped: false
      detail: "/ 20112 MiB free (needs 1024), /boot absent, /var 20112 MiB free (needs 1024)"
      paths: [{path: /, free_mib: 20112, minimum_mib: 1024, mount: /, ok: true, absent: false}]
    - name: sources
      ok: false
      skipped: false
      detail: "sources without signature checks: /etc/apt/sources.list.d/x.list:1: file:/srv/mirror (trusted=yes) ..."
      unsigned: [{file: /etc/apt/sources.list.d/x.list, line: 1, source: "file:/srv/mirror", setting: trusted=yes}]
    - {name: dpkg, ok: true, skipped: false, detail: consistent (dpkg --audit reports nothing), packages: []}
    - {name: refresh, ok: true, skipped: true, detail: "not run: an earlier check failed"}
failed_checks:
  description: The names of the checks that failed, in report order.
  returned: always
  type: list
  elements: str
  sample: [sources]
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils.system_precheck import CHECKS, run_checks, under


def _manager(choice, root):
    if choice != 'auto':
        return choice
    if shutil.which('apt-get') and os.path.isdir(under(root, '/var/lib/dpkg')):
        return 'apt'
    return 'dnf' if shutil.which('dnf') else None


def _minimums(value):
    """{path: MiB} with whole, non-negative numbers, or an error message naming the bad entry."""
    minimums = {}
    for path, minimum in value.items():
        try:
            minimums[path] = int(minimum)
        except (TypeError, ValueError):
            return None, 'min_free_mib: %s must be a whole number of MiB, got %r' % (path, minimum)
        if minimums[path] < 0 or not str(path).startswith('/'):
            return None, 'min_free_mib: %s: paths must be absolute and minimums not negative, got %r' % (path, minimum)
    return minimums, None


def main():
    module = AnsibleModule(
        argument_spec={
            'manager': {'type': 'str', 'choices': ['auto', 'apt', 'dnf'], 'default': 'auto'},
            'root': {'type': 'path', 'default': '/'},
            'lock_timeout': {'type': 'int', 'default': 300},
            'lock_files': {'type': 'list', 'elements': 'path'},
            'repair': {'type': 'bool', 'default': False},
            'min_free_mib': {'type': 'dict', 'default': {'/': 1024, '/var': 1024, '/boot': 100}},
            'allow_unsigned': {'type': 'bool', 'default': False},
            'refresh': {'type': 'bool', 'default': True},
            'skip': {'type': 'list', 'elements': 'str', 'choices': list(CHECKS), 'default': []},
        },
        supports_check_mode=True,
    )
    root = module.params['root']
    if not os.path.isdir(root):
        module.fail_json(msg='root: %s is not a directory' % root)
    if module.params['lock_timeout'] < 0:
        module.fail_json(msg='lock_timeout: must not be negative, got %s' % module.params['lock_timeout'])
    manager = _manager(module.params['manager'], root)
    if manager is None:
        module.fail_json(msg='no supported package manager found on this host (apt-get with a dpkg database, or dnf)')
    minimums, error = _minimums(module.params['min_free_mib'])
    if error:
        module.fail_json(msg=error)

    def run(args, env=None):
        return module.run_command(args, environ_update=env or {})

    checks, changed = run_checks(run, manager, dict(module.params, min_free_mib=minimums), module.check_mode)
    failed = [check['name'] for check in checks if not check['ok']]
    result = {'changed': changed, 'manager': manager, 'checks': checks, 'failed_checks': failed}
    if failed:
        reasons = ['%s: %s' % (check['name'], check['detail']) for check in checks if not check['ok']]
        module.fail_json(msg='pre-checks failed: %s' % '; '.join(reasons), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()

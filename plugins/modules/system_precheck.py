#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: system_precheck
short_description: Check a host before its operating system is patched - locks, dpkg state, free space, signed sources
version_added: 0.1.0
description:
  - Runs the checks that must pass before P(patchwise.patching.system_update#module) changes anything, in this order,
    and reports every one of them (a check left out with O(skip) is reported as skipped, never silently dropped).
  - "V(lock): the package manager's lock files are not held. Holders are read from the kernel's lock table
    (C(/proc/locks)) without taking the locks, so a starting apt or dnf is never disturbed; the module waits up to
    O(lock_timeout) seconds and then fails naming the lock file, the holder's process id and command line."
  - "V(space): the file system of each path in O(min_free_mib) has at least that many MiB free; a path that does
    not exist (C(/boot) in a container) is reported as absent."
  - "V(sources): every package source checks signatures. apt - a source with C(trusted=yes) / C(Trusted: yes),
    C(allow-insecure), C(allow-weak) or C(allow-downgrade-to-insecure), or apt configuration allowing unauthenticated
    packages or insecure repositories; dnf - an enabled repository with C(gpgcheck=0) (or unset where C(dnf.conf)
    does not enable it). Each is named with its file and line. Fails unless O(allow_unsigned)."
  - "V(dpkg): C(dpkg --audit) reports nothing and dpkg was not interrupted (dnf - C(dnf check)). With O(repair)
    (and every earlier check passed), C(dpkg --configure -a) is run and the audit repeated."
  - "V(refresh): the package lists are refreshed (C(apt-get update), C(dnf makecache)); apt's warnings and errors
    about unsigned, unverifiable or unreachable sources fail the check. Not run in check mode, nor after a failed check."
author: patchwise developers
extends_documentation_fragment:
  - patchwise.patching.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is repaired or refreshed; the refresh is reported as skipped.
  diff_mode:
    support: none
options:
  manager:
    description: The package manager; V(auto) picks apt where C(apt-get) exists, else dnf.
    type: str
    choices: [auto, apt, dnf]
    default: auto
  lock_timeout:
    description: Seconds to wait for the locks to be released before failing.
    type: int
    default: 300
  lock_files:
    description:
      - The lock files to watch; default apt's and dpkg's (C(/var/lib/dpkg/lock-frontend), C(/var/lib/dpkg/lock),
        C(/var/lib/apt/lists/lock), C(/var/cache/apt/archives/lock)) or rpm's and dnf's.
    type: list
    elements: path
  repair:
    description: Repair an inconsistent dpkg with C(dpkg --configure -a) instead of failing.
    type: bool
    default: false
  min_free_mib:
    description: Path -> the free space in MiB its file system needs.
    type: dict
    default: {"/": 1024, "/var": 1024, "/boot": 100}
  allow_unsigned:
    description: Accept sources without signature checks (they are still reported).
    type: bool
    default: false
  refresh:
    description: Refresh the package lists (the V(refresh) check).
    type: bool
    default: true
  skip:
    description: Checks to leave out; they are reported as skipped.
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
"""

RETURN = r"""
manager:
  description: The package manager checked.
  returned: always
  type: str
  sample: apt
checks:
  description:
    - One entry per check in the order run - C(name), C(ok), C(skipped), C(detail); V(lock) adds C(waited) and
      C(holders), V(space) C(paths) (C(path), C(free_mib), C(minimum_mib), C(ok)), V(sources) C(unsigned) (C(file),
      C(line), C(source), C(setting)), V(dpkg) C(repaired) when it repaired.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: lock, ok: true, skipped: false, detail: free, waited: 0.0}
    - {name: sources, ok: false, skipped: false, detail: "sources without signature checks: /etc/apt/sources.list.d/x.list:1: ..."}
failed_checks:
  description: The names of the checks that failed.
  returned: always
  type: list
  elements: str
"""

import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils.system_precheck import CHECKS, run_checks


def main():
    module = AnsibleModule(
        argument_spec={
            'manager': {'type': 'str', 'choices': ['auto', 'apt', 'dnf'], 'default': 'auto'},
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
    manager = module.params['manager']
    if manager == 'auto':
        manager = 'apt' if shutil.which('apt-get') else ('dnf' if shutil.which('dnf') else None)
    if manager is None:
        module.fail_json(msg='no supported package manager found on this host (apt-get or dnf)')
    try:
        minimums = {path: int(value) for path, value in module.params['min_free_mib'].items()}
    except (TypeError, ValueError):
        module.fail_json(msg='min_free_mib: every value must be a number of MiB, got %r' % (module.params['min_free_mib'],))

    def run(args, env=None):
        return module.run_command(args, environ_update=env or {})

    params = dict(module.params, min_free_mib=minimums)
    checks, changed = run_checks(run, manager, params, module.check_mode)
    failed = [check['name'] for check in checks if not check['ok']]
    result = {'changed': changed, 'manager': manager, 'checks': checks, 'failed_checks': failed}
    if failed:
        module.fail_json(msg='pre-checks failed: %s' % '; '.join('%s: %s' % (c['name'], c['detail']) for c in checks if not c['ok']),
                         **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()

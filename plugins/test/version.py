# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: version
short_description: Test a version against another with a packaging ecosystem's exact ordering
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Like the builtin P(ansible.builtin.version#test) test, with the orderings of Debian (dpkg's C(verrevcmp)),
    RPM (rpm's C(rpmvercmp)), Alpine (apk-tools' C(apk_version_compare)), Python (PEP 440 through C(packaging))
    and SemVer 2.0.0 (as node-semver's strict mode); P(patchwise.patching.version_compare#filter) describes each.
  - An invalid version for the scheme fails the task with a message naming the version and the scheme.
options:
  _input:
    description: The version to test.
    type: string
    required: true
  other:
    description: The version to compare it with.
    type: string
    required: true
  operator:
    description: The comparison.
    type: string
    default: eq
    choices: ['==', '=', 'eq', '!=', '<>', 'ne', '<', 'lt', '<=', 'le', '>', 'gt', '>=', 'ge']
  scheme:
    description: The version ordering to use; see P(patchwise.patching.version_compare#filter).
    type: string
    default: generic
    choices: [deb, rpm, apk, pep440, semver, generic]
seealso:
  - plugin: patchwise.patching.version_compare
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Only hosts whose openssl is older than the fixed version
  ansible.builtin.debug:
    msg: vulnerable
  when: installed is patchwise.patching.version('3.0.11-1~deb12u2', '<', scheme='deb')
  vars:
    installed: 3.0.11-1~deb12u1

- name: Tilde sorts before the release in both deb and rpm
  ansible.builtin.assert:
    that:
      - "'1.0~rc1' is patchwise.patching.version('1.0', 'lt', scheme='rpm')"
"""

RETURN = r"""
_value:
  description: Whether the comparison holds.
  type: bool
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

_OPERATORS = {
    '==': (0,), '=': (0,), 'eq': (0,),
    '!=': (-1, 1), '<>': (-1, 1), 'ne': (-1, 1),
    '<': (-1,), 'lt': (-1,),
    '<=': (-1, 0), 'le': (-1, 0),
    '>': (1,), 'gt': (1,),
    '>=': (0, 1), 'ge': (0, 1),
}


def version(value, other, operator='eq', scheme='generic'):
    try:
        accepted = _OPERATORS[operator]
    except (KeyError, TypeError):
        raise AnsibleFilterError('version: unknown operator %r; use one of %s' % (operator, ', '.join(_OPERATORS))) from None
    try:
        return compare_versions(str(value), str(other), scheme) in accepted
    except ValueError as exc:
        raise AnsibleFilterError('version: %s' % exc) from exc


class TestModule:
    def tests(self):
        return {'version': version}

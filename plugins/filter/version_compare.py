# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: version_compare
short_description: Compare two versions with a packaging ecosystem's exact ordering
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Returns V(-1), V(0) or V(1) as the input version is older than, equal to or newer than O(other).
  - Orders versions the way the ecosystem's own tools do, which the builtin P(ansible.builtin.version#test)
    test does not offer. Each scheme follows one upstream implementation, and the collection's unit tests run
    that upstream's own test vectors through it.
  - V(deb) follows dpkg's C(verrevcmp) (C(dpkg --compare-versions), python3-apt's C(apt_pkg.version_compare))
    on C([epoch:]upstream[-revision]). The epoch is refused above 2147483647, as dpkg refuses it; characters
    dpkg only warns about are refused.
  - V(rpm) follows rpm's C(rpmvercmp) on version and release after the epoch, as C(rpm.labelCompare) of rpm 4.18
    does; C(~) sorts before everything, C(^) after the end but before anything else; a missing release sorts
    before any release.
  - V(apk) follows apk-tools' C(apk_version_compare) (Alpine, Wolfi, Chainguard) token by token; a version
    C(apk_version_validate) rejects is refused. So a dotted number with a leading zero compares as a string
    (C(1.02 < 1.1), C(1.0 < 1.00)) and C(1.0 < 1.0-r0), C(1.0_p < 1.0_p0).
  - V(pep440) follows PEP 440 through the Python library C(packaging) (C(packaging.version.Version)); versions
    that are not ASCII are refused, whatever the installed C(packaging) release accepts.
  - V(semver) follows SemVer 2.0.0 precedence, as node-semver's strict mode does; a leading C(v) is accepted
    (Go modules) and build metadata is ignored.
  - V(generic) follows no upstream; see O(scheme).
  - An invalid version for the scheme fails the task with a message naming the version and the scheme.
options:
  _input:
    description: The version to compare.
    type: string
    required: true
  other:
    description: The version to compare it with.
    type: string
    required: true
  scheme:
    description:
      - The version ordering to use.
      - V(generic) splits a version into numbers and letter runs; missing parts count as zero.
    type: string
    default: generic
    choices: [deb, rpm, apk, pep440, semver, generic]
seealso:
  - plugin: patchwise.patching.version
    plugin_type: test
"""

EXAMPLES = r"""
- name: A Debian security update is newer than the installed package
  ansible.builtin.assert:
    that:
      - "'3.0.11-1~deb12u2' | patchwise.patching.version_compare('3.0.11-1~deb12u3', 'deb') == -1"
      - "'1:2.0-1' | patchwise.patching.version_compare('3.0-1', scheme='deb') == 1"

- name: Compare RPM versions with epochs and releases
  ansible.builtin.debug:
    msg: "{{ '1:3.0.7-24.el9' | patchwise.patching.version_compare('1:3.0.7-27.el9', 'rpm') }}"
"""

RETURN = r"""
_value:
  description: V(-1) when the input is older than O(other), V(0) when they are equal, V(1) when it is newer.
  type: int
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions


def version_compare(version, other, scheme='generic'):
    try:
        return compare_versions(str(version), str(other), scheme)
    except ValueError as exc:
        raise AnsibleFilterError('version_compare: %s' % exc) from exc


class FilterModule:
    def filters(self):
        return {'version_compare': version_compare}

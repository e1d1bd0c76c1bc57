#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: release_switch
short_description: Switch a C(current) symlink between release directories atomically and prune old releases
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Manages the layout C(<path>/releases/<version>/) plus a relative symlink C(<path>/current) to the active release.
  - The switch creates a temporary symlink and renames it over the old one, so a reader of C(current) always sees
    either the old or the new release, never a missing link (M(ansible.builtin.file) removes and recreates it).
  - Without O(version) the module only reports the active release and the releases on disk.
  - With O(keep) it deletes the oldest releases (by directory modification time) until O(keep) remain; the active
    release, the one just replaced and those in O(protect) are never deleted.
extends_documentation_fragment:
  - patchwise.patching.attributes
attributes:
  check_mode:
    support: full
    details: Reports the switch and the deletions it would make.
  diff_mode:
    support: full
    details: The diff shows the link's target before and after.
options:
  path:
    description: Base directory of the application, holding O(releases_dir) and the link.
    type: path
    required: true
  version:
    description: Release to make active; C(<path>/<releases_dir>/<version>) must exist.
    type: str
  link_name:
    description: Name of the symlink inside O(path).
    type: str
    default: current
  releases_dir:
    description: Directory inside O(path) that holds one directory per release.
    type: str
    default: releases
  keep:
    description: Number of releases to keep on disk; V(0) keeps all.
    type: int
    default: 0
  protect:
    description: Releases never deleted by O(keep), for example one kept for inspection.
    type: list
    elements: str
    default: []
notes:
  - A real directory or a link pointing outside O(releases_dir) at the link's place is refused, not replaced.
"""

EXAMPLES = r"""
- name: Make release 2.0.1 active and keep the last 3 releases
  patchwise.patching.release_switch:
    path: /opt/shop
    version: 2.0.1
    keep: 3
  register: shop_switch

- name: Show the switch
  ansible.builtin.debug:
    msg: "{{ shop_switch.previous }} -> {{ shop_switch.current }}"

- name: Only read the active release
  patchwise.patching.release_switch:
    path: /opt/shop
  register: shop_release
"""

RETURN = r"""
previous:
  description: Release the link pointed to before, or null when there was no link.
  type: str
  returned: always
  sample: 2.0.0
current:
  description: Release the link points to now (in check mode, would point to).
  type: str
  returned: always
  sample: 2.0.1
releases:
  description: Releases on disk after pruning, oldest first.
  type: list
  elements: str
  returned: always
  sample: [2.0.0, 2.0.1]
removed:
  description: Releases deleted (in check mode, that would be deleted) by O(keep).
  type: list
  elements: str
  returned: always
  sample: [1.9.0]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils import release_switch


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            version=dict(type='str'),
            link_name=dict(type='str', default='current'),
            releases_dir=dict(type='str', default='releases'),
            keep=dict(type='int', default=0),
            protect=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    base, link_name, releases_dir = p['path'], p['link_name'], p['releases_dir']
    try:
        if p['version'] is None:
            changed, previous = False, release_switch.link_target_version(base, link_name, releases_dir)
            current = previous
        else:
            changed, previous = release_switch.switch(base, p['version'], link_name, releases_dir, module.check_mode)
            current = p['version']
        protected = {v for v in (current, previous) if v} | set(p['protect'])
        removed = release_switch.prunable(base, p['keep'], protected, releases_dir)
        if removed and not module.check_mode:
            release_switch.remove_releases(base, removed, releases_dir)
    except (release_switch.ReleaseError, OSError) as exc:
        module.fail_json(msg='release_switch on %s: %s' % (base, exc))
    releases = [r for r in release_switch.list_releases(base, releases_dir) if r not in removed]
    result = dict(changed=changed or bool(removed), previous=previous, current=current, releases=releases,
                  removed=removed)
    if module._diff and changed:
        result['diff'] = dict(before='%s -> %s\n' % (link_name, previous), after='%s -> %s\n' % (link_name, current))
    module.exit_json(**result)


if __name__ == '__main__':
    main()

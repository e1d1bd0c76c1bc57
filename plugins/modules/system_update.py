#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: system_update
short_description: Apply operating-system updates by mode (security, planned, all, named) and report old -> new versions
version_added: 0.1.0
description:
  - Applies the pending updates of the host's package manager (apt first, dnf second) that a patch run asks for,
    unattended (no prompts, existing configuration files kept by default), and reports exactly which packages
    changed from which version to which, dependencies included.
  - "Modes: V(security) applies the updates the host reports as security fixes (their origin is a security
    archive, or an updateinfo security advisory on dnf), plus the packages of O(packages) (a plan lists packages
    whose fix the host may not flag); V(planned) exactly the packages of O(packages) (the system part of a
    patch plan); V(all) every pending update (a full upgrade); V(packages) the named packages."
  - Held packages (C(apt-mark hold), dnf versionlock and excludes, and the holds of O(holds)) and packages matching
    O(exclude) are never applied; they are reported under RV(held) (with the reason) and RV(excluded).
  - In check mode nothing is changed, locked or refreshed; RV(changes) is the package manager's own simulation
    of the installation, so it lists the dependencies that would change too.
  - When the package manager fails (a maintainer script exits non-zero), the module finishes interrupted
    configuration (C(dpkg --configure -a)) when O(repair_on_failure) is set, and fails with the reason, the
    packages that did change, the pre-change versions (RV(previous_versions), what a rollback restores) and the
    repair's result.
  - Part of the role P(patchwise.patching.system_patch#role), which runs the pre-checks, backup, restarts,
    reboot and verification around it.
author: patchwise developers !UNKNOWN
extends_documentation_fragment:
  - patchwise.patching.attributes
attributes:
  check_mode:
    support: full
    details: The package manager's simulation gives the changes; nothing is refreshed, locked or written.
  diff_mode:
    support: none
options:
  mode:
    description: Which pending updates to apply (see the description).
    type: str
    required: true
    choices: [security, planned, all, packages]
  packages:
    description:
      - The packages to update, as names, C(name=version) strings, or dicts with C(name) and C(target) (the
        entries of a patch plan's C(system.packages)).
      - A version is the one to install - the plan's target - and is installed exactly when the sources offer it;
        when they no longer do (a security archive carries only the newest fix), the oldest offered version above it
        is installed. RV(selected) says which (C(match) V(exact) or V(nearest)). Without a version the newest pending
        version is installed (C(match) V(newest)). A package whose pending versions are all older than asked, or
        that has no pending update, is reported under RV(unavailable) and not applied.
      - Required for O(mode=packages); O(mode=planned) with no packages (a plan with nothing to patch) changes
        nothing; added to the host's security updates with O(mode=security); ignored with O(mode=all).
    type: list
    elements: raw
    default: []
  exclude:
    description: Shell-style patterns (C(linux-image-*)) of packages never to update in this run (a policy's exclusions).
    type: list
    elements: str
    default: []
  holds:
    description:
      - Holds in force for this host (the policy's C(holds), the plan's held findings, the register's), applied here
        where the change happens, in check mode too, whatever the mode. A held update is reported under RV(held)
        with its C(reason) and never applied; an update that would bring a held package along as a dependency is held
        too.
      - Each entry has C(name) (a package name or shell pattern) and C(reason); C(until) (C(YYYY-MM-DD), the last day
        of the hold - a hold whose day has passed on the host is not applied), C(finding) and C(source) (C(policy),
        C(plan), C(register)) are optional and reported back.
    type: list
    elements: dict
    default: []
  refresh:
    description: Refresh the package lists first (C(apt-get update), C(dnf makecache)). Never in check mode.
    type: bool
    default: false
  exact:
    description:
      - Install the versions O(packages) name exactly, or not at all - a frozen patch set's versions. A package
        whose version the sources no longer offer is reported under RV(unavailable) with the versions they do offer;
        the nearest newer one is never taken instead.
    type: bool
    default: false
  keep_config:
    description:
      - Keep the host's modified configuration files when a package ships a new version of them
        (dpkg C(--force-confold)); V(false) installs the package's version (C(--force-confnew)).
      - On dnf, rpm always keeps an edited C(%config(noreplace)) file and writes the package's version beside it
        as C(.rpmnew); V(false) then puts the C(.rpmnew) in place and saves the host's file as C(.rpmsave).
    type: bool
    default: true
  repair_on_failure:
    description:
      - After a failed installation, run C(dpkg --configure -a) and report whether dpkg is consistent.
      - On dnf (rpm has no half-configured state), C(dnf check --duplicates) and, when an interrupted upgrade left
        duplicates, C(dnf remove --duplicates).
    type: bool
    default: true
  manager:
    description: The package manager; V(auto) picks apt where C(apt-get) exists, else dnf.
    type: str
    choices: [auto, apt, dnf]
    default: auto
  root:
    description:
      - Manage the RPM installation below this directory instead of the host's own (C(dnf --installroot),
        C(rpm --root)), such as an image being built or a test host. dnf reads the repositories and C(dnf.conf)
        from inside the root, and the plugin configuration (the versionlock list) from the root's
        C(etc/dnf/plugins) when it has one.
      - Only with O(manager=dnf).
    type: path
seealso:
  - module: patchwise.patching.asset_facts
  - module: patchwise.patching.system_precheck
  - module: patchwise.patching.system_backup
"""

EXAMPLES = r"""
- name: Apply the security updates only
  patchwise.patching.system_update:
    mode: security
  become: true
  register: system_update_result

- name: Apply exactly the packages of the host's patch plan
  patchwise.patching.system_update:
    mode: planned
    packages: "{{ plan.system.packages }}"
    exclude: [linux-image-*]
  become: true

- name: Apply the security updates except those the policy holds back
  patchwise.patching.system_update:
    mode: security
    holds:
      - {name: "postgresql-*", reason: database upgrade freeze, until: "2026-12-31"}
  become: true

- name: Show what a full upgrade would change, without changing anything
  patchwise.patching.system_update:
    mode: all
  check_mode: true
  become: true
"""

RETURN = r"""
manager:
  description: The package manager used.
  returned: always
  type: str
  sample: apt
changes:
  description:
    - The packages changed (or, in check mode, that would change), with old and new version; C(from) is null
      for a package newly installed as a dependency, C(to) null for one removed.
  returned: always
  type: list
  elements: dict
  sample: [{name: libssl3, from: 3.0.14-1~deb12u2, to: 3.0.15-1~deb12u1}]
selected:
  description:
    - The pending updates the mode took, with C(target) the version applied, C(requested) the version asked for (or
      null), C(match) (V(exact), V(nearest) or V(newest), see O(packages)) and C(security); dnf entries also carry
      C(arch) and C(advisories).
  returned: always
  type: list
  elements: dict
held:
  description:
    - Updates the mode took but that stay back, with the C(reason) - the package manager's hold (C(apt-mark hold),
      versionlock) or a hold of O(holds) (then also C(hold), the entry) - including held packages an update would have
      pulled in as dependencies.
  returned: always
  type: list
  elements: dict
excluded:
  description: Updates the mode took but O(exclude) matched (with the C(pattern)).
  returned: always
  type: list
  elements: dict
remaining:
  description: Pending updates the mode does not take (a normal update in V(security) mode); still pending after the run.
  returned: always
  type: list
  elements: dict
unavailable:
  description:
    - Requested packages without a pending update that reaches the requested version, with the C(reason);
      C(installed) is false for a package the host does not have.
  returned: always
  type: list
  elements: dict
reached:
  description: Requested packages already at the requested version or newer (C(installed) the version); nothing to do.
  returned: always
  type: list
  elements: dict
previous_versions:
  description: The versions before the run of every package in RV(changes) (null when it was not installed).
  returned: always
  type: dict
  sample: {libssl3: 3.0.14-1~deb12u2}
reboot_required:
  description:
    - The package manager says a reboot is needed (Debian's C(/var/run/reboot-required), dnf needs-restarting -r) - V(true)
      or V(false).
    - V(unknown) when dnf needs-restarting is missing (dnf-plugins-core not installed) or fails; RV(reboot_reasons) says
      why. It is never reported as V(false) then - the system_patch role counts it as a need.
  returned: always
  type: raw
  sample: false
reboot_reasons:
  description: Why a reboot is needed.
  returned: always
  type: list
  elements: str
repair:
  description:
    - The repair after a failure (C(command), C(rc), C(output), C(consistent), C(audit)) - C(dpkg --configure -a), or
      the duplicate clean-up on dnf.
  returned: when the installation failed and O(repair_on_failure) is set
  type: dict
output:
  description: The end of the package manager's output.
  returned: when something was installed or failed
  type: str
"""

import datetime
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils import update_selection
from ansible_collections.patchwise.patching.plugins.module_utils.apt_update import AptBackend, AptError
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import DnfBackend


def _backend(module, run):
    manager = module.params['manager']
    if manager == 'auto':
        manager = 'apt' if shutil.which('apt-get') else ('dnf' if shutil.which('dnf') else None)
    if manager == 'apt':
        if module.params['root']:
            module.fail_json(msg='root is only supported with manager=dnf (apt was chosen)')
        return AptBackend(run, keep_config=module.params['keep_config'])
    if manager == 'dnf':
        return DnfBackend(run, keep_config=module.params['keep_config'], root=module.params['root'])
    module.fail_json(msg='no supported package manager found on this host (apt-get or dnf)')
    return None


def main():
    module = AnsibleModule(
        argument_spec={
            'mode': {'type': 'str', 'required': True, 'choices': list(update_selection.MODES)},
            'packages': {'type': 'list', 'elements': 'raw', 'default': []},
            'exclude': {'type': 'list', 'elements': 'str', 'default': []},
            'holds': {'type': 'list', 'elements': 'dict', 'default': []},
            'refresh': {'type': 'bool', 'default': False},
            'keep_config': {'type': 'bool', 'default': True},
            'repair_on_failure': {'type': 'bool', 'default': True},
            'manager': {'type': 'str', 'choices': ['auto', 'apt', 'dnf'], 'default': 'auto'},
            'root': {'type': 'path'},
            'exact': {'type': 'bool', 'default': False},
        },
        supports_check_mode=True,
    )

    def run(args, env=None):
        return module.run_command(args, environ_update=env or {})

    backend = _backend(module, run)
    mode = module.params['mode']
    result = {'changed': False, 'manager': backend.name, 'mode': mode, 'changes': [], 'previous_versions': {},
              'selected': [], 'held': [], 'excluded': [], 'remaining': [], 'unavailable': [], 'reached': [],
              'reboot_required': False, 'reboot_reasons': []}
    try:
        requested = {} if mode == 'all' else update_selection.parse_requested(module.params['packages'], 'packages')
        today = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')
        policy_holds = update_selection.parse_holds(module.params['holds'], today)
        if module.params['refresh'] and not module.check_mode:
            backend.refresh()
        pending, installed = backend.pending(), backend.installed()
        wanted_versions = sorted(name for name, version in requested.items() if version)
        selection = update_selection.select_updates(
            pending, mode, requested=requested, holds=backend.holds(), policy_holds=policy_holds,
            exclude=module.params['exclude'], scheme=backend.scheme,
            available=backend.available_versions(wanted_versions) if wanted_versions else {}, installed=installed,
            manager_hold_reason=backend.hold_reason, exact=module.params['exact'])
        result.update(selection)
        selected = selection['selected']
        changes = backend.simulate(selected) if selected and (module.check_mode or policy_holds) else []
        dragged = update_selection.held_dependencies(changes, selected, policy_holds)
        if dragged:
            # The package manager would move a held package along: nothing of this selection is applied.
            note = 'the selection would also change %s' % ', '.join('held %s (%s)' % (d['name'], d['reason']) for d in dragged)
            result['held'] += [dict(entry, reason=note) for entry in selected]
            result['selected'], selected, changes = [], [], []
        if selected and module.check_mode:
            result['changes'] = changes
        elif selected:
            before = installed
            rc, output = backend.apply(selected)
            after = backend.installed()
            result['changes'] = update_selection.package_changes(before, after)
            result['output'] = output[-4000:]
            if rc != 0:
                if module.params['repair_on_failure']:
                    result['repair'] = backend.repair()
                    result['changes'] = update_selection.package_changes(before, backend.installed())
                result['previous_versions'] = {c['name']: c['from'] for c in result['changes']}
                # Every selected package's version before the run, so a rollback knows them even when
                # dpkg left one half-configured under its new version.
                result['previous_versions'].update({s['name']: before.get(s['name']) for s in selected})
                result['changed'] = bool(result['changes'])
                module.fail_json(msg='%s failed (rc %s) applying %s: %s%s' % (
                    backend.name, rc, ', '.join('%s=%s' % (s['name'], s['target']) for s in selected), backend.explain(output),
                    '' if result.get('repair', {}).get('consistent', True) else '; still inconsistent after %s' % result['repair']['command']),
                    **result)
        result['previous_versions'] = {c['name']: c['from'] for c in result['changes']}
        result['changed'] = bool(result['changes'])
        result['reboot_required'], result['reboot_reasons'] = backend.reboot_required()[:2]
    except (AptError, update_selection.SelectionError, RuntimeError) as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()

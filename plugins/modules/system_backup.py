#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: system_backup
short_description: Back up packages and configuration before an OS patch, verify the backup, roll back from it
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - With O(state=present), writes C(<path>/<run_id>/) on the managed host, holding C(selection.json) (every package
    with exact version, architecture, state and hold), the installed package files of O(packages) under C(packages/),
    one C(.tar.gz) per entry of O(paths) (C(/etc) as C(etc.tar.gz)), and C(manifest.json) last, with the SHA-256 and
    size of every other file.
  - A C(.deb) is downloaded from the archive when it still has the installed version, else rebuilt from the installed
    files the way C(dpkg-repack) does it (configuration files as they are on disk). With dnf, C(dnf download) is tried;
    an C(.rpm) that cannot be downloaded is recorded as C(unavailable), it is not rebuilt.
  - The backup is written into a temporary directory in O(path) and renamed into place, so a backup under its final
    name is always complete. Files are 0600, directories 0700.
  - An existing backup of the same O(run_id) that verifies is kept as it is (not changed); one that does not verify
    fails the task rather than being overwritten.
  - After a new backup, the oldest backups beyond O(retention) are removed, as are unfinished ones older than a day.
  - With O(state=verified), checks a backup against its manifest (same files, SHA-256, modes 0600/0700, owned by the
    user running the module) and fails naming the first bad file.
  - With O(state=restored), verifies the backup first (refusing on any mismatch), then installs the saved packages
    whose installed version differs from the saved one in one C(apt-get install --allow-downgrades), configuration
    files kept as they are (dpkg's C(--force-confold)), dependencies resolved by apt. A rollback that would make apt
    remove a package fails instead (C(--no-remove)); the failure still lists in RV(restored) what did change.
  - Archived paths are never restored automatically; docs/backup.md gives the manual command.
extends_documentation_fragment:
  - patchwise.patching.attributes
attributes:
  check_mode:
    support: full
    details: Writes and installs nothing; reports the packages and paths it would save, or the packages it would restore.
  diff_mode:
    support: none
options:
  state:
    description:
      - V(present) makes the backup, V(verified) checks it, V(restored) installs the saved packages back.
    type: str
    choices: [present, verified, restored]
    default: present
  path:
    description: Directory holding the backups, one subdirectory per O(run_id); created 0700 when missing.
    type: path
    default: /var/backups/patchwise
  run_id:
    description:
      - Name of the backup directory, usually the patch run's id (C(patchwise_run_id)).
      - Must not contain C(/) or start with a dot.
    type: str
    required: true
  packages:
    description:
      - With O(state=present), the packages about to change; their currently installed versions are saved.
        Names may carry an architecture (C(libc6:amd64)); a name without one saves every installed architecture.
        Names not installed are returned in RV(not_installed).
      - With O(state=restored), the saved packages to restore; empty restores every package of the backup.
    type: list
    elements: str
    default: []
  paths:
    description: Files or directories archived with owners and modes (O(state=present)); the backup root is left out.
    type: list
    elements: path
    default: [/etc]
  retention:
    description: Number of backups to keep under O(path) after a new one is made; V(0) keeps all. The new one is never removed.
    type: int
    default: 5
  manager:
    description: Package manager; V(auto) uses apt when C(apt-get) exists, else dnf.
    type: str
    choices: [auto, apt, dnf]
    default: auto
  download:
    description:
      - Try the archive first (C(apt-get download), C(dnf download)). V(false) rebuilds every C(.deb) from the installed
        files, for hosts whose package mirror is unreachable.
    type: bool
    default: true
notes:
  - The backup holds C(/etc/shadow) and private keys. It stays root-only on the host; copy it elsewhere only encrypted.
    The module never returns file contents, the manifest lists names and hashes only.
  - On dnf hosts O(state=restored) installs the saved C(.rpm) files with C(dnf downgrade) (dependencies resolved,
    signatures checked); when dnf fails - a repository it cannot reach during an outage - with
    C(rpm -Uvh --oldpackage) in one transaction. Nothing is removed either way; when both fail the task fails with
    both reasons.
seealso:
  - module: patchwise.patching.system_update
"""

EXAMPLES = r"""
- name: Back up the packages about to change and /etc
  patchwise.patching.system_backup:
    run_id: "{{ patchwise_run_id }}"
    packages: [openssl, libssl3]
    retention: 5
  register: backup

- name: Verify the backup
  patchwise.patching.system_backup:
    state: verified
    run_id: "{{ patchwise_run_id }}"

- name: Roll back the packages the patch changed
  patchwise.patching.system_backup:
    state: restored
    run_id: "{{ patchwise_run_id }}"
    packages: [openssl, libssl3]
  register: rollback
"""

RETURN = r"""
backup:
  description: The backup made, found or checked. In check mode with O(state=present) and no backup yet, what would be
    saved (C(file), C(source), C(files), C(bytes), C(created) and C(manifest_sha256) are null).
  type: dict
  returned: always
  contains:
    dir:
      description: The backup directory.
      type: str
      sample: /var/backups/patchwise/20261129T0100-42
    manifest:
      description: Path of C(manifest.json).
      type: str
      sample: /var/backups/patchwise/20261129T0100-42/manifest.json
    manifest_sha256:
      description: SHA-256 of C(manifest.json), for the audit trail.
      type: str
    created:
      description: When the backup was made (UTC, ISO 8601).
      type: str
      sample: "2026-11-29T01:00:00Z"
    packages:
      description: The saved packages.
      type: list
      elements: dict
      sample:
        - {name: openssl, version: 3.0.17-1~deb12u2, arch: amd64, file: packages/openssl_3.0.17-1~deb12u2_amd64.deb,
           source: rebuilt, skipped_files: []}
      contains:
        name:
          description: Package name as the package manager reports it (with C(:arch) for dpkg's Multi-Arch same packages).
          type: str
        version:
          description: Installed version saved.
          type: str
        arch:
          description: Architecture.
          type: str
        file:
          description: Package file relative to the backup directory; null when it could not be saved.
          type: str
        source:
          description: V(downloaded) from the archive, V(rebuilt) from the installed files, or V(unavailable).
          type: str
        skipped_files:
          description: For rebuilt packages, files dpkg lists that were absent on disk (for example excluded documentation).
          type: list
          elements: str
        reason:
          description: For V(unavailable) packages, why the package manager could not download them.
          type: str
    paths:
      description: Archived paths and their archive names.
      type: dict
      sample: {/etc: etc.tar.gz}
    files:
      description: Number of files the manifest lists.
      type: int
    bytes:
      description: Total size of those files.
      type: int
not_installed:
  description: Names in O(packages) that are not installed, so nothing was saved for them.
  type: list
  elements: str
  returned: when O(state=present)
removed:
  description: Backup directories removed by O(retention) (in check mode, that would be removed).
  type: list
  elements: str
  returned: when O(state=present)
restored:
  description: Packages installed back (in check mode, that would be), with the version before and after.
  type: list
  elements: dict
  returned: when O(state=restored)
  sample: [{name: openssl, from: 3.0.18-1~deb12u1, to: 3.0.17-1~deb12u2}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils import package_backup, system_backup
from ansible_collections.patchwise.patching.plugins.module_utils.backup_manifest import BackupError


def main():
    module = AnsibleModule(
        argument_spec={
            'state': {'type': 'str', 'choices': ['present', 'verified', 'restored'], 'default': 'present'},
            'path': {'type': 'path', 'default': '/var/backups/patchwise'},
            'run_id': {'type': 'str', 'required': True},
            'packages': {'type': 'list', 'elements': 'str', 'default': []},
            'paths': {'type': 'list', 'elements': 'path', 'default': ['/etc']},
            'retention': {'type': 'int', 'default': 5},
            'manager': {'type': 'str', 'choices': ['auto', 'apt', 'dnf'], 'default': 'auto'},
            'download': {'type': 'bool', 'default': True},
        },
        supports_check_mode=True,
    )
    p = module.params

    def run(args, env=None, cwd=None):
        return module.run_command(args, environ_update=env or {}, cwd=cwd)

    try:
        if p['state'] == 'verified':
            result = system_backup.verify(p['path'], p['run_id'])
        else:
            backend = package_backup.backend(p['manager'], run, p['download'])
            if p['state'] == 'present':
                result = system_backup.create(p['path'], p['run_id'], backend, packages=p['packages'], paths=p['paths'],
                                              retention=p['retention'], check_mode=module.check_mode)
            else:
                result = system_backup.restore(p['path'], p['run_id'], p['packages'], backend, module.check_mode)
    except (BackupError, OSError) as exc:
        module.fail_json(msg='system_backup (%s) of %s: %s' % (p['state'], p['run_id'], exc), **getattr(exc, 'result', {}))
    module.exit_json(**result)


if __name__ == '__main__':
    main()

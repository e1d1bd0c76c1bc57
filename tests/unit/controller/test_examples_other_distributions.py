# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/examples_other_distributions.yml run by ansible-playbook: the Ubuntu 22.04, AlmaLinux 9 and Alpine 3.20
hosts built from real package lists each get findings from the real advisories, and none shows tier "none"."""

from __future__ import annotations

import os
import re
import subprocess
import sys

COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 6)))
COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def test_each_example_host_gets_findings(tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1', TMPDIR=str(tmp_path),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-local'), ANSIBLE_STDOUT_CALLBACK='default')
    process = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', os.path.join(COLLECTION, 'playbooks', 'files', 'examples', 'inventory.yml'),
                              '-e', 'ansible_python_interpreter=%s' % sys.executable,
                              os.path.join(COLLECTION, 'playbooks', 'examples_other_distributions.yml')],
                             env=env, capture_output=True, text=True, check=False)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    hosts = {host: (tier, int(count)) for host, tier, count in re.findall(r'"msg": "([\w-]+) \([^)]*\): tier (\w+), (\d+) open findings', output)}
    # The open findings of each host are those test_real_ecosystems expects from the same records and package lists.
    assert {host: count for host, (_tier, count) in hosts.items()} == {'ubuntu-2204': 3, 'almalinux-9': 3, 'alpine-320': 1}, output
    assert all(tier != 'none' for tier, _count in hosts.values()), output

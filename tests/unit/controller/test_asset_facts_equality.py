"""asset_facts on the machine running the tests, against ansible.builtin.package_facts.

The machine running the unit tests is a Debian host (make setup needs apt);
systemd is not PID 1 on the build machines, so the service side is proven on
the Molecule testbed, whose hosts run systemd.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.patchwise.patching.tests.unit.controller.dpkg_lock import machine_packages_held

# tests/unit/controller -> the folder holding ansible_collections/
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 6)))


def _run_play(tmp_path, tasks):
    playbook = tmp_path / 'play.yml'
    playbook.write_text('- hosts: localhost\n  gather_facts: false\n  tasks:\n' + tasks, encoding='utf-8')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1')
    command = [sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)]
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]


def test_packages_equal_package_facts(tmp_path):
    out = tmp_path / 'out.json'
    with machine_packages_held():
        _run_play(tmp_path, (
            '    - patchwise.patching.asset_facts: {gather_subset: [packages, updates, restart, listening]}\n'
            '      register: discovered\n'
            '    - ansible.builtin.package_facts: {manager: apt}\n'
            '    - ansible.builtin.copy:\n'
            '        content: "{{ {\'record\': discovered.record, \'facts\': ansible_facts.patchwise,'
            ' \'changed\': discovered.changed, \'packages\': ansible_facts.packages} | to_json }}"\n'
            '        dest: "%s"\n' % out))
    data = json.loads(out.read_text())
    ours = sorted((p['name'], p['version']) for p in data['record']['packages'])
    theirs = sorted((name, entry['version']) for name, entries in data['packages'].items() for entry in entries)
    assert ours == theirs
    assert data['changed'] is False
    record = data['record']
    assert record['schema'] == 1
    assert record['os']['ecosystem'].startswith('Debian:')
    assert record['collected'] == ['listening', 'os', 'packages', 'restart', 'updates']
    assert data['facts']['counts']['packages'] == len(ours)
    # The summary stays small: no package list in the facts.
    assert 'packages' not in data['facts']

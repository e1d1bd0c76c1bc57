"""asset_facts as a facts module: listed in FACTS_MODULES, gather_facts collects it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.patchwise.patching.tests.unit.controller.dpkg_lock import machine_packages_held

# tests/unit/controller -> the folder holding ansible_collections/
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 6)))


def _failure(stdout):
    """The failed task's result without its facts dump (which runs to megabytes and hides the message)."""
    marker = stdout.find('FAILED! => ')
    if marker < 0:
        return stdout[-3000:]
    try:
        result, _end = json.JSONDecoder().raw_decode(stdout, marker + len('FAILED! => '))
    except ValueError:
        return stdout[marker:marker + 3000]
    return json.dumps({key: value for key, value in result.items() if key != 'ansible_facts'}, indent=1)[:6000]


def test_gather_facts_collects_the_summary(tmp_path):
    out = tmp_path / 'facts.json'
    playbook = tmp_path / 'play.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: true\n'
        # Fact modules run in parallel as async jobs; without gather_timeout, ansible-core stops one still running after
        # about 5 seconds ("Timeout exceeded"), too short for discovery on a loaded test machine.
        '  gather_timeout: 300\n'
        '  tasks:\n'
        '    - ansible.builtin.copy: {content: "{{ ansible_facts | to_json }}", dest: "%s"}\n' % out, encoding='utf-8')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1',
               ANSIBLE_FACTS_MODULES='ansible.builtin.setup,patchwise.patching.asset_facts')
    command = [sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)]
    # asset_facts reads dpkg's state, which another test installing a throwaway package leaves half-written while it runs.
    with machine_packages_held():
        process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert process.returncode == 0, _failure(process.stdout) + process.stderr[-2000:]
    facts = json.loads(out.read_text())
    summary = facts['patchwise']
    assert summary['schema'] == 1 and summary['os']['pkg_mgr'] == 'apt'
    assert summary['counts']['packages'] > 100
    assert 'packages' not in summary, 'the full package list stays out of the facts by default'
    assert facts['distribution'] == 'Debian', 'setup ran too'

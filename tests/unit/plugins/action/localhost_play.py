"""Run one task on localhost through ansible-playbook and read back what it registered."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# tests/unit/plugins/action -> the folder holding ansible_collections/
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 7)))


def run_task(tmp_path, task, check=False, play_header=''):
    """Run ``task`` (YAML of one task, indented 4, ending in ``register: outcome``); return (process, outcome or None)."""
    result_file = tmp_path / 'result.json'
    playbook = tmp_path / 'play.yml'
    playbook.write_text(
        '- hosts: localhost\n  gather_facts: false\n%s  tasks:\n%s'
        '    - ansible.builtin.copy: {content: "{{ outcome | to_json }}", dest: "%s"}\n'
        '      check_mode: false\n' % (play_header, task, result_file), encoding='utf-8')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1')
    command = [sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)] + (['--check'] if check else [])
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    outcome = json.loads(result_file.read_text()) if result_file.exists() else None
    if result_file.exists():
        result_file.unlink()
    return process, outcome

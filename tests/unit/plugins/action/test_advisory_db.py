"""The advisory_db action plugin, run through ansible-playbook on localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
KEV_SNAPSHOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'playbooks', 'files', 'feeds', 'cisa_kev_2025-08-25.json')
# tests/unit/plugins/action -> the folder holding ansible_collections/
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 7)))


def _play(tmp_path, check=False, extra=''):
    playbook = tmp_path / 'play.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: false\n'
        '  tasks:\n'
        '    - patchwise.patching.advisory_db:\n'
        '        path: "%s"\n'
        '        feeds:\n'
        '          - {type: debian, src: "%s"}\n'
        '          - {type: kev, src: "%s"%s}\n'
        '      register: built\n'
        '    - ansible.builtin.copy: {content: "{{ built | to_json }}", dest: "%s"}\n'
        '      check_mode: false\n'
        % (tmp_path / 'adv.db', os.path.join(FIXTURES, 'debian-tracker.json'),
           KEV_SNAPSHOT, extra, tmp_path / 'result.json'),
        encoding='utf-8')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1')
    command = [sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)] + (['--check'] if check else [])
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    result = json.loads((tmp_path / 'result.json').read_text()) if (tmp_path / 'result.json').exists() else None
    return process, result


def test_builds_then_reports_no_change(tmp_path):
    process, result = _play(tmp_path, check=True)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True and not (tmp_path / 'adv.db').exists()
    process, result = _play(tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True
    assert {feed['type']: feed['records'] for feed in result['feeds']} == {'debian': 3, 'kev': 1404}
    process, result = _play(tmp_path)
    assert result['changed'] is False


def test_bad_checksum_fails_the_task(tmp_path):
    process, _result = _play(tmp_path, extra=', sha256: "%s"' % ('0' * 64))
    assert process.returncode != 0
    assert 'SHA-256 mismatch' in process.stdout

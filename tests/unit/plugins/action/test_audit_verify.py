# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The audit_verify action run through a real ansible ad-hoc command against a written log."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import Chain, chain_break

COLLECTIONS_ROOT = pathlib.Path(__file__).resolve().parents[7]


def _verify(path, **options):
    """Run audit_verify on ``path`` with ``options`` through ansible-playbook; its registered result."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT))
    playbook = path.parent / 'verify.yml'
    out = path.parent / 'result.json'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'patchwise.patching.audit_verify': dict(options, path=str(path)), 'register': 'verified', 'ignore_errors': True},
        {'ansible.builtin.copy': {'content': '{{ verified | to_json }}', 'dest': str(out)}}]}]))
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_intact_then_edited_log(tmp_path):
    chain = Chain(key='k')
    log = tmp_path / 'audit.jsonl'
    lines = [chain.seal({'event': 'host_result', 'host': 'h%d' % i}).decode() for i in range(4)]
    log.write_text('\n'.join(lines) + '\n')
    result = _verify(log, hmac_key='k', expected_head=chain.head)
    assert not result.get('failed') and result['valid'] and result['records'] == 4
    lines[1] = lines[1].replace('"h1"', '"h9"')
    log.write_text('\n'.join(lines) + '\n')
    result = _verify(log, hmac_key='k')
    assert result['failed'] and result['first_bad_line'] == 2 and 'line 2 was altered' in result['msg']
    result = _verify(log, hmac_key='k', fail_on_invalid=False)
    assert not result.get('failed') and not result['valid'] and result['first_bad_line'] == 2


def test_cut_tail_against_the_chain_head_sent_off_host(tmp_path):
    chain = Chain()
    log = tmp_path / 'audit.jsonl'
    lines = [chain.seal({'event': 'host_result', 'host': 'h%d' % i}).decode() for i in range(5)]
    log.write_text('\n'.join(lines) + '\n')
    # the chain_head event as the webhook received it, passed as a mapping
    head = {'event_id': 'r:head', 'type': 'chain_head', 'run_id': 'r', 'seq': chain.seq, 'hash': chain.head,
            'records': 5}
    result = _verify(log, expected_head=head)
    assert not result.get('failed') and result['valid'] and result['records'] == 5
    log.write_text('\n'.join(lines[:3]) + '\n')  # the last two records cut: the chain itself still verifies
    assert _verify(log)['valid']
    result = _verify(log, expected_head=head)
    assert result['failed'] and not result['valid'] and result['records'] == 3
    assert '2 record(s) were cut from the end' in result['msg']


def test_wrong_key_and_segments_after_a_chain_break(tmp_path):
    chain = Chain(key='k')
    log = tmp_path / 'audit.jsonl'
    lines = [chain.seal({'event': 'host_result', 'host': 'h%d' % i}).decode() for i in range(3)]
    log.write_text('\n'.join(lines) + '\n')
    result = _verify(log, hmac_key='not-k')
    assert result['failed'] and 'wrong or missing key' in result['msg'] and 'not-k' not in json.dumps(result)
    lines[2] = lines[2].replace('"h2"', '"h9"')
    again = Chain(key='k', seq=3)
    lines.append(again.seal(chain_break('line 3 was altered', 3, 'x')).decode())
    lines.append(again.seal({'event': 'host_result', 'host': 'n1'}).decode())
    log.write_text('\n'.join(lines) + '\n')
    whole = _verify(log, hmac_key='k')
    assert whole['failed'] and whole['first_bad_line'] == 3 and whole['breaks'] == [{'line': 4, 'reason': 'line 3 was altered', 'after_line': 3}]
    last = _verify(log, hmac_key='k', since_last_break=True)
    assert not last.get('failed') and last['valid'] and last['records'] == 5 and len(last['breaks']) == 1

"""Cost of the audit callback: a 5-task play over 1,000 local hosts with and without it (issue 8, "Overhead").

Each measured run is one ansible-playbook of a generated playbook of five
trivial controller-side tasks (debug, set_fact, assert, debug, set_fact;
gather_facts false) over a generated INI inventory of 1,000 hosts, all
``ansible_connection=local`` with the venv's Python as
``ansible_python_interpreter``, forks 20.  The figure is the wall time of the
whole ansible-playbook process (start-up is the same in every variant).

Variants, interleaved in every round (the order rotates), BENCH_ROUNDS rounds
(default 2: one run takes 60-110 s on the 2-core build machine, so 2 rounds of
3 variants take 6-11 minutes), medians reported:
- (a) baseline: the default stdout callback only;
- (b) patchwise.patching.audit enabled, writing its file sink to a temp dir with
  its defaults (plain SHA-256 chain, flush per record, no fsync);
- (c) ansible.builtin.junit enabled (JUNIT_OUTPUT_DIR in a temp dir), for comparison.
After the first (b) run the log is checked: one host_result record per host and
task, and the chain verifies (plugin_utils.audit_chain.verify_lines).
Target (issue 8): (b) adds <= 5 % wall time over (a).
BENCH_HOSTS overrides the host count (for a quick check only).
"""

from __future__ import annotations

import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV = ROOT / '.venv'
COLLECTIONS = VENV / 'collections'
OUTPUT = ROOT / 'bench' / 'output' / 'audit.txt'
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_chain import verify_lines  # noqa: E402

TASKS = 5
FORKS = 20
TARGET_PERCENT = 5.0
PLAYBOOK = """\
- name: Five trivial tasks
  hosts: bench
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: "hello {{ inventory_hostname }}"
    - name: Set a fact
      ansible.builtin.set_fact:
        bench_value: "{{ inventory_hostname | length }}"
    - name: Check the fact
      ansible.builtin.assert:
        that: bench_value | int > 0
        quiet: true
    - name: Show the fact
      ansible.builtin.debug:
        var: bench_value
    - name: Set a second fact
      ansible.builtin.set_fact:
        bench_done: true
"""
BASELINE = '(a) default stdout callback only'
AUDIT = '(b) + patchwise.patching.audit'
JUNIT = '(c) + ansible.builtin.junit'


def ansible_env(**extra):
    env = dict(os.environ)
    for name in ('ANSIBLE_CALLBACKS_ENABLED', 'PATCHWISE_AUDIT_LOG', 'PATCHWISE_AUDIT_HMAC_KEY',
                 'PATCHWISE_AUDIT_FSYNC', 'PATCHWISE_RUN_ID', 'JUNIT_OUTPUT_DIR'):
        env.pop(name, None)
    env.update({
        'PATH': '%s%s%s' % (VENV / 'bin', os.pathsep, env.get('PATH', '')),
        'ANSIBLE_COLLECTIONS_PATH': str(COLLECTIONS),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
    })
    env.update(extra)
    return env


def run_playbook(work, inventory, playbook, env):
    """Wall seconds of one ansible-playbook run."""
    args = [str(VENV / 'bin' / 'ansible-playbook'), '-i', str(inventory), '-f', str(FORKS), str(playbook)]
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=str(work), check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit('bench_audit: ansible-playbook failed (rc=%d):\n%s%s' % (
            proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return seconds


def variant_env(name, work, round_index):
    if name == AUDIT:
        log = work / ('audit-%d.jsonl' % round_index)
        return ansible_env(ANSIBLE_CALLBACKS_ENABLED='patchwise.patching.audit', PATCHWISE_AUDIT_LOG=str(log)), log
    if name == JUNIT:
        junit_dir = work / ('junit-%d' % round_index)
        return ansible_env(ANSIBLE_CALLBACKS_ENABLED='ansible.builtin.junit', JUNIT_OUTPUT_DIR=str(junit_dir)), None
    return ansible_env(), None


def check_log(log, hosts):
    """(host_result records, expected, chain verdict) of one audit log."""
    with open(log, encoding='utf-8') as handle:
        lines = handle.readlines()
    host_results = sum(1 for line in lines if line.strip() and json.loads(line).get('event') == 'host_result')
    return host_results, hosts * TASKS, verify_lines(lines)


def main():
    if not (VENV / 'bin' / 'ansible-playbook').exists():
        sys.exit('bench_audit: %s is missing; run make setup first' % (VENV / 'bin' / 'ansible-playbook'))
    rounds = int(os.environ.get('BENCH_ROUNDS', '2'))
    hosts = int(os.environ.get('BENCH_HOSTS', '1000'))
    names = [BASELINE, AUDIT, JUNIT]
    times = {name: [] for name in names}
    checked = None
    with tempfile.TemporaryDirectory(prefix='bench-audit-') as tmp:
        work = pathlib.Path(tmp)
        inventory = work / 'hosts.ini'
        inventory.write_text('[bench]\nhost[0000:%04d]\n\n[bench:vars]\nansible_connection=local\n'
                             'ansible_python_interpreter=%s\n' % (hosts - 1, sys.executable), encoding='utf-8')
        playbook = work / 'five_tasks.yml'
        playbook.write_text(PLAYBOOK, encoding='utf-8')
        for round_index in range(rounds):
            order = names[round_index % len(names):] + names[:round_index % len(names)]
            for name in order:
                env, log = variant_env(name, work, round_index)
                times[name].append(run_playbook(work, inventory, playbook, env))
                if log is not None:
                    if checked is None:
                        checked = check_log(log, hosts)
                    log.unlink()

    median = {name: statistics.median(values) for name, values in times.items()}
    baseline = median[BASELINE]
    host_results, expected, verdict = checked
    lines = [
        'Five trivial tasks (debug, set_fact, assert) over %d local hosts, forks %d: ansible-playbook wall time, '
        'median of %d interleaved rounds' % (hosts, FORKS, rounds),
        'target: audit callback adds <= %.0f %% wall time over the baseline (issue 8)' % TARGET_PERCENT,
        '',
        '%-36s %8s %9s   %s' % ('variant', 'wall s', 'added', 'runs s'),
    ]
    for name in names:
        added = '-' if name == BASELINE else '%+.1f %%' % ((median[name] / baseline - 1) * 100)
        lines.append('%-36s %8.2f %9s   %s' % (name, median[name], added, ' '.join('%.1f' % t for t in times[name])))
    audit_added = (median[AUDIT] / baseline - 1) * 100
    lines += [
        '',
        'audit log of one (b) run: %d host_result records (expected %d hosts x %d tasks = %d): %s' % (
            host_results, hosts, TASKS, expected, 'ok' if host_results == expected else 'MISMATCH'),
        'chain verification: %s, %d records, head %s%s' % (
            'valid' if verdict['valid'] else 'INVALID', verdict['records'], verdict['head'][:16],
            '' if verdict['valid'] else ' (%s)' % verdict['reason']),
        'target %s: audit adds %+.1f %% (target <= %.0f %%); junit adds %+.1f %% for comparison' % (
            'met' if audit_added <= TARGET_PERCENT else 'missed', audit_added, TARGET_PERCENT,
            (median[JUNIT] / baseline - 1) * 100),
    ]
    text = '\n'.join(lines)
    print(text)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text + '\n', encoding='utf-8')
    if host_results != expected or not verdict['valid']:
        sys.exit('bench_audit: the audit log of the (b) run is incomplete or does not verify')


if __name__ == '__main__':
    main()

"""Per-task cost of the facts discovery leaves behind: a 5-task play over 200 local hosts (issue 4).

Large host facts make every later task slower, because Ansible assembles each
host's variables (facts included) for every task (ansible/ansible issue 73654).
asset_facts therefore puts only a summary in ``ansible_facts.patchwise`` by
default.  This benchmark measures what that summary costs.

Setup, once per run of this script:
- bench/playbooks/discover_facts.yml runs patchwise.patching.asset_facts on
  localhost twice and writes the facts it sets as JSON: the default summary
  (facts_detail=summary) and the full record (facts_detail=full);
- a generated inventory of 200 hosts, all ``ansible_connection=local`` with the
  venv's Python as ``ansible_python_interpreter``.

Each measured run is one ansible-playbook of bench/playbooks/fact_overhead.yml
(forks 5, gather_facts false).  Its first play gives every host the facts of one
variant through the bench_host_facts action (bench/playbooks/action_plugins),
which returns them under ``ansible_facts``, so Ansible stores them exactly as it
stores a facts module's result; its second play runs five trivial tasks
(debug, set_fact, assert, debug, set_fact).  Only the second play is timed:
the bench_play_timer callback (bench/playbooks/callback_plugins) records the
controller's clock when each play starts and when the run ends, so neither
ansible-playbook's start-up nor the loading play is in the figure.

Variants, interleaved in every round (the order rotates), BENCH_ROUNDS rounds
(default 3), medians reported:
- (a) before discovery: hosts carry no patchwise facts (the loading play loads {});
- (b) after discovery as this collection does it: every host carries the summary;
- (c) the naive way, for comparison: every host carries the full record.
Target (issue 4): (b) / (a) <= 1.2.
"""

from __future__ import annotations

import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV = ROOT / '.venv'
PLAYBOOKS = ROOT / 'bench' / 'playbooks'
OUTPUT = ROOT / 'bench' / 'output' / 'fact_overhead.txt'
HOSTS = 200
TASKS = 5
FORKS = 5
TARGET = 1.2
VARIANTS = {
    '(a) no patchwise facts': 'none.json',
    '(b) summary (asset_facts default)': 'summary.json',
    '(c) full record (facts_detail=full)': 'full.json',
}
TIMED_PLAY = 'Five trivial tasks (timed)'


def ansible_env(**extra):
    env = dict(os.environ)
    env.update({
        'PATH': '%s%s%s' % (VENV / 'bin', os.pathsep, env.get('PATH', '')),
        'ANSIBLE_COLLECTIONS_PATH': str(VENV / 'collections'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
    })
    env.update(extra)
    return env


def ansible_playbook(args, env):
    proc = subprocess.run([str(VENV / 'bin' / 'ansible-playbook'), *args], capture_output=True, text=True,
                          env=env, cwd=str(PLAYBOOKS), check=False)
    if proc.returncode != 0:
        sys.exit('bench_fact_overhead: ansible-playbook %s failed (rc=%d):\n%s%s' % (
            ' '.join(args), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))


def discover(work):
    """Write none.json, summary.json and full.json: the facts asset_facts sets on this machine."""
    ansible_playbook(['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
                      '-e', 'bench_facts_dir=%s' % work, str(PLAYBOOKS / 'discover_facts.yml')], ansible_env())
    (work / 'none.json').write_text('{}', encoding='utf-8')


def write_inventory(work):
    path = work / 'hosts.ini'
    path.write_text('[bench]\nhost[000:%03d]\n\n[bench:vars]\nansible_connection=local\nansible_python_interpreter=%s\n' % (
        HOSTS - 1, sys.executable), encoding='utf-8')
    return path


def timed_play(work, inventory, facts_file):
    """Seconds the five-task play took, with every host carrying the facts in facts_file."""
    times_file = work / 'play_times.json'
    env = ansible_env(ANSIBLE_CALLBACKS_ENABLED='bench_play_timer', BENCH_PLAY_TIMES=str(times_file))
    ansible_playbook(['-i', str(inventory), '-f', str(FORKS), '-e', 'bench_facts_file=%s' % (work / facts_file),
                      str(PLAYBOOKS / 'fact_overhead.yml')], env)
    plays = json.loads(times_file.read_text(encoding='utf-8'))
    times_file.unlink()
    return next(play['seconds'] for play in plays if play['play'] == TIMED_PLAY)


def main():
    if not (VENV / 'bin' / 'ansible-playbook').exists():
        sys.exit('bench_fact_overhead: %s is missing; run make setup first' % (VENV / 'bin' / 'ansible-playbook'))
    rounds = int(os.environ.get('BENCH_ROUNDS', '3'))
    with tempfile.TemporaryDirectory(prefix='bench-fact-overhead-') as tmp:
        work = pathlib.Path(tmp)
        discover(work)
        inventory = write_inventory(work)
        sizes = {name: (work / facts_file).stat().st_size for name, facts_file in VARIANTS.items()}
        full = json.loads((work / 'full.json').read_text(encoding='utf-8'))['patchwise']
        names = list(VARIANTS)
        times = {name: [] for name in names}
        for round_index in range(rounds):
            order = names[round_index % len(names):] + names[:round_index % len(names)]
            for name in order:
                times[name].append(timed_play(work, inventory, VARIANTS[name]))

    median = {name: statistics.median(values) for name, values in times.items()}
    baseline = median[names[0]]
    host_tasks = HOSTS * TASKS
    lines = [
        'Five trivial tasks (debug, set_fact, assert) over %d local hosts, forks %d: the timed play\'s wall time, '
        'median of %d interleaved rounds' % (HOSTS, FORKS, rounds),
        'facts from asset_facts on this machine: %d packages, %d pending updates, %d listening sockets in the full record' % (
            len(full['packages']), len(full['updates']), len(full['listening'])),
        'target: (b) / (a) <= %.1f (issue 4)' % TARGET,
        '',
        '%-38s %10s %8s %7s %22s' % ('variant', 'fact JSON', 'play s', 'ratio', 'ms per host-task added'),
    ]
    for name in names:
        added = (median[name] - baseline) / host_tasks * 1000
        lines.append('%-38s %8.1f K %8.2f %7.2f %22s' % (
            name, sizes[name] / 1024, median[name], median[name] / baseline, '-' if name == names[0] else '%.2f' % added))
    ratio = median[names[1]] / baseline
    lines.append('')
    lines.append('target %s: summary / baseline = %.2f' % ('met' if ratio <= TARGET else 'missed', ratio))
    text = '\n'.join(lines)
    print(text)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text + '\n', encoding='utf-8')


if __name__ == '__main__':
    main()

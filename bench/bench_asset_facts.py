"""Discovery speed: one asset_facts run against package_facts + service_facts in one play (issue 4).

Three playbooks from bench/playbooks/ run on localhost with the local connection,
gather_facts false, each as its own ansible-playbook process of the dev venv:
- startup.yml: one debug task, i.e. ansible-playbook's start-up (the baseline subtracted);
- asset_facts.yml: patchwise.patching.asset_facts with its default options (it
  collects more: packages with source packages, services, listening sockets,
  pending updates through ``apt-get -s dist-upgrade``, restart needs);
- package_service_facts.yml: ansible.builtin.package_facts (apt manager) and
  ansible.builtin.service_facts.
The three are interleaved in every round (the order rotates), after one untimed
warm-up round; BENCH_ROUNDS rounds (default 7), medians reported, in total and
minus the start-up play.  ``apt-get -s dist-upgrade`` is timed alone in each
round too, as it is asset_facts' longest step.

The managed side runs under /usr/bin/python3 (the machine's Python with
python3-apt, as on a Debian host): under the venv's Python, package_facts would
first respawn itself under the system Python to import apt.
Target (issue 4): asset_facts takes no longer than package_facts + service_facts together.
"""

from __future__ import annotations

import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV = ROOT / '.venv'
PLAYBOOKS = ROOT / 'bench' / 'playbooks'
OUTPUT = ROOT / 'bench' / 'output' / 'asset_facts.txt'
HOST_PYTHON = '/usr/bin/python3'
VARIANTS = {
    'startup': 'startup.yml',
    'asset_facts': 'asset_facts.yml',
    'package_facts + service_facts': 'package_service_facts.yml',
}
APT_SIMULATION = ['apt-get', '-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade']


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


def run_playbook(playbook, env=None):
    """Run one playbook on localhost; return (seconds, stdout).  Exits on failure."""
    args = [str(VENV / 'bin' / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
            '-e', 'ansible_python_interpreter=%s' % HOST_PYTHON, str(PLAYBOOKS / playbook)]
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env or ansible_env(), cwd=str(PLAYBOOKS), check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit('bench_asset_facts: %s failed (rc=%d):\n%s%s' % (playbook, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed, proc.stdout


def time_apt_simulation():
    start = time.perf_counter()
    proc = subprocess.run(APT_SIMULATION, capture_output=True, text=True, env=dict(os.environ, LC_ALL='C'), check=False)
    if proc.returncode != 0:
        sys.exit('bench_asset_facts: %s failed: %s' % (' '.join(APT_SIMULATION), proc.stderr.strip()))
    return time.perf_counter() - start


def collected_counts():
    """What asset_facts collects here (one untimed run, JSON output): its summary fact."""
    _elapsed, out = run_playbook('asset_facts.yml', ansible_env(ANSIBLE_STDOUT_CALLBACK='ansible.posix.json'))
    result = json.loads(out)['plays'][0]['tasks'][0]['hosts']['localhost']
    return result['ansible_facts']['patchwise']


def init_system():
    try:
        with open('/proc/1/comm', encoding='utf-8') as handle:
            pid1 = handle.read().strip()
    except OSError:
        pid1 = 'unknown'
    if pid1 == 'systemd':
        return 'systemd is PID 1: service listings are real'
    return ('PID 1 is %r, not systemd: no systemctl queries run (asset_facts lists no services, '
            'service_facts lists SysV init scripts via `service --status-all`), so the services part is '
            'cheaper here than on a systemd host' % pid1)


def main():
    if not (VENV / 'bin' / 'ansible-playbook').exists():
        sys.exit('bench_asset_facts: %s is missing; run make setup first' % (VENV / 'bin' / 'ansible-playbook'))
    if not os.path.exists(HOST_PYTHON):
        sys.exit('bench_asset_facts: %s is missing (the managed-side Python with python3-apt)' % HOST_PYTHON)
    rounds = int(os.environ.get('BENCH_ROUNDS', '7'))
    facts = collected_counts()
    names = list(VARIANTS)
    for name in names:  # warm-up: page cache, .pyc files
        run_playbook(VARIANTS[name])
    times = {name: [] for name in names}
    apt_times = []
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            times[name].append(run_playbook(VARIANTS[name])[0])
        apt_times.append(time_apt_simulation())

    total = {name: statistics.median(values) for name, values in times.items()}
    startup = total['startup']
    ours, theirs = total['asset_facts'], total['package_facts + service_facts']
    counts = facts['counts']
    lines = [
        'Discovery on localhost (local connection, managed side %s), seconds, median of %d interleaved rounds' % (HOST_PYTHON, rounds),
        'host: %s %s, %d packages, %d pending updates (%d security), %d services, %d listening sockets' % (
            facts['os']['distribution'], facts['os']['version'], counts['packages'], counts['updates'],
            counts['security_updates'], counts['services'], counts['listening']),
        'note: %s' % init_system(),
        'target: asset_facts <= package_facts + service_facts (issue 4)',
        '',
        '%-32s %8s %15s' % ('play', 'total', 'minus start-up'),
        '%-32s %8.2f %15s' % ('start-up (one debug task)', startup, '-'),
    ]
    for name in names[1:]:
        lines.append('%-32s %8.2f %15.2f' % (name, total[name], total[name] - startup))
    ratio_total = ours / theirs
    ratio_tasks = (ours - startup) / (theirs - startup)
    lines.append('%-32s %8.2f %15.2f' % ('ratio asset_facts / builtins', ratio_total, ratio_tasks))
    lines.append('')
    lines.append('apt-get -s dist-upgrade alone (asset_facts\' pending-updates step): %.2f s' % statistics.median(apt_times))
    verdict = 'met' if ratio_tasks <= 1.0 else 'missed by %.0f %% (task time)' % ((ratio_tasks - 1) * 100)
    lines.append('target %s' % verdict)
    text = '\n'.join(lines)
    print(text)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text + '\n', encoding='utf-8')


if __name__ == '__main__':
    main()

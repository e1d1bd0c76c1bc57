"""Risk assessment over 1,000 hosts (issue 5 targets).

Data: the SYNTHETIC advisory feed of bench_advisory_db (300,000 affected entries for
~30,000 Debian:12 packages; generated, not real advisories) and 1,000 generated
asset records of 2,000 packages each, 90 % of package versions identical across
hosts, stored through the asset store.  A register gives every host an exposure and
a criticality.

Figures, each beside its baseline or target:
- the classification pass itself (risk_pass.assess_fleet: classify, store results,
  findings and plans) for the 1,000 hosts on three fleets: hosts lagging several security
  updates (~1,000 open findings each), hosts that keep up (1.5 % of packages one
  update behind), and hosts cloned from 20 images lagging as the first, 50 alike per image
  and in one register class (the first of each is classified and planned, the others take
  copies: what a fleet of autoscaling groups gives).  For each: the first pass (target < 5 s), the next pass with nothing
  changed (target < 1 s) and a pass after 10 % of the hosts changed a package (target
  < 2 s), the last two beside the baseline of a forced pass that assesses every host.  A
  package is changed at random: most have no advisory, so most changed hosts are matched again
  and kept (the line says how many); the others are classified again;
- the assess playbook (role patchwise.patching.risk_assessment) over the 1,000 hosts
  (local connection, no SSH) of each fleet against a play with the same number of tasks
  per host (the role's tasks plus the argument validation), each an
  ansible.builtin.debug, interleaved in every round; target at most 1.1 x the baseline.
  The fleets were assessed by the passes before and nothing changed since, so the role's
  pass skips every host; on the worst case it runs once more with risk_assessment_force,
  every host assessed again (as after new advisory data).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time

import yaml

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
sys.path.insert(0, COLLECTIONS)
sys.path.insert(0, BENCH)
OUTPUT = os.path.join(ROOT, 'bench', 'output', 'risk.txt')
HOSTS = int(os.environ.get('BENCH_HOSTS', '1000'))
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
FORKS = 20

from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskEngine  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_pass import assess_fleet  # noqa: E402
from bench_advisory_db import _installed_version, _upstream, make_feed, median  # noqa: E402
from figures import write_figures  # noqa: E402

ROLE_TASKS = os.path.join(ROOT, 'roles', 'risk_assessment', 'tasks', 'main.yml')


def _record(name, packages):
    return {
        'schema': 1, 'collected_at': '2026-11-28T10:00:00Z',
        'host': {'hostname': name, 'fqdn': name + '.example.org', 'machine_id': name.ljust(32, '0')},
        'os': {'family': 'debian', 'distribution': 'debian', 'version': '12', 'codename': 'bookworm', 'arch': 'amd64',
               'pkg_mgr': 'apt', 'ecosystem': 'Debian:12'},
        'kernel': {'running': '6.1.0-25-amd64', 'latest_installed': '6.1.0-25-amd64'},
        'packages': [{'name': pkg, 'version': version, 'arch': 'amd64', 'source_name': pkg, 'source_version': version}
                     for pkg, version in packages],
        'service_manager': 'systemd', 'services': [], 'listening': [], 'applications': [], 'updates': [],
        'restart': {'reboot_required': False, 'reasons': [], 'services': [], 'processes': []},
        'collected': ['os', 'packages'],
    }


def _current_version(name, rng):
    # A host that applies security updates: newer than every synthetic fix (+deb12u20), sometimes one behind.
    return '%s+deb12u%d' % (_upstream(name), 21 if rng.random() < 0.985 else 16)


def make_fleet(work, names, rng, installed=_installed_version, label='assets', *, count=HOSTS):
    base = [(name, installed(name, rng)) for name in rng.sample(names, 2000)]
    hosts = ['host%04d' % index for index in range(count)]
    path = os.path.join(work, label + '.db')
    with AssetStore(path) as store:
        # A hundred hosts at a time, as discovery stores them: BENCH_HOSTS=10000 fits in memory.
        for start in range(0, len(hosts), 100):
            store.store_records({host: _record(host, [(name, version if rng.random() < 0.9 else installed(name, rng))
                                                      for name, version in base]) for host in hosts[start:start + 100]})
        store.replace_register({host: {'exposure': rng.choice(['internet', 'internal', 'isolated']),
                                       'criticality': rng.choice(['low', 'medium', 'high', 'very_high'])} for host in hosts}, 'bench')
    return path, hosts


def make_image_fleet(work, names, rng, *, images=20, count=HOSTS):
    """Hosts cloned from ``images`` images lagging several updates, each image's hosts alike (the same packages at the same
    versions) and in one register class, as the web or database servers of an autoscaling group."""
    base = [(name, _installed_version(name, rng)) for name in rng.sample(names, 2000)]
    made = [[(name, version if rng.random() < 0.9 else _installed_version(name, rng)) for name, version in base] for _image in range(images)]
    classes = [{'exposure': rng.choice(['internet', 'internal', 'isolated']), 'criticality': rng.choice(['low', 'medium', 'high', 'very_high'])}
               for _image in range(images)]
    hosts = ['host%04d' % index for index in range(count)]
    path = os.path.join(work, 'images.db')
    with AssetStore(path) as store:
        for start in range(0, len(hosts), 100):
            store.store_records({host: _record(host, made[index % images]) for index, host in enumerate(hosts[start:start + 100], start)})
        store.replace_register({host: dict(classes[index % images]) for index, host in enumerate(hosts)}, 'bench')
    return path, hosts


def _timed_pass(path, advisory_path, policy, hosts, force=False):
    advisories = AdvisoryDB(advisory_path)
    try:
        with AssetStore(path) as store:
            register = store.register()
            start = time.perf_counter()
            summary = assess_fleet(store, advisories, policy, register, hosts, run_id='bench', force=force)
            return time.perf_counter() - start, summary
    finally:
        advisories.close()


def _apart_pass(path, advisory_path, policy, hosts):
    """A forced pass with every host matched, classified and planned on its own, as before hosts alike shared them."""
    shares, reads = RiskEngine.result_is_own, AssetStore.matching_inputs
    RiskEngine.result_is_own = lambda engine, host: True
    # Each host's view parsed apart: no two hosts have the same view object, so none shares another's match.
    AssetStore.matching_inputs = lambda store, hosts, parsed=None: reads(store, hosts)
    try:
        return _timed_pass(path, advisory_path, policy, hosts, force=True)[0]
    finally:
        RiskEngine.result_is_own, AssetStore.matching_inputs = shares, reads


def _passes(path, advisory_path, policy, hosts, *, rng, what, alike=False):
    """First pass, a pass with nothing changed, one after 10 % of hosts changed, each beside a forced full pass (and, for
    a fleet of hosts ``alike``, the forced pass beside one with every host classified on its own)."""
    first, summary = _timed_pass(path, advisory_path, policy, hosts)
    findings = summary['open_findings']
    lines = ['classification pass, %d %s, 2,000 packages each, %d open findings (%.0f per host): first pass %.2f s (target < 5 s)'
             % (len(hosts), what, findings, findings / len(hosts), first)]
    unchanged, summary = _timed_pass(path, advisory_path, policy, hosts)
    forced, _summary = _timed_pass(path, advisory_path, policy, hosts, force=True)
    lines.append('  next pass, nothing changed: %.2f s, %d hosts skipped (target < 1 s); baseline, every host assessed again (force): %.2f s'
                 % (unchanged, summary['unchanged'], forced))
    if alike:
        lines.append('  every host assessed again (force): %.2f s; baseline, the same with every host matched, classified and planned on its own: %.2f s'
                     % (forced, _apart_pass(path, advisory_path, policy, hosts)))
    changed = rng.sample(hosts, len(hosts) // 10)
    with AssetStore(path) as store:
        records = {}
        for host in changed:
            record = records[host] = store.record(host)
            package = record['packages'][rng.randrange(len(record['packages']))]
            package['version'] = package['source_version'] = _installed_version(package['name'], rng) + '+bench1'
            record['collected_at'] = '2026-11-29T10:00:00Z'
        store.store_records(records)
    partial, summary = _timed_pass(path, advisory_path, policy, hosts)
    lines.append('  pass after %d hosts (10 %%) changed a package: %.2f s, %d hosts skipped, %d of them after matching their changed record '
                 'again (target < 2 s); baseline (force) %.2f s' % (len(changed), partial, summary['unchanged'], summary['unaffected'], forced))
    return lines


def run_playbook(playbook, inventory, extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1', ANSIBLE_FORKS=str(FORKS),
               ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_RETRY_FILES_ENABLED='0')
    command = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', inventory, playbook, '-e', json.dumps(extra)]
    start = time.perf_counter()
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit('%s failed:\n%s' % (playbook, process.stdout[-3000:]))
    return elapsed


def main():
    rng = random.Random(2026)
    lines = []
    with tempfile.TemporaryDirectory() as work:
        feed = os.path.join(work, 'synthetic-osv.zip')
        names, _weights = make_feed(feed, rng)
        advisory_path = os.path.join(work, 'advisories.db')
        build(advisory_path, [{'type': 'osv', 'src': feed}])
        asset_path, hosts = make_fleet(work, names, rng)

        policy = load_policy()
        patched_path, _hosts = make_fleet(work, names, rng, installed=_current_version, label='patched')
        images_path, _hosts = make_image_fleet(work, names, rng)
        for path, what in ((asset_path, 'hosts lagging several security updates (synthetic worst case)'),
                           (patched_path, 'hosts keeping up with security updates'),
                           (images_path, 'hosts cloned from 20 images lagging several updates, 50 alike per image')):
            lines.extend(_passes(path, advisory_path, policy, hosts, rng=rng, what=what, alike=path == images_path))

        if os.environ.get('BENCH_PASS_ONLY'):
            lines.append('assess playbook: not run (BENCH_PASS_ONLY is set)')
        else:
            # The fleets are assessed already (the passes above) and nothing changed since: the role's pass skips every
            # host, as a scheduled run finds most days.  The forced run assesses every host again, as after new advisory data.
            _playbooks(work, hosts, advisory_path, lines, [('hosts keeping up, nothing changed', patched_path, {}),
                                                           ('worst case, nothing changed', asset_path, {}),
                                                           ('worst case, every host assessed again', asset_path, {'risk_assessment_force': True})])
    write_figures(OUTPUT, lines)


def role_tasks_per_host():
    """The role's tasks as each host sees them: its own tasks plus the argument validation ansible adds."""
    with open(ROLE_TASKS, encoding='utf-8') as handle:
        return len(yaml.safe_load(handle)) + 1


def _playbooks(work, hosts, advisory_path, lines, fleets):
    """The assess playbook on each fleet against a baseline play with the same number of tasks per host, interleaved."""
    inventory = os.path.join(work, 'hosts.ini')
    with open(inventory, 'w', encoding='utf-8') as handle:
        handle.write('[fleet]\n' + '\n'.join(hosts) + '\n\n[fleet:vars]\nansible_connection=local\n'
                     'ansible_python_interpreter=%s\n' % sys.executable)
    assess = os.path.join(work, 'assess.yml')
    with open(assess, 'w', encoding='utf-8') as handle:
        handle.write('- hosts: fleet\n  gather_facts: false\n  roles:\n    - role: patchwise.patching.risk_assessment\n')
    tasks = role_tasks_per_host()
    baseline = os.path.join(work, 'baseline.yml')
    with open(baseline, 'w', encoding='utf-8') as handle:
        handle.write('- hosts: fleet\n  gather_facts: false\n  tasks:\n' + ''.join(
            '    - name: Task %d\n      ansible.builtin.debug:\n        msg: task %d\n' % (n, n) for n in range(tasks)))
    theirs, ours = [], {label: [] for label, _path, _extra in fleets}
    for _round in range(ROUNDS):
        theirs.append(run_playbook(baseline, inventory, {}))
        for label, asset_path, extra in fleets:
            ours[label].append(run_playbook(assess, inventory, dict(extra, patchwise_asset_db=asset_path, patchwise_advisory_db=advisory_path)))
    for label, _path, _extra in fleets:
        ratio = median(ours[label]) / median(theirs)
        lines.append('assess playbook over %d hosts (%s, forks %d): %.1f s; baseline %d debug tasks per host: %.1f s; '
                     'ratio %.2f (target <= 1.1), median of %d interleaved rounds'
                     % (len(hosts), label, FORKS, median(ours[label]), tasks, median(theirs), ratio, ROUNDS))


if __name__ == '__main__':
    main()

"""Inventory plugin ``patchwise.patching.assets``: ``ansible-inventory --list`` over 10,000 hosts (issue 4, section 3).

The asset database is SYNTHETIC (generated here through the collection's store
API, clearly not real hosts): asset_facts-shaped records for Debian 11/12/13
hosts with a few pending (some security) updates, reboot needs and
applications on some of them, most collected in the last ten days and some
older than the plugin's 14-day staleness limit, and risk results for most.

The plugin builds the inventory once; its ``--list`` output is then written
out as a static YAML inventory (builtin ``yaml`` plugin) and as an INI
inventory (builtin ``ini`` plugin, host variables inline as Python literals)
holding the same hosts, variables and groups, and the three ``--list``
outputs are checked to be equal.  Each variant runs in its own
``ansible-inventory --list`` process with only its own inventory plugin
enabled (so the YAML file is not also parsed by ``auto`` first); variants are
interleaved, rounds rotate their order, figures are medians.  Peak memory is
the process's maximum resident set size, from ``os.wait4``.

Target (issue 4): the plugin no slower than the INI inventory, with peak memory no higher than INI's
(measured when the issue was filed: YAML ~37 s and ~760 MiB, INI ~8 s and ~190 MiB).

Environment: BENCH_HOSTS (default 10000), BENCH_ROUNDS (default 3).
"""

from __future__ import annotations

import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import ansible.release
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
sys.path.insert(0, COLLECTIONS)
OUTPUT = os.path.join(ROOT, 'bench', 'output', 'inventory.txt')

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore  # noqa: E402
from bench_advisory_db import median  # noqa: E402

HOSTS = int(os.environ.get('BENCH_HOSTS', '10000'))
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))

RELEASES = [  # (version, codename, running kernel, weight)
    ('11', 'bullseye', '5.10.0-32-amd64', 2),
    ('12', 'bookworm', '6.1.0-27-amd64', 6),
    ('13', 'trixie', '6.12.22-amd64', 2),
]
BASE_PACKAGES = ['base-files', 'bash', 'coreutils', 'dpkg', 'apt', 'libc6', 'openssl', 'libssl3', 'openssh-server',
                 'systemd', 'curl', 'libcurl4', 'zlib1g', 'tzdata', 'ca-certificates', 'sudo', 'cron', 'rsyslog',
                 'python3', 'vim-tiny', 'less', 'gzip', 'tar', 'procps', 'iproute2', 'util-linux', 'libgnutls30',
                 'libsystemd0', 'perl-base', 'nginx']
APPLICATIONS = [('django', 'PyPI', '4.2.16'), ('flask', 'PyPI', '3.0.3'), ('requests', 'PyPI', '2.32.3'),
                ('express', 'npm', '4.21.1'), ('lodash', 'npm', '4.17.21'), ('grafana', 'declared', '11.3.0'),
                ('gitea', 'declared', '1.22.3'), ('keycloak', 'declared', '26.0.5')]
TIERS = ['critical', 'high', 'medium', 'low', 'none']
ENABLED = {'assets': 'patchwise.patching.assets', 'yaml': 'yaml', 'ini': 'ini'}


def _stamp(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def make_record(name, rng, now):
    """One asset_facts-shaped record (tests/unit/plugins/plugin_utils/asset_records.py has the same shape)."""
    version, codename, kernel, _weight = rng.choices(RELEASES, weights=[r[3] for r in RELEASES])[0]
    # Away from the 14-day limit on either side, so no host turns stale while the benchmark runs.
    age = datetime.timedelta(days=rng.uniform(20, 90)) if rng.random() < 0.1 else datetime.timedelta(days=rng.uniform(0, 10))
    suffix = '+deb%su%d' % (version, rng.randint(1, 9))
    packages = [{'name': pkg, 'version': '1.%d%s' % (i, suffix), 'arch': 'amd64', 'source_name': pkg, 'source_version': '1.%d%s' % (i, suffix)}
                for i, pkg in enumerate(BASE_PACKAGES)]
    updates = []
    if rng.random() < 0.6:
        for pkg in rng.sample(BASE_PACKAGES, rng.randint(1, 5)):
            security = rng.random() < 0.4
            updates.append({'name': pkg, 'current': '1.0%s' % suffix, 'available': '1.1%s' % suffix, 'security': security,
                            'origin': 'Debian-Security:%s-security' % codename if security else 'Debian:%s' % codename})
    reboot = rng.random() < 0.3
    applications = [{'name': app, 'version': app_version, 'ecosystem': ecosystem, 'path': '/srv/%s' % app, 'source': 'bench'}
                    for app, ecosystem, app_version in rng.sample(APPLICATIONS, rng.choice([0, 1, 2, 2, 3, 3]))]
    return {
        'schema': 1,
        'collected_at': _stamp(now - age),
        'host': {'hostname': name.split('.')[0], 'fqdn': name, 'machine_id': '%032x' % rng.getrandbits(128)},
        'os': {'family': 'debian', 'distribution': 'debian', 'version': version, 'codename': codename, 'arch': 'amd64',
               'pkg_mgr': 'apt', 'ecosystem': 'Debian:%s' % version},
        'kernel': {'running': kernel, 'latest_installed': kernel},
        'packages': packages,
        'service_manager': 'systemd',
        'services': [{'name': 'ssh.service', 'state': 'running', 'enabled': 'enabled'},
                     {'name': 'cron.service', 'state': 'running', 'enabled': 'enabled'}],
        'listening': [{'proto': 'tcp', 'address': '127.0.0.1', 'port': 25, 'process': 'exim4'}],
        'applications': applications,
        'updates': updates,
        'restart': {'reboot_required': reboot, 'reasons': ['/var/run/reboot-required'] if reboot else [], 'services': [], 'processes': []},
        'collected': ['applications', 'listening', 'os', 'packages', 'restart', 'services', 'updates'],
    }


def make_database(path, rng):
    now = datetime.datetime.now(datetime.timezone.utc)
    names = ['node%05d.bench.example' % i for i in range(HOSTS)]
    records = {name: make_record(name, rng, now) for name in names}
    risk = {name: {'tier': rng.choice(TIERS), 'due': (now + datetime.timedelta(days=rng.randint(3, 90))).strftime('%Y-%m-%d'), 'findings': []}
            for name in names if rng.random() < 0.9}
    with AssetStore(path) as store:
        store.store_records(records)
        store.store_risk_results(risk)


def normalise(value):
    """``--list`` output with 2.19's unsafe-string markers removed."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def memberships(listing):
    """``{group: (sorted hosts, sorted children)}`` for every non-empty group of a ``--list`` output."""
    groups = {}
    for name, body in listing.items():
        if name == '_meta':
            continue
        hosts, children = sorted(body.get('hosts', [])), sorted(body.get('children', []))
        if hosts or children:
            groups[name] = (hosts, children)
    return groups


def host_groups(listing):
    found = {}
    for group, (hosts, _children) in memberships(listing).items():
        for host in hosts:
            found.setdefault(host, []).append(group)
    return found


def write_yaml(path, hostvars, groups):
    tree = {'all': {'hosts': hostvars, 'children': {group: {'hosts': {host: None for host in hosts}} for group, hosts in groups.items()}}}
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.dump(tree, handle, Dumper=getattr(yaml, 'CSafeDumper', yaml.SafeDumper), default_flow_style=False, sort_keys=True)


def _ini_value(key, value):
    literal = repr(value)
    if '"' in literal or '\\' in literal:
        raise ValueError('%s=%s does not fit an INI host line' % (key, literal))
    return '%s="%s"' % (key, literal)


def write_ini(path, hostvars, groups):
    with open(path, 'w', encoding='utf-8') as handle:
        for host, host_vars in hostvars.items():
            handle.write(' '.join([host] + [_ini_value(key, value) for key, value in sorted(host_vars.items())]) + '\n')
        for group, hosts in groups.items():
            handle.write('\n[%s]\n' % group)
            handle.write(''.join(host + '\n' for host in hosts))


def run_inventory(variant, source, out_path, work):
    """One ``ansible-inventory --list`` run: (seconds, peak RSS in MiB)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_INVENTORY_ENABLED=ENABLED[variant],
               ANSIBLE_CONFIG=os.path.join(work, 'ansible.cfg'), ANSIBLE_HOME=os.path.join(work, 'ansible-home'),
               PATH=VENV_BIN + os.pathsep + os.environ.get('PATH', ''))
    with open(out_path, 'w', encoding='utf-8') as out, open(out_path + '.err', 'w', encoding='utf-8') as err:
        start = time.perf_counter()
        proc = subprocess.Popen([os.path.join(VENV_BIN, 'ansible-inventory'), '-i', source, '--list'], stdout=out, stderr=err, cwd=work, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        with open(out_path + '.err', encoding='utf-8') as handle:
            raise RuntimeError('%s inventory failed (%d): %s' % (variant, proc.returncode, handle.read()[-2000:]))
    return seconds, usage.ru_maxrss / 1024


def load_listing(path):
    with open(path, encoding='utf-8') as handle:
        return normalise(json.load(handle))


def _canonical(value):
    return json.dumps(value, sort_keys=True)


def main():
    rng = random.Random(2026)
    lines = []
    with tempfile.TemporaryDirectory() as work:
        database = os.path.join(work, 'assets.db')
        start = time.perf_counter()
        make_database(database, rng)
        generated = time.perf_counter() - start
        sources = {'assets': os.path.join(work, 'patchwise_assets.yml'), 'yaml': os.path.join(work, 'hosts.yml'),
                   'ini': os.path.join(work, 'hosts.ini')}
        with open(os.path.join(work, 'ansible.cfg'), 'w', encoding='utf-8') as handle:
            handle.write('[defaults]\n')  # no user or project configuration in the figures
        with open(sources['assets'], 'w', encoding='utf-8') as handle:
            handle.write('plugin: patchwise.patching.assets\ndatabase: %s\n' % database)

        # The plugin's own output is what the static inventories are written from.
        first = os.path.join(work, 'first-assets.json')
        run_inventory('assets', sources['assets'], first, work)
        listing = load_listing(first)
        hostvars = listing['_meta']['hostvars']
        groups = {group: hosts for group, (hosts, _children) in memberships(listing).items() if group not in ('all', 'ungrouped') and hosts}
        write_yaml(sources['yaml'], hostvars, groups)
        write_ini(sources['ini'], hostvars, groups)

        variants = ['assets', 'ini', 'yaml']
        seconds = {variant: [] for variant in variants}
        peak = {variant: [] for variant in variants}
        outputs = {}
        for round_number in range(ROUNDS):
            order = variants[round_number % len(variants):] + variants[:round_number % len(variants)]
            for variant in order:
                out_path = os.path.join(work, '%s-%d.json' % (variant, round_number))
                took, rss = run_inventory(variant, sources[variant], out_path, work)
                seconds[variant].append(took)
                peak[variant].append(rss)
                outputs.setdefault(variant, out_path)

        listings = {variant: load_listing(path) for variant, path in outputs.items()}
        # Compared as canonical JSON, so False and 0, or '12' and 12, do not pass for equal.
        same_vars = len({_canonical(listings[v]['_meta']['hostvars']) for v in variants}) == 1
        same_groups = len({_canonical(memberships(listings[v])) for v in variants}) == 1
        per_host = host_groups(listings['assets'])
        vars_per_host = sum(len(v) for v in hostvars.values()) / len(hostvars)
        groups_per_host = sum(len(g) for g in per_host.values()) / len(per_host)
        lines.append('inventory of %d synthetic hosts (%.1f host vars and %.1f groups per host, %d groups), '
                     'ansible-core %s, database generated in %.0f s; medians of %d rounds:'
                     % (len(hostvars), vars_per_host, groups_per_host, len(memberships(listings['assets'])),
                        ansible.release.__version__, generated, ROUNDS))
        labels = {'assets': 'assets plugin (from the asset DB)', 'ini': 'INI inventory (baseline)', 'yaml': 'YAML inventory'}
        for variant in variants:
            lines.append('  %-34s %6.1f s  peak %5.0f MiB   (runs: %s s)'
                         % (labels[variant], median(seconds[variant]), median(peak[variant]),
                            ', '.join('%.1f' % s for s in seconds[variant])))
        time_ratio = median(seconds['assets']) / median(seconds['ini'])
        memory_ratio = median(peak['assets']) / median(peak['ini'])
        met = time_ratio <= 1.0 and memory_ratio <= 1.0
        lines.append('  plugin / INI: time %.2fx, peak memory %.2fx (target: both <= 1.00x): %s'
                     % (time_ratio, memory_ratio, 'met' if met else 'MISSED'))
        yaml_ratios = (median(seconds['assets']) / median(seconds['yaml']), median(peak['assets']) / median(peak['yaml']))
        lines.append('  plugin / YAML: time %.2fx, peak memory %.2fx' % yaml_ratios)
        lines.append('  (when issue 4 was filed, with its own data: YAML ~37 s and ~760 MiB, INI ~8 s and ~190 MiB)')
        lines.append('  same host vars in all three: %s; same group memberships in all three: %s'
                     % ('yes' if same_vars else 'NO', 'yes' if same_groups else 'NO'))
    text = '\n'.join(lines)
    print(text)
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, 'w', encoding='utf-8') as handle:
        handle.write(text + '\n')
    if not (same_vars and same_groups):
        sys.exit('bench_inventory: the three inventories differ, so the figures do not compare like with like')


if __name__ == '__main__':
    main()

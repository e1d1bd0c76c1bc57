"""A 10,000-host fleet on both asset database backends, SQLite and PostgreSQL (issue 18, item 6).

Data: SYNTHETIC records generated here (not real hosts): Debian 12 hosts of 2,000 packages each,
90 % of the versions the same on every host, hosts that keep up with security updates (1.5 % of
their packages one update behind), each with an exposure and a criticality in the register; the
synthetic advisory feed of bench_advisory_db (300,000 affected entries).  The PostgreSQL server is
the test suite's (tests/unit/postgresql_server.py: Debian's postgresql package, a throwaway cluster
on loopback with durability settings off, as a test cluster; a production server syncs its writes).

Steps, on each backend, each figure beside its target and PostgreSQL beside SQLite (target: within
1.5x of SQLite for every step):
- store: the records written through AssetStore.store_records in batches of 100 hosts, as discovery
  jobs store them (target <= 60 s; generating the records is not counted);
- assess: the first risk pass over the fleet (risk_pass.assess_fleet; target <= 15 s);
- inventory: ``ansible-inventory --list`` of the ``assets`` inventory plugin, beside an INI file of
  the same hosts, variables and groups (target: no slower than the INI file).

Environment: BENCH_HOSTS (default 10000), BENCH_BACKENDS (default "sqlite postgresql").
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
sys.path.insert(0, COLLECTIONS)
sys.path.insert(0, BENCH)
OUTPUT = os.path.join(ROOT, 'bench', 'output', 'scale.txt')
HOSTS = int(os.environ.get('BENCH_HOSTS', '10000'))
BACKENDS = os.environ.get('BENCH_BACKENDS', 'sqlite postgresql').split()
BATCH = 100

from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk_pass import assess_fleet  # noqa: E402
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD, PostgreSQL  # noqa: E402
from bench_advisory_db import make_feed  # noqa: E402
from bench_inventory import load_listing, memberships, run_inventory, write_ini  # noqa: E402
from bench_risk import _current_version, _record  # noqa: E402
from figures import write_figures  # noqa: E402


def fleet(names, seed):
    """The hosts, the register and the records BATCH hosts at a time (generated as they are stored, so memory holds
    one batch), the same on every backend for the same seed."""
    rng = random.Random(seed)
    base = [(name, _current_version(name, rng)) for name in rng.sample(names, 2000)]
    hosts = ['host%05d' % index for index in range(HOSTS)]
    register = {host: {'exposure': rng.choice(['internet', 'internal', 'isolated']),
                       'criticality': rng.choice(['low', 'medium', 'high', 'very_high'])} for host in hosts}

    def batches():
        for start in range(0, HOSTS, BATCH):
            yield [(host, [(name, version if rng.random() < 0.9 else _current_version(name, rng)) for name, version in base])
                   for host in hosts[start:start + BATCH]]

    return hosts, register, batches()


def store_fleet(location, hosts, register, batches):
    """Seconds spent in store_records over all batches (the records are built outside the timing)."""
    took = 0.0
    with AssetStore(location) as store:
        store.replace_register(register, 'bench')
        for batch in batches:
            records = {host: _record(host, packages) for host, packages in batch}
            start = time.perf_counter()
            store.store_records(records)
            took += time.perf_counter() - start
    return took


def assess(location, advisory_path, hosts):
    advisories = AdvisoryDB(advisory_path)
    try:
        with AssetStore(location) as store:
            register = store.register()
            start = time.perf_counter()
            summary = assess_fleet(store, advisories, load_policy(), register, hosts, run_id='bench-scale')
            return time.perf_counter() - start, summary
    finally:
        advisories.close()


def inventory(location, work, label):
    source = os.path.join(work, label, 'patchwise_assets.yml')   # a name the plugin accepts
    os.makedirs(os.path.dirname(source), exist_ok=True)
    with open(source, 'w', encoding='utf-8') as handle:
        handle.write('plugin: patchwise.patching.assets\ndatabase: %s\n' % location)
    out = os.path.join(work, '%s-inventory.json' % label)
    seconds, peak = run_inventory('assets', source, out, work)
    listed = len(load_listing(out).get('_meta', {}).get('hostvars', {}))
    if listed != HOSTS:
        raise SystemExit('%s: the inventory lists %d hosts, not %d: %s' % (label, listed, HOSTS, open(out + '.err', encoding='utf-8').read()[-2000:]))
    return seconds, peak, out


def main():
    rng = random.Random(2026)
    lines = ['%d synthetic hosts, 2,000 packages each, 90 %% identical versions, keeping up with security updates' % HOSTS]
    figures = {}
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, 'ansible.cfg'), 'w', encoding='utf-8') as handle:
            handle.write('[defaults]\n')  # no user or project configuration in the figures
        feed = os.path.join(work, 'synthetic-osv.zip')
        names, _weights = make_feed(feed, rng)
        advisory_path = os.path.join(work, 'advisories.db')
        build(advisory_path, [{'type': 'osv', 'src': feed}])
        server = None
        try:
            for backend in BACKENDS:
                if backend == 'postgresql':
                    server = PostgreSQL().start()
                    os.environ['PGPASSWORD'] = PASSWORD   # libpq's, for this process and ansible-inventory
                    location = server.database('bench_scale')
                elif backend == 'sqlite':
                    location = os.path.join(work, 'assets.db')
                else:
                    raise SystemExit('BENCH_BACKENDS: unknown backend %r (sqlite, postgresql)' % backend)
                hosts, register, batches = fleet(names, 7)
                stored = store_fleet(location, hosts, register, batches)
                assessed, summary = assess(location, advisory_path, hosts)
                # (The inventory's peak memory is not shown: a child forked from this large process inherits its size.)
                listed, _peak, listing_path = inventory(location, work, backend)
                figures[backend] = {'store': stored, 'assess': assessed, 'inventory': listed}
                lines.append('%s: store %.1f s (target <= 60 s); assess %.1f s, %d open findings (target <= 15 s); '
                             'inventory --list %.1f s' % (backend, stored, assessed, summary['open_findings'], listed))
                if backend == BACKENDS[0]:
                    listing = load_listing(listing_path)
                    groups = {group: members for group, (members, _children) in memberships(listing).items()
                              if group not in ('all', 'ungrouped') and members}
                    ini = os.path.join(work, 'hosts.ini')
                    write_ini(ini, listing['_meta']['hostvars'], groups)
                    ini_seconds, _ini_peak = run_inventory('ini', ini, os.path.join(work, 'ini.json'), work)
                    lines.append('  baseline: the same hosts, variables and groups as an INI file: inventory --list %.1f s '
                                 '(target: the plugin no slower; %.2fx)' % (ini_seconds, listed / ini_seconds))
        finally:
            if server is not None:
                server.stop()
    if 'sqlite' in figures and 'postgresql' in figures:
        lines.append('PostgreSQL / SQLite (target <= 1.5x each): ' + ', '.join(
            '%s %.2fx' % (step, figures['postgresql'][step] / figures['sqlite'][step]) for step in ('store', 'assess', 'inventory')))
    write_figures(OUTPUT, lines)


if __name__ == '__main__':
    main()

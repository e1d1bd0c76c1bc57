"""Advisory database: build time, size and memory, and matching speed (issue 3 targets).

The feed is SYNTHETIC (generated here, clearly not real advisories): OSV records
for ~30,000 Debian:12 packages with a Zipf-like number of affected entries per
package, 300,000 affected entries in all, each fixed in some +deb12uN update of
the package's one upstream version.  Hosts have 2,000 of those packages,
installed a few updates behind the newest fix (+deb12u16..22 against fixes up
to +deb12u20), so some advisories apply to them and most do not.

Figures, each beside its baseline or target:
- build: parse + write the 300,000-entry feed (target < 15 s, peak memory < 150 MB, DB < 100 MB);
- one host: AdvisoryDB.match on 2,000 packages, fresh object (no memo), page cache warm
  (target < 20 ms), beside a plain loop of one query per package evaluated in Python (~190 ms measured before);
- fleet: 1,000 hosts, 90 % of package versions identical across hosts, one AdvisoryDB (memoised)
  (target < 3 s).
"""

from __future__ import annotations

import datetime
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
sys.path.insert(0, COLLECTIONS)
OUTPUT = os.path.join(ROOT, 'bench', 'output', 'advisory_db.txt')

from ansible_collections.patchwise.patching.plugins.module_utils.advisories import range_affects  # noqa: E402
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB  # noqa: E402

PACKAGES = 30000
ENTRIES = 300000
ENTRIES_PER_RECORD = 10


def _upstream(name):
    # Each package has one upstream version in the release, as in Debian stable.
    number = int(name[-5:])
    return '%d.%d.%d-%d' % (number % 7, number % 31, number % 41, number % 5 + 1)


def _fixed_version(name, rng):
    return '%s+deb12u%d' % (_upstream(name), rng.randint(1, 20))


def _installed_version(name, rng):
    # Hosts lag a few security updates behind: most advisories are fixed on them.
    return '%s+deb12u%d' % (_upstream(name), rng.randint(16, 22))


# Dated now, so that the staleness gate of the assess playbook (bench_risk) takes the synthetic feed as current.
MODIFIED = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def make_feed(path, rng):
    names = ['synthpkg%05d' % i for i in range(PACKAGES)]
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(PACKAGES)]
    chosen = rng.choices(names, weights=weights, k=ENTRIES)
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as archive:
        for start in range(0, ENTRIES, ENTRIES_PER_RECORD):
            record_id = 'SYNTH-%06d' % (start // ENTRIES_PER_RECORD)
            affected = [{'package': {'ecosystem': 'Debian:12', 'name': name},
                         'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}, {'fixed': _fixed_version(name, rng)}]}]}
                        for name in chosen[start:start + ENTRIES_PER_RECORD]]
            record = {'id': record_id, 'modified': MODIFIED, 'aliases': ['CVE-2099-%06d' % (start // 10)],
                      'summary': 'synthetic benchmark record', 'affected': affected}
            archive.writestr(record_id + '.json', json.dumps(record))
    return names, weights


BUILD = r'''
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import build
start = time.perf_counter()
result = build(sys.argv[2], [{'type': 'osv', 'src': sys.argv[3]}])
elapsed = time.perf_counter() - start
print(json.dumps({'seconds': elapsed, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'entries': sum(result['ecosystems'].values())}))
'''


def plain_loop(path, ecosystem, packages):
    """The baseline: one query per package, every range evaluated in Python."""
    connection = sqlite3.connect(path)
    found = 0
    for name, version in packages:
        for (ranges,) in connection.execute('SELECT r.ranges FROM affected f JOIN affected_ranges r ON r.entry = f.entry '
                                            'WHERE f.ecosystem = ? AND f.package = ?', (ecosystem, name)):
            if any(range_affects(r['events'], version, 'deb') for r in json.loads(ranges)):
                found += 1
    connection.close()
    return found


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def main():
    rng = random.Random(2026)
    lines = []
    with tempfile.TemporaryDirectory() as work:
        feed = os.path.join(work, 'synthetic-osv.zip')
        names, _weights = make_feed(feed, rng)
        db_path = os.path.join(work, 'advisories.db')
        proc = subprocess.run([sys.executable, '-c', BUILD, COLLECTIONS, db_path, feed], capture_output=True, text=True, check=True)
        built = json.loads(proc.stdout)
        size_mb = os.path.getsize(db_path) / 1e6
        lines.append('build of %d synthetic affected entries: %.1f s (target < 15 s), peak memory %.0f MB (target < 150 MB), '
                     'database %.0f MB (target < 100 MB)' % (built['entries'], built['seconds'], built['peak_mb'], size_mb))

        base_host = [(name, _installed_version(name, rng)) for name in rng.sample(names, 2000)]
        # Warm the page cache, then time fresh objects (no memo) and the plain loop, interleaved.
        AdvisoryDB(db_path).match('Debian:12', base_host)
        ours, plain = [], []
        for _round in range(5):
            db = AdvisoryDB(db_path)
            start = time.perf_counter()
            hits = db.match('Debian:12', base_host)
            ours.append(time.perf_counter() - start)
            db.close()
            start = time.perf_counter()
            plain_hits = plain_loop(db_path, 'Debian:12', base_host)
            plain.append(time.perf_counter() - start)
        our_hits = sum(len(v) for v in hits.values())
        assert our_hits == plain_hits, (our_hits, plain_hits)
        lines.append('one host, 2,000 packages (%d findings): %.1f ms (target < 20 ms); plain per-package loop %.1f ms'
                     % (our_hits, median(ours) * 1000, median(plain) * 1000))

        fleet = []
        for _host in range(1000):
            fleet.append([(name, version if rng.random() < 0.9 else _installed_version(name, rng)) for name, version in base_host])
        db = AdvisoryDB(db_path)
        start = time.perf_counter()
        for packages in fleet:
            db.match('Debian:12', packages)
        fleet_seconds = time.perf_counter() - start
        lines.append('fleet of 1,000 hosts, 90%% identical versions: %.2f s (target < 3 s)' % fleet_seconds)
    text = '\n'.join(lines)
    print(text)
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, 'w', encoding='utf-8') as handle:
        handle.write(text + '\n')


if __name__ == '__main__':
    main()

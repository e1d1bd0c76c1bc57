"""The risk pass over 10,000 worst-case hosts (issue 19 target: first pass < 50 s, peak memory < 1 GB).

Data: the SYNTHETIC feed and the "lagging several security updates" fleet of bench_risk (generated,
not real advisories): 2,000 packages per host, 90 % of versions identical across hosts, about 1,000
open findings per host, so about 10 million in all.  The store is a ~7 GB SQLite file in a temporary
directory.

Figures, each beside its baseline from the same run:
- the first pass over 10,000 hosts and its peak memory (the pass runs in a process of its own, whose
  peak resident size is the figure), beside the first pass over 1,000 hosts of the same shape
  scaled by ten (what a pass that grows linearly with the fleet would take) and its peak memory;
- the next pass over the 10,000 hosts with nothing changed.
BENCH_10K_HOSTS makes the large fleet smaller (for a quick check of the script).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
OUTPUT = os.path.join(ROOT, 'bench', 'output', 'risk_10k.txt')
LARGE = int(os.environ.get('BENCH_10K_HOSTS', '10000'))
SMALL = 1000

from bench_risk import COLLECTIONS, build, make_feed, make_fleet  # noqa: E402
from figures import write_figures  # noqa: E402

# One pass in a child process: its peak resident size is the pass's, not the fleet builder's.
CHILD_RISK_RUN = r'''
import json, resource, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from bench_risk import AssetStore, _timed_pass, load_policy
with AssetStore(sys.argv[3]) as store:
    hosts = [host['name'] for host in store.hosts()]
seconds, summary = _timed_pass(sys.argv[3], sys.argv[4], load_policy(), hosts)
print(json.dumps({'seconds': seconds, 'open': summary['open_findings'], 'unchanged': summary['unchanged'],
                  'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def timed_pass(asset_path, advisory_path):
    process = subprocess.run([sys.executable, '-c', CHILD_RISK_RUN, COLLECTIONS, BENCH, asset_path, advisory_path],
                             capture_output=True, text=True, check=True)
    return json.loads(process.stdout)


def fleet_passes(work, names, advisory_path, count, rng_state):
    """(first pass, next pass) over a new worst-case fleet of ``count`` hosts."""
    directory = os.path.join(work, 'fleet%d' % count)
    os.mkdir(directory)
    # Both fleets from bench_risk's random state after its feed: its image of 2,000 packages, its share of versions off it.
    rng = random.Random()
    rng.setstate(rng_state)
    path, _hosts = make_fleet(directory, names, rng, count=count)
    first = timed_pass(path, advisory_path)
    return first, timed_pass(path, advisory_path)


def main():
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as work:
        feed = os.path.join(work, 'synthetic-osv.zip')
        names, _weights = make_feed(feed, rng)
        advisory_path = os.path.join(work, 'advisories.db')
        build(advisory_path, [{'type': 'osv', 'src': feed}])
        state = rng.getstate()
        small, _small_next = fleet_passes(work, names, advisory_path, SMALL, state)
        large, large_next = fleet_passes(work, names, advisory_path, LARGE, state)
    scale = LARGE / SMALL
    lines = [
        'risk pass, %d worst-case hosts (%d open findings): first pass %.1f s (target < 50 s), peak memory %.0f MB (target < 1 GB); '
        'baseline, %d hosts of the same shape in this run: %.1f s (x%g = %.1f s), peak %.0f MB'
        % (LARGE, large['open'], large['seconds'], large['peak_mb'], SMALL, small['seconds'], scale, small['seconds'] * scale, small['peak_mb']),
        '  next pass, nothing changed: %.1f s, %d hosts skipped' % (large_next['seconds'], large_next['unchanged']),
    ]
    write_figures(OUTPUT, lines)


if __name__ == '__main__':
    main()

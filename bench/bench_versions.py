"""Version comparison speed: deb and rpm, uncached, near and random pairs.

Baselines measured in the same run on the same pairs:
- python3-apt's apt_pkg.version_compare (C) and rpm.labelCompare (C), which
  import only under the system interpreter /usr/bin/python3;
- a plain pure-Python dpkg comparator (character loop, as dpkg's C code reads).
Every implementation runs under /usr/bin/python3 so interpreters match.
Target (issue 3): at most 1.5 microseconds per uncached comparison.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUTPUT = ROOT / 'bench' / 'output' / 'versions.txt'

MEASURE = r'''
import glob, json, random, re, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import versions

def naive_order(c):
    if c.isdigit(): return 0
    if c.isalpha(): return ord(c)
    if c == '~': return -1
    return ord(c) + 256 if c else 0

def naive_verrevcmp(a, b):
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = naive_order(a[i]) if i < len(a) else 0
            bc = naive_order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1; j += 1
        while i < len(a) and a[i] == '0': i += 1
        while j < len(b) and b[j] == '0': j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1; j += 1
        if i < len(a) and a[i].isdigit(): return 1
        if j < len(b) and b[j].isdigit(): return -1
        if first_diff: return first_diff
    return 0

def naive_deb(a, b):
    ea, _, ra = a.rpartition(':') if ':' in a else ('0', '', a)
    eb, _, rb = b.rpartition(':') if ':' in b else ('0', '', b)
    if int(ea) != int(eb): return -1 if int(ea) < int(eb) else 1
    ua, _, va = ra.rpartition('-') if '-' in ra else (ra, '', '')
    ub, _, vb = rb.rpartition('-') if '-' in rb else (rb, '', '')
    return naive_verrevcmp(ua, ub) or naive_verrevcmp(va, vb)

def timed(fn, pairs, rounds=5):
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        for a, b in pairs:
            fn(a, b)
        elapsed = (time.perf_counter() - start) / len(pairs) * 1e6
        best = elapsed if best is None else min(best, elapsed)
    return best

corpus = set()
for path in glob.glob('/var/lib/apt/lists/*_Packages*'):
    text = subprocess.run(['/usr/lib/apt/apt-helper', 'cat-file', path], capture_output=True, text=True).stdout
    corpus.update(re.findall(r'^Version: (\S+)$', text, re.M))
corpus = sorted(corpus)
rng = random.Random(1)
sample = rng.sample(corpus, 20000)
# Near pairs: the same version with its last number bumped, as a security update does.
near = []
for v in sample:
    m = list(re.finditer(r'\d+', v))
    if m:
        last = m[-1]
        near.append((v, v[:last.start()] + str(int(last.group()) + 1) + v[last.end():]))
rand = [(rng.choice(corpus), rng.choice(corpus)) for _ in range(20000)]

import apt_pkg
apt_pkg.init()
import rpm

def rpm_version():
    return '%d.%d.%d-%d.el9_%d' % (rng.randint(0, 5), rng.randint(0, 30), rng.randint(0, 99), rng.randint(1, 500), rng.randint(0, 4))
rpm_versions = [rpm_version() for _ in range(20000)]
rpm_near = [(v, v[:-1] + str(int(v[-1]) + 1)) for v in rpm_versions]
rpm_rand = [(rng.choice(rpm_versions), rng.choice(rpm_versions)) for _ in range(20000)]
def evr(v):
    ver, _, rel = v.rpartition('-')
    return ('0', ver, rel)
rpm_near_evr = [(evr(a), evr(b)) for a, b in rpm_near]
rpm_rand_evr = [(evr(a), evr(b)) for a, b in rpm_rand]

compare = versions.compare_versions
results = {
    'deb near': {
        'patchwise': timed(lambda a, b: compare(a, b, 'deb'), near),
        'apt_pkg (C)': timed(apt_pkg.version_compare, near),
        'pure Python loop': timed(naive_deb, near),
    },
    'deb random': {
        'patchwise': timed(lambda a, b: compare(a, b, 'deb'), rand),
        'apt_pkg (C)': timed(apt_pkg.version_compare, rand),
        'pure Python loop': timed(naive_deb, rand),
    },
    'rpm near': {
        'patchwise': timed(lambda a, b: compare(a, b, 'rpm'), rpm_near),
        'rpm.labelCompare (C)': timed(rpm.labelCompare, rpm_near_evr),
    },
    'rpm random': {
        'patchwise': timed(lambda a, b: compare(a, b, 'rpm'), rpm_rand),
        'rpm.labelCompare (C)': timed(rpm.labelCompare, rpm_rand_evr),
    },
}
print(json.dumps({'pairs': len(near), 'results': results}))
'''


def main():
    proc = subprocess.run(
        ['/usr/bin/python3', '-c', MEASURE, str(ROOT / 'plugins' / 'module_utils')],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        sys.exit('bench_versions: the measurement failed (python3-apt and python3-rpm are needed under /usr/bin/python3):\n'
                 + proc.stderr)
    data = json.loads(proc.stdout)
    lines = ['Version comparison, microseconds per uncached comparison (best of 5 rounds, %d pairs each)' % data['pairs'],
             'target: patchwise <= 1.5 us', '']
    for case, figures in data['results'].items():
        cells = '  '.join('%s %.2f' % (name, value) for name, value in figures.items())
        lines.append('%-11s %s' % (case, cells))
    text = '\n'.join(lines)
    print(text)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text + '\n', encoding='utf-8')


if __name__ == '__main__':
    main()

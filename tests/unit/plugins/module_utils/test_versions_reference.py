"""Property tests: our deb and rpm ordering against the real tools.

deb is checked against python3-apt's ``apt_pkg.version_compare`` (the same
algorithm as dpkg, in C) on thousands of real and mutated version strings from
the machine's APT lists, and against ``dpkg --compare-versions`` itself on a
sample.  rpm is checked against ``rpm.labelCompare`` from python3-rpm.  Both
Debian packages import only under the system interpreter, so they run in one
``/usr/bin/python3`` child per batch.  Zero disagreements are allowed.
"""

from __future__ import annotations

import glob
import json
import random
import re
import shutil
import subprocess

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions, version_key

SYSTEM_PYTHON = '/usr/bin/python3'

APT_REFERENCE = r'''
import json, sys
import apt_pkg
apt_pkg.init()
pairs = json.load(sys.stdin)
print(json.dumps([(r > 0) - (r < 0) for r in (apt_pkg.version_compare(a, b) for a, b in pairs)]))
'''

RPM_REFERENCE = r'''
import json, sys
import rpm

def evr(text):
    epoch, colon, rest = text.partition(':')
    if not colon:
        epoch, rest = '0', text
    version, hyphen, release = rest.rpartition('-')
    if not hyphen:
        version, release = rest, None
    return (epoch or '0', version, release)

out = []
for a, b in json.load(sys.stdin):
    try:
        out.append(rpm.labelCompare(evr(a), evr(b)))
    except ValueError:
        out.append(None)   # rpm rejects the string
print(json.dumps(out))
'''


def _reference(script, pairs, package):
    result = subprocess.run(
        [SYSTEM_PYTHON, '-c', script], input=json.dumps(pairs), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            'the reference implementation could not run under %s (is the Debian package %s installed? '
            '`make setup` installs it): %s' % (SYSTEM_PYTHON, package, result.stderr.strip()[-500:])
        )
    return json.loads(result.stdout)


def _sign(a, b):
    return (a > b) - (a < b)


def _real_deb_versions():
    versions = set()
    lists = glob.glob('/var/lib/apt/lists/*_Packages*')
    for path in lists:
        text = subprocess.run(
            ['/usr/lib/apt/apt-helper', 'cat-file', path], capture_output=True, text=True, check=False
        ).stdout
        versions.update(re.findall(r'^Version: (\S+)$', text, re.MULTILINE))
    with open('/var/lib/dpkg/status', encoding='utf-8', errors='replace') as status:
        versions.update(re.findall(r'^Version: (\S+)$', status.read(), re.MULTILINE))
    return sorted(versions)


def _mutations(version, rng):
    """Versions near ``version``: the kinds of neighbours security updates produce."""
    yield version + rng.choice(['~', '~rc1', '+b1', '-0', '.0', '0', 'a', '+deb12u1', '~deb12u1', '-1~bpo12+1'])
    digits = [m.start() for m in re.finditer(r'\d', version)]
    if digits:
        at = rng.choice(digits)
        yield version[:at] + str((int(version[at]) + rng.choice([1, 9])) % 10) + version[at + 1:]
        yield version[:at] + version[at] + '0' + version[at + 1:]


@pytest.fixture(scope='module')
def deb_pairs():
    versions = _real_deb_versions()
    assert len(versions) >= 1000, 'expected a real corpus of Debian versions from the APT lists and dpkg status'
    rng = random.Random(20261128)
    sample = rng.sample(versions, 3000)
    pairs = [(rng.choice(sample), rng.choice(sample)) for _index in range(3000)]
    for version in sample:
        pairs.extend((version, near) for near in _mutations(version, rng))
    # Keep pairs dpkg would accept: a mutation may produce an invalid version.
    valid = []
    for a, b in pairs:
        try:
            compare_versions(a, b, 'deb')
        except ValueError:
            continue
        valid.append((a, b))
    return valid


def test_deb_agrees_with_apt_pkg(deb_pairs):
    assert len(deb_pairs) > 8000
    expected = _reference(APT_REFERENCE, deb_pairs, 'python3-apt')
    disagreements = [
        (a, b, ours, theirs)
        for (a, b), theirs in zip(deb_pairs, expected)
        if (ours := compare_versions(a, b, 'deb')) != theirs
    ]
    assert disagreements == []


def test_deb_keys_agree_with_apt_pkg(deb_pairs):
    expected = _reference(APT_REFERENCE, deb_pairs, 'python3-apt')
    disagreements = [
        (a, b) for (a, b), theirs in zip(deb_pairs, expected)
        if _sign(version_key(a, 'deb'), version_key(b, 'deb')) != theirs
    ]
    assert disagreements == []


def test_deb_agrees_with_dpkg(deb_pairs):
    dpkg = shutil.which('dpkg')
    assert dpkg, 'dpkg is needed for this test'
    rng = random.Random(7)
    for a, b in rng.sample(deb_pairs, 300):
        lower = subprocess.run([dpkg, '--compare-versions', a, 'lt', b], check=False).returncode == 0
        equal = subprocess.run([dpkg, '--compare-versions', a, 'eq', b], check=False).returncode == 0
        theirs = -1 if lower else (0 if equal else 1)
        assert compare_versions(a, b, 'deb') == theirs, (a, b)


_RPM_ATOMS = ['0', '1', '2', '9', '10', '01', '00', '2024', 'a', 'b', 'rc', 'alpha', 'beta', 'el8', 'el9_2', 'fc39',
              'z', 'A', 'git', '~', '^', '.', '_', '+', '-']
_RPM_REAL = ['3.0.7-27.el9', '1:3.0.7-24.el9', '2.34-100.el9_4.2', '4.18.0-513.5.1.el8_9', '1.1.1k-12.el8_9',
             '0:8.0p1-19.el9_4', '7.76.1-29.el9_4.1', '5.14.0-427.13.1.el9_4', '2.9.1-1^20240101git', '1.0~rc1-1.fc40']


@pytest.fixture(scope='module')
def rpm_pairs():
    rng = random.Random(4)

    def generate():
        text = ''.join(rng.choice(_RPM_ATOMS) for _index in range(rng.randint(1, 7)))
        if rng.random() < 0.25:
            text = '%d:%s' % (rng.randint(0, 3), text)
        return text

    pairs = [(rng.choice(_RPM_REAL), rng.choice(_RPM_REAL)) for _index in range(200)]
    for _index in range(6000):
        a = generate()
        b = a + rng.choice(['~', '^', '.1', 'a', '-1', '~1', '^1', '', '.0']) if rng.random() < 0.4 else generate()
        pairs.append((a, b))
    return pairs


def test_rpm_agrees_with_label_compare(rpm_pairs):
    expected = _reference(RPM_REFERENCE, rpm_pairs, 'python3-rpm')
    checked = 0
    disagreements = []
    for (a, b), theirs in zip(rpm_pairs, expected):
        if theirs is None:
            continue  # rpm itself rejects one of the strings
        checked += 1
        ours = compare_versions(a, b, 'rpm')
        key_order = _sign(version_key(a, 'rpm'), version_key(b, 'rpm'))
        if ours != theirs or key_order != theirs:
            disagreements.append((a, b, ours, key_order, theirs))
    assert checked > 5000
    assert disagreements == []


def test_rpm_rejects_what_rpm_rejects_for_empty_versions(rpm_pairs):
    # rpm refuses an empty version ("-1", "1:"); so do we.
    for text in ('-1', '1:', '1:-2'):
        with pytest.raises(ValueError):
            compare_versions(text, '1.0', 'rpm')

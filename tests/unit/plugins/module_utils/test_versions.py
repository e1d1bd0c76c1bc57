"""Table tests of each version scheme's tricky cases."""

from __future__ import annotations

import random

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import versions as versions_module
from ansible_collections.patchwise.patching.plugins.module_utils.versions import (
    SCHEMES,
    compare_versions,
    scheme_for_ecosystem,
    validate_version,
    version_key,
    version_keys,
)

# (a, b, expected) — each also checked reversed.
DEB = [
    ('1.0', '1.0', 0),
    ('1.0', '1.00', 0),
    ('1.0', '1.0-0', 0),            # a missing revision equals revision 0
    ('1.0', '1.0.0', -1),
    ('1.0~rc1', '1.0', -1),         # ~ sorts before the end
    ('1.0~~', '1.0~', -1),
    ('1.0~', '1.0', -1),
    ('1.0', '1.0a', -1),            # the end sorts before letters
    ('1.0a', '1.0+', -1),           # letters before other characters
    ('1.0+b1', '1.0.1', -1),        # '+' (43) before '.' (46)
    ('1:0.1', '2.0', 1),            # epoch first
    ('0:1.0', '1.0', 0),
    ('2.36-9+deb12u4', '2.36-9+deb12u5', -1),
    ('2.36-9+deb12u10', '2.36-9+deb12u9', 1),   # digit runs are numbers
    ('1.2.3-1', '1.2.3-1+b1', -1),
    ('1.0-1', '1.0-1~bpo1', 1),
    ('3.0.11-1~deb12u2', '3.0.11-1', -1),
    ('1.0-0~', '1.0', -1),
    ('0a', 'a', -1),                # dpkg accepts (and warns about) a non-digit start
    ('7.88.1-10+deb12u5', '7.88.1-10+deb12u12', -1),
    ('1:2.38.1-5+deb12u1', '1:2.38.1-5+b1', 1),
    ('1.2-3-4', '1.2-3', 1),        # the revision is after the last hyphen
    ('2147483647:0', '2147483646:9', 1),    # the largest epoch dpkg accepts
    ('0000000002147483647:1.0', '2147483647:1.0', 0),
    # Only the last number differs: it decides, even written with leading zeros or absent.
    ('1.0-1+b9', '1.0-1+b10', -1),
    ('1.0-01', '1.0-1', 0),
    ('1.', '1.0', 0),
    ('1.0', '1.', 0),
    ('1.0a', '1.0a0', 0),
    ('2', '10', -1),
    # The leading numbers differ: they decide, unless only by leading zeros.
    ('10.1', '9.9', 1),
    ('010.1', '10.2', -1),
    ('1~', '1', -1),
]

RPM = [
    ('1.0', '1.0', 0),
    ('1.0', '2.0', -1),
    ('2.0.1', '2.0.1a', -1),
    ('5.5p1', '5.5p10', -1),
    ('10xyz', '10.1xyz', -1),
    ('xyz10', 'xyz10.1', -1),
    ('1.0aa', '1.0a', 1),
    ('10', '9', 1),
    ('010', '10', 0),               # leading zeros ignored
    ('1.0', '1_0', 0),              # separators only separate
    ('a', '1', -1),                 # a number beats letters
    ('1.0~rc1', '1.0', -1),
    ('1.0~rc1', '1.0~rc2', -1),
    ('1.0~rc1~git123', '1.0~rc1', -1),
    ('1.0^', '1.0', 1),             # caret after the end
    ('1.0^git1', '1.0^git2', -1),
    ('1.0^git1', '1.01', -1),       # ... but before anything else
    ('1.0^20160101', '1.0.1', -1),
    ('1.0~rc1^git1', '1.0~rc1', 1),
    ('1.0~rc1^git1', '1.0', -1),
    ('1:1.0-1', '2.0-1', 1),
    ('1.0-1.el9', '1.0-1.el9_2', -1),
    ('1.0-1', '1.0', 1),            # a missing release sorts first
    ('1.0', '1.0-', -1),
    ('3.0.7-24.el9', '3.0.7-27.el9', -1),
    # Only the last number differs: it decides, and a missing one is a missing segment.
    ('3.0.7-27.el9_2', '3.0.7-27.el9_10', -1),
    ('1.0-', '1.0-0', -1),
    ('1.', '1.0', -1),
    ('1.01', '1.1', 0),
    ('1.0~', '1.0~1', -1),
    ('1.0^', '1.0^1', -1),
    # The leading numbers differ: they decide, unless only by leading zeros.
    ('10.1', '9.9', 1),
    ('010.1', '10.2', -1),
]

APK = [
    ('1.0', '1.0', 0),
    ('1.0', '1.0.1', -1),
    ('1.0_alpha1', '1.0_beta1', -1),
    ('1.0_beta2', '1.0_pre1', -1),
    ('1.0_pre1', '1.0_rc1', -1),
    ('1.0_rc1', '1.0', -1),
    ('1.0', '1.0_p1', -1),
    ('1.0_cvs1', '1.0_p1', -1),
    ('1.0_git20240101', '1.0_hg1', -1),
    ('1.0a', '1.0b', -1),
    ('1.0', '1.0a', -1),
    ('1.0a', '1.0.1', -1),
    ('1.0-r0', '1.0-r1', -1),
    ('1.0', '1.0-r1', -1),
    ('1.0_rc1-r5', '1.0-r0', -1),
    ('3.1.4-r5', '3.1.4-r10', -1),
    ('1.02', '1.1', -1),            # a later number with a leading zero compares as a string
    ('1.010', '1.01', 1),
    ('1.0', '1.00', -1),
    ('1.10', '1.9', 1),
    ('2.0', '10.0', -1),
    ('01.0', '1.0', 0),             # the first number always compares by value
    # Where the token kinds first differ, the earlier kind is newer (apk-tools' enum PARTS),
    # unless the other token is a pre-release suffix.
    ('1.0-r0', '1.0', 1),
    ('1.0_p', '1.0_p0', -1),
    ('1.0_alpha1_p', '1.0_alpha_p', -1),
    ('1.0_alpha1', '1.0_alpha', 1),
    ('1.0_alpha_p', '1.0_alpha', 1),
    ('1.0_alpha_beta', '1.0_alpha', -1),
    ('1.0~abc', '1.0', 1),
    ('1.0~abc', '1.0~abd', -1),
    ('1.0~abc-r1', '1.0-r1', 1),
]

PEP440 = [
    ('1.0', '1.0.0', 0),
    ('1.0a1', '1.0b1', -1),
    ('1.0rc1', '1.0', -1),
    ('1.0', '1.0.post1', -1),
    ('1.0.dev1', '1.0a1', -1),
    ('1!0.1', '2.0', 1),
    ('2.31.0', '2.32.3', -1),
    ('1.0+local', '1.0', 1),
]

SEMVER = [
    ('1.0.0', '1.0.0', 0),
    ('1.0.0-alpha', '1.0.0-alpha.1', -1),
    ('1.0.0-alpha.1', '1.0.0-alpha.beta', -1),
    ('1.0.0-alpha.beta', '1.0.0-beta', -1),
    ('1.0.0-beta', '1.0.0-beta.2', -1),
    ('1.0.0-beta.2', '1.0.0-beta.11', -1),
    ('1.0.0-beta.11', '1.0.0-rc.1', -1),
    ('1.0.0-rc.1', '1.0.0', -1),
    ('1.0.0+build.1', '1.0.0+build.2', 0),   # build metadata ignored
    ('v1.2.3', '1.2.3', 0),
    ('1.9.0', '1.10.0', -1),
    ('0.0.1-2', '0.0.1-10', -1),
    ('1.0.0-1', '1.0.0-a', -1),              # numeric identifiers before alphanumeric
]

GENERIC = [
    ('1.0', '1.0.0', 0),
    ('1.0', '1.0.1', -1),
    ('1.0rc1', '1.0', -1),
    ('1.0rc1', '1.0.1', -1),
    ('1.0a', '1.0', -1),
    ('1.0.0.1', '1.0', 1),
    ('1.10', '1.9', 1),
    ('2024.01', '2024.1', 0),
    ('1.0-beta', '1.0-Beta', 0),
]

TABLES = [('deb', DEB), ('rpm', RPM), ('apk', APK), ('pep440', PEP440), ('semver', SEMVER), ('generic', GENERIC)]


@pytest.mark.parametrize(
    'scheme, first, second, expected',
    [(scheme, a, b, expected) for scheme, table in TABLES for a, b, expected in table],
)
def test_compare_table(scheme, first, second, expected):
    assert compare_versions(first, second, scheme) == expected
    assert compare_versions(second, first, scheme) == -expected


@pytest.mark.parametrize(
    'scheme, a, b, expected',
    [(scheme, a, b, expected) for scheme, table in TABLES if scheme in ('deb', 'rpm', 'semver') for a, b, expected in table],
)
def test_key_order_matches_compare(scheme, a, b, expected):
    key_a, key_b = version_key(a, scheme), version_key(b, scheme)
    assert ((key_a > key_b) - (key_a < key_b)) == expected


@pytest.mark.parametrize(
    'scheme, version',
    [
        ('deb', ''),
        ('deb', '   '),
        ('deb', 'a:1.0'),
        ('deb', '1:'),
        ('deb', '1.0-'),
        ('deb', '1.0 1'),
        ('deb', '1.0_1'),
        ('deb', '-1'),
        ('deb', '1.0-1:2'),         # ':' is not allowed in a revision
        ('deb', '2147483648:1.0'),  # dpkg refuses an epoch above INT_MAX
        ('deb', '99999999999999999999999:1.0'),
        ('rpm', ''),
        ('rpm', 'x:1.0'),
        ('rpm', '-1'),
        ('rpm', '1.0 1'),
        ('apk', '1.0_gamma'),
        ('apk', 'v1.0'),
        ('apk', '1.0-r'),
        ('apk', '1.0a1'),
        ('apk', '1.0_p1.2'),
        ('apk', '1.0-r1_p1'),
        ('pep440', 'not a version'),
        ('semver', '1.0'),
        ('semver', '01.0.0'),
        ('semver', '1.0.0-01'),
        ('generic', ''),
        ('generic', '...'),
    ],
)
def test_invalid_versions_raise_naming_string_and_scheme(scheme, version):
    with pytest.raises(ValueError) as excinfo:
        compare_versions(version, '1.0.0', scheme)
    assert repr(version) in str(excinfo.value)
    assert scheme in str(excinfo.value)
    with pytest.raises(ValueError):
        validate_version(version, scheme)
    # Equal strings are no exception: an invalid version is refused even against itself.
    with pytest.raises(ValueError):
        compare_versions(version, version, scheme)
    if scheme in ('deb', 'rpm', 'semver'):
        with pytest.raises(ValueError):
            version_key(version, scheme)


@pytest.mark.parametrize('scheme', SCHEMES)
def test_non_strings_are_refused(scheme):
    for other in (b'1.0.0', None, 1):
        with pytest.raises(ValueError):
            compare_versions(other, '1.0.0', scheme)
        with pytest.raises(ValueError):
            compare_versions('1.0.0', other, scheme)


# Pieces of generated versions: numbers with and without leading zeros, letters, and each
# scheme's special characters, so that most ordering rules and fast paths get exercised.
_GENERATED_ATOMS = {
    'deb': ['0', '1', '2', '9', '10', '00', '01', '0010', 'a', 'b', 'z', 'A', '~', '+', '.', '-', 'deb12u', '+b', '~rc'],
    'rpm': ['0', '1', '2', '9', '10', '00', '01', 'a', 'b', 'rc', 'el9_', 'A', '~', '^', '.', '_', '+', '-'],
    'semver': ['0', '1', '2', '10', '.', '.0', '.1', '-', '-0', '-1', '-rc', '-rc.1', '-alpha.beta', '.x', '+build', 'v'],
}


def _generated_versions(scheme, rng, count):
    atoms = _GENERATED_ATOMS[scheme]
    versions = set()
    while len(versions) < count:
        text = ''.join(rng.choice(atoms) for _index in range(rng.randint(1, 7)))
        if scheme == 'semver':
            text = rng.choice(['', 'v']) + '%d.%d.%d' % (rng.randint(0, 2), rng.randint(0, 11), rng.randint(0, 2)) + text
        elif rng.random() < 0.2:
            text = '%d:%s' % (rng.choice([0, 1, 2, 10]), text)
        try:
            validate_version(text, scheme)
        except ValueError:
            continue
        versions.add(text)
    return sorted(versions)


@pytest.mark.parametrize('scheme', ['deb', 'rpm', 'semver'])
def test_key_order_matches_compare_on_generated_versions(scheme):
    rng = random.Random(20260905)
    versions = _generated_versions(scheme, rng, 400)
    # Neighbours in key order, where a wrong key would show first, and random pairs.
    by_key = sorted(versions, key=lambda version: version_key(version, scheme))
    pairs = list(zip(by_key, by_key[1:])) + [(rng.choice(versions), rng.choice(versions)) for _index in range(3000)]
    disagreements = []
    for first, second in pairs:
        result = compare_versions(first, second, scheme)
        if result != _key_sign(first, second, scheme) or compare_versions(second, first, scheme) != -result:
            disagreements.append((first, second, result))
    assert disagreements == []


@pytest.mark.parametrize('scheme', ['deb', 'rpm', 'semver'])
def test_the_keys_of_many_versions_are_each_versions_key(scheme):
    rng = random.Random(20261206)
    versions = _generated_versions(scheme, rng, 400)
    # Repeated versions and parts, in the order a host lists them: the batch memoises parts per call.
    versions = versions + rng.sample(versions, 100)
    assert version_keys(versions, scheme) == [version_key(version, scheme) for version in versions]
    assert version_keys([], scheme) == []


def test_the_key_of_a_dotted_number_part_is_the_key_built_run_by_run():
    rng = random.Random(20261206)
    numbers = ['0', '00', '1', '01', '007', '10', '2024', '9' * 12]
    parts = {'.'.join(rng.choice(numbers) for _index in range(rng.randint(1, 5))) for _round in range(2000)}
    # Zero alone drops its piece; an empty number or a trailing dot is no dotted number: the general builder.
    parts |= {'0', '00', '1', '', '.', '1.', '.1', '1..2', '1.0~rc1', '2.36.1+dfsg'}
    assert [versions_module._deb_part_key(part) for part in sorted(parts)] == [versions_module._deb_runs_key(part) for part in sorted(parts)]


def test_the_keys_of_many_versions_refuse_an_invalid_one_as_version_key_does():
    with pytest.raises(ValueError, match='invalid deb version'):
        version_keys(['1.0-1', '1.0 -1'], 'deb')
    with pytest.raises(ValueError, match='no sort key'):
        version_keys(['1.0'], 'apk')
    assert version_keys(['1:2.0-1', '2.0-1', '0:2.0-1'], 'deb') == [version_key(v, 'deb') for v in ('1:2.0-1', '2.0-1', '0:2.0-1')]


def _key_sign(first, second, scheme):
    key_first, key_second = version_key(first, scheme), version_key(second, scheme)
    return (key_first > key_second) - (key_first < key_second)


def test_valid_versions_validate():
    for scheme, table in TABLES:
        for a, b, _expected in table:
            validate_version(a, scheme)
            validate_version(b, scheme)


def test_unknown_scheme():
    with pytest.raises(ValueError, match='unknown version scheme'):
        compare_versions('1', '2', 'nope')
    with pytest.raises(ValueError, match='no sort key'):
        version_key('1.0', 'apk')


def test_every_scheme_listed():
    for scheme in SCHEMES:
        assert compare_versions('1.0.0', '1.0.0', scheme) == 0


@pytest.mark.parametrize(
    'ecosystem, scheme',
    [
        ('Debian', 'deb'),
        ('Debian:12', 'deb'),
        ('Ubuntu:22.04', 'deb'),
        ('Ubuntu:Pro:18.04:LTS', 'deb'),
        ('Alpine:v3.19', 'apk'),
        ('Red Hat', 'rpm'),
        ('Red Hat:enterprise_linux:9::appstream', 'rpm'),
        ('Rocky Linux:9', 'rpm'),
        ('AlmaLinux:8', 'rpm'),
        ('openSUSE', 'rpm'),
        ('SUSE:Linux Enterprise Server 15 SP5', 'rpm'),
        ('PyPI', 'pep440'),
        ('npm', 'semver'),
        ('Go', 'semver'),
        ('crates.io', 'semver'),
        ('Maven', 'generic'),
    ],
)
def test_scheme_for_ecosystem(ecosystem, scheme):
    assert scheme_for_ecosystem(ecosystem) == scheme


@pytest.mark.parametrize('ecosystem', ['', 'Debain', 'debian', None])
def test_unknown_ecosystem(ecosystem):
    with pytest.raises(ValueError, match='unknown ecosystem'):
        scheme_for_ecosystem(ecosystem)

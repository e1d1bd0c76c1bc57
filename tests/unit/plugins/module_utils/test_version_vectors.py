"""The upstream projects' own version-ordering test vectors, every row through compare_versions.

``fixtures/version_vectors/`` holds, unchanged, the comparisons that dpkg, rpm, apk-tools,
pypa/packaging, node-semver, the SemVer specification and ansible-core assert in their own test
suites (formats, provenance and licences in its README.md).  Every row must pass: a disagreement
is a bug in versions.py, never a reason to edit or skip a row.  Each test collects all failing rows
of a file before failing, so one run shows the whole extent of a bug.
"""

from __future__ import annotations

import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.versions import (
    SCHEMES,
    compare_versions,
    validate_version,
    version_key,
)

VECTORS = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'version_vectors')

# Data rows per file, so that a truncated copy or a reader that drops rows fails
# loudly instead of passing on less data.  Update together with the fixtures.
ROWS = {
    'apk_apk-tools.tsv': 1386,
    'apk_apk-tools_invalid.txt': 27,
    'apk_apk-tools_valid.txt': 6,
    'deb_dpkg.tsv': 188,
    'deb_dpkg_invalid.txt': 13,
    'deb_dpkg_lenient.txt': 54,
    'deb_dpkg_valid.txt': 17,
    'pep440_packaging.tsv': 8706,
    'pep440_packaging_invalid.txt': 21,
    'rpm_rpm-oddities.tsv': 12,
    'rpm_rpm.tsv': 101,
    'semver_ansible-core.tsv': 68,
    'semver_ansible-core_invalid.txt': 38,
    'semver_ansible-core_valid.txt': 31,
    'semver_node-semver.tsv': 121,
    'semver_node-semver_invalid.txt': 7,
    'semver_node-semver_valid.txt': 24,
    'semver_semver-spec.tsv': 98,
    'semver_semver-spec_valid.txt': 9,
}
# Files that document rather than assert: the README's provenance, the upstream cases not
# translated (skipped.txt), and the disagreements a check may allow (none, see below).
DOCUMENTATION_FILES = {'README.md', 'skipped.txt', 'known_ambiguous.tsv'}

# A version every scheme accepts, to compare the _valid and _invalid lists against.
REFERENCE = {'deb': '1.0', 'rpm': '1.0', 'apk': '1.0', 'pep440': '1.0', 'semver': '1.0.0'}
# The schemes version_key orders; its order must agree with every row.
KEYED = ('deb', 'rpm', 'semver')


def _rows(name):
    """(line number, fields) of each data row; fields decoded from their JSON-string-body form."""
    with open(os.path.join(VECTORS, name), encoding='ascii') as handle:
        for number, text in enumerate(handle, 1):
            line = text.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            fields = line.split('\t')
            yield number, [json.loads('"%s"' % field) for field in fields[:-1]] + fields[-1:]


def _scheme(name):
    scheme = name.split('_', 1)[0]
    assert scheme in SCHEMES, name
    return scheme


def _sign(a, b):
    return (a > b) - (a < b)


def _outcome(a, b, scheme):
    try:
        return compare_versions(a, b, scheme)
    except ValueError as exc:
        return 'ValueError: %s' % exc


def _files(suffix):
    return sorted(name for name in ROWS if name.endswith(suffix))


def test_every_fixture_file_is_run():
    assert set(os.listdir(VECTORS)) == set(ROWS) | DOCUMENTATION_FILES


@pytest.mark.parametrize('name', sorted(ROWS))
def test_row_count(name):
    assert sum(1 for _row in _rows(name)) == ROWS[name]


def test_no_disagreement_is_allowed():
    # known_ambiguous.tsv lists disagreements a check may tolerate.  It is empty upstream and
    # stays empty here: every row must pass.
    assert list(_rows('known_ambiguous.tsv')) == []


@pytest.mark.parametrize('name', _files('.tsv'))
def test_comparisons(name):
    scheme = _scheme(name)
    failures = []
    for number, (a, b, expected_text, origin) in _rows(name):
        expected = int(expected_text)
        result = _outcome(a, b, scheme)
        if result != expected:
            failures.append((number, a, b, expected, result, origin))
        elif scheme in KEYED and _sign(version_key(a, scheme), version_key(b, scheme)) != expected:
            failures.append((number, a, b, expected, 'version_key disagrees', origin))
    assert failures == []


@pytest.mark.parametrize('name', _files('_invalid.txt'))
def test_invalid_versions_are_refused(name):
    scheme = _scheme(name)
    reference = REFERENCE[scheme]
    failures = []
    for number, (version, origin) in _rows(name):
        for a, b in ((version, reference), (reference, version), (version, version)):
            result = _outcome(a, b, scheme)
            if not (isinstance(result, str) and repr(version) in result):
                failures.append((number, version, (a, b), result, origin))
        with pytest.raises(ValueError):
            validate_version(version, scheme)
        if scheme in KEYED:
            with pytest.raises(ValueError):
                version_key(version, scheme)
    assert failures == []


@pytest.mark.parametrize('name', _files('_valid.txt'))
def test_valid_versions_compare(name):
    scheme = _scheme(name)
    reference = REFERENCE[scheme]
    failures = []
    for number, (version, origin) in _rows(name):
        validate_version(version, scheme)
        forward = _outcome(version, reference, scheme)
        backward = _outcome(reference, version, scheme)
        itself = _outcome(version, version, scheme)
        if forward not in (-1, 0, 1) or backward != -forward or itself != 0:
            failures.append((number, version, forward, backward, itself, origin))
        elif scheme in KEYED and _sign(version_key(version, scheme), version_key(reference, scheme)) != forward:
            failures.append((number, version, 'version_key disagrees', origin))
    assert failures == []


def test_lenient_deb_versions_are_refused_or_ordered_consistently():
    # dpkg only warns about these (README: informational, never fails the check).  We refuse
    # characters dpkg warns about and accept a non-digit start, so each string is either refused
    # everywhere with its name in the message, or valid and ordered antisymmetrically.
    for _number, (version, _origin) in _rows('deb_dpkg_lenient.txt'):
        forward = _outcome(version, '1.0', 'deb')
        if isinstance(forward, str):
            assert repr(version) in forward
            with pytest.raises(ValueError):
                validate_version(version, 'deb')
            with pytest.raises(ValueError):
                version_key(version, 'deb')
        else:
            validate_version(version, 'deb')
            assert compare_versions('1.0', version, 'deb') == -forward
            assert _sign(version_key(version, 'deb'), version_key('1.0', 'deb')) == forward

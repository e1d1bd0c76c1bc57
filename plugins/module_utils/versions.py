# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exact version ordering for the packaging ecosystems advisories are filed against.

``compare_versions(a, b, scheme)`` returns -1, 0 or 1 with the ordering the
ecosystem's own tools use:

``deb``
    ``dpkg --compare-versions``: ``[epoch:]upstream[-revision]``, the revision
    split on the last hyphen; in each part non-digit runs compare character by
    character (``~`` before the end of the run, the end before letters, letters
    before other characters) and digit runs compare as numbers.
``rpm``
    ``rpm.labelCompare`` of rpm 4.18 on ``[epoch:]version[-release]``: epochs as
    numbers, then ``rpmvercmp`` on version and release (alphanumeric segments,
    numbers beat letters, ``~`` sorts before everything, ``^`` after the end but
    before anything else, leading zeros ignored).
``apk``
    Alpine's apk-tools: dotted numbers, an optional letter, suffixes
    ``_alpha`` < ``_beta`` < ``_pre`` < ``_rc`` < (none) < ``_cvs`` < ``_svn`` <
    ``_git`` < ``_hg`` < ``_p`` each with an optional number, then ``-rN``.
``pep440``
    Python packages, through ``packaging.version.Version``.
``semver``
    SemVer 2.0.0 precedence; a leading ``v`` is accepted (Go modules), build
    metadata is ignored.
``generic``
    A fallback for dotted versions of ecosystems without a rule of their own:
    the string splits into runs of digits and runs of letters (other characters
    only separate); digit runs compare as numbers, letter runs case-insensitively,
    a number beats a letter run at the same position, and missing parts count
    as zero, so ``1.0 == 1.0.0 < 1.0.1`` and ``1.0rc1 < 1.0 < 1.0.1``.

An invalid version for its scheme raises ``ValueError`` naming the string and
the scheme; it is never ordered silently.

``version_key(version, scheme)`` returns a key with the same order for
``deb``, ``rpm`` and ``semver``: a ``str`` whose plain string comparison (and so
SQLite's ``BINARY`` collation) agrees with ``compare_versions``; equal versions
(``1.0`` and ``1.00``) give equal keys.  Keys never contain NUL characters.

Standard library only: this module also runs on managed hosts (Python 3.9+).
"""

from __future__ import annotations

import re

SCHEMES = ('deb', 'rpm', 'apk', 'pep440', 'semver', 'generic')

# ---------------------------------------------------------------------------
# deb

_DEB_UPSTREAM_OK = re.compile(r'[A-Za-z0-9.+~:-]+\Z')
_DEB_REVISION_OK = re.compile(r'[A-Za-z0-9.+~]+\Z')

# Character order inside non-digit runs, as dpkg's order(): '~' first, then the
# end of the run, then letters, then everything else.  Mapped onto code points
# so that plain string comparison gives dpkg's order: '~' -> 1, end -> 2,
# letters keep their ASCII code (65-122), other characters move above 128.
_DEB_CHAR_ORDER = {ord('~'): '\x01'}
_DEB_CHAR_ORDER.update((c, chr(0x80 + c)) for c in range(0x21, 0x7F) if not chr(c).isalnum() and c != ord('~'))
_DEB_END = '\x02'
# The key of a part ends here: it sorts above '~' and below any character, the
# way the implicit end of a string does in dpkg.
_DEB_PART_END = '\x02\x01\x02'   # END, the number 0 (_number_key('')), END


def _deb_split(version):
    """Split a Debian version into (epoch, upstream, revision); raise on what dpkg rejects."""
    if not isinstance(version, str):
        raise ValueError('invalid deb version %r: not a string' % (version,))
    text = version.strip()
    if not text:
        raise ValueError('invalid deb version %r: empty' % version)
    if any(c.isspace() for c in text):
        raise ValueError('invalid deb version %r: embedded spaces' % version)
    epoch = 0
    if ':' in text:
        epoch_text, text = text.split(':', 1)
        if not epoch_text.isdigit() or not epoch_text.isascii():
            raise ValueError('invalid deb version %r: epoch is not a number' % version)
        if not text:
            raise ValueError('invalid deb version %r: nothing after the epoch colon' % version)
        epoch = int(epoch_text)
    upstream, hyphen, revision = text.rpartition('-')
    if not hyphen:
        upstream, revision = text, ''
    elif not revision:
        raise ValueError('invalid deb version %r: empty revision' % version)
    if not upstream:
        raise ValueError('invalid deb version %r: empty upstream version' % version)
    if not _DEB_UPSTREAM_OK.match(upstream) or (revision and not _DEB_REVISION_OK.match(revision)):
        raise ValueError('invalid deb version %r: invalid character' % version)
    return epoch, upstream, revision


# Hot path: most versions match one of these; anything else goes through
# _deb_split, which strips whitespace or raises the precise error.
_DEB_WITH_REVISION = re.compile(r'(?:([0-9]+):)?([0-9A-Za-z.+~:-]+)-([0-9A-Za-z.+~]+)\Z').match
_DEB_WITHOUT_REVISION = re.compile(r'(?:([0-9]+):)?([0-9A-Za-z.+~:]+)()\Z').match
_DIGIT_RUNS = re.compile(r'([0-9]+)').split


def _deb_fields(version):
    match = _DEB_WITH_REVISION(version) or _DEB_WITHOUT_REVISION(version)
    if match is None:
        return _deb_split(version)
    epoch, upstream, revision = match.groups()
    if epoch is None:
        if ':' in upstream:
            return _deb_split(version)
        return 0, upstream, revision
    return int(epoch), upstream, revision


def _deb_part_cmp(a, b):
    """dpkg's verrevcmp on one part (upstream or revision)."""
    if a == b:
        return 0
    # Alternating non-digit and digit runs: [run, digits, run, ..., run].
    runs_a = _DIGIT_RUNS(a)
    runs_b = _DIGIT_RUNS(b)
    len_a, len_b = len(runs_a), len(runs_b)
    index = 0
    shortest = min(len_a, len_b)
    while index < shortest and runs_a[index] == runs_b[index]:
        index += 1
    longest = max(len_a, len_b)
    while index < longest:
        # A part that has ended continues as empty runs and zeros.
        run_a = runs_a[index] if index < len_a else ''
        run_b = runs_b[index] if index < len_b else ''
        if run_a != run_b:
            if index % 2:
                number_a = int(run_a) if run_a else 0
                number_b = int(run_b) if run_b else 0
                if number_a != number_b:
                    return -1 if number_a < number_b else 1
            else:
                key_a = run_a.translate(_DEB_CHAR_ORDER) + _DEB_END
                key_b = run_b.translate(_DEB_CHAR_ORDER) + _DEB_END
                return -1 if key_a < key_b else 1
        index += 1
    return 0


def _deb_cmp(a, b):
    if a == b:
        return 0
    epoch_a, upstream_a, revision_a = _deb_fields(a)
    epoch_b, upstream_b, revision_b = _deb_fields(b)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _deb_part_cmp(upstream_a, upstream_b) or _deb_part_cmp(revision_a, revision_b)


def _number_key(digits):
    """A string key ordering non-negative integers (given as digit strings) numerically.

    The length comes first (shifted by one: keys never contain NUL, which
    SQLite's JSON functions and some C APIs treat as the end of a string).
    """
    digits = digits.lstrip('0')
    if len(digits) > 0xFFFF:
        raise ValueError('number too long to order: %s...' % digits[:20])
    return chr(len(digits) + 1) + digits


_DEB_EMPTY_PIECE = _DEB_END + '\x01'    # an empty non-digit run followed by the number 0


def _deb_part_key(part):
    runs = _DIGIT_RUNS(part)    # [non-digits, digits, non-digits, ..., non-digits]
    pieces = []
    for index in range(0, len(runs) - 1, 2):
        digits = runs[index + 1].lstrip('0')
        pieces.append(runs[index].translate(_DEB_CHAR_ORDER) + _DEB_END + chr(len(digits) + 1) + digits)
    pieces.append(runs[-1].translate(_DEB_CHAR_ORDER) + _DEB_EMPTY_PIECE)
    # Trailing empty runs and zeros compare like the end of the string: drop them.
    while pieces and pieces[-1] == _DEB_EMPTY_PIECE:
        pieces.pop()
    return ''.join(pieces) + _DEB_PART_END


def _deb_key(version):
    epoch, upstream, revision = _deb_fields(version)
    return _number_key(str(epoch)) + _deb_part_key(upstream) + _deb_part_key(revision)


# ---------------------------------------------------------------------------
# rpm

_RPM_SEGMENTS = re.compile(r'[^A-Za-z0-9~^]*(?:(~)|(\^)|([0-9]+)|([A-Za-z]+))')


_RPM_WITH_RELEASE = re.compile(r'(?:([0-9]+):)?([^\s:]+)-([^\s:-]*)\Z').match
_RPM_WITHOUT_RELEASE = re.compile(r'(?:([0-9]+):)?([^\s:-]+)()\Z').match


def _rpm_fields(version):
    """_rpm_split's result; the common shapes skip its checks."""
    match = _RPM_WITH_RELEASE(version) if isinstance(version, str) else None
    if match is None:
        match = _RPM_WITHOUT_RELEASE(version) if isinstance(version, str) else None
        if match is None:
            return _rpm_split(version)
        epoch, ver, _none = match.groups()
        return (int(epoch) if epoch else 0), ver, None
    epoch, ver, release = match.groups()
    return (int(epoch) if epoch else 0), ver, release


def _rpm_split(version):
    """Split ``[epoch:]version[-release]`` as rpm does; release is None when absent.

    rpm.labelCompare orders a missing release before any release, even an
    empty one (``1.0-``) or one that starts with ``~``.
    """
    if not isinstance(version, str):
        raise ValueError('invalid rpm version %r: not a string' % (version,))
    if not version or any(c.isspace() for c in version):
        raise ValueError('invalid rpm version %r: empty or contains whitespace' % version)
    epoch = 0
    rest = version
    head, colon, tail = version.partition(':')
    if colon:
        if not head.isdigit() or not head.isascii():
            raise ValueError('invalid rpm version %r: epoch is not a number' % version)
        epoch = int(head)
        rest = tail
    ver, hyphen, release = rest.rpartition('-')
    if not hyphen:
        if not rest:
            raise ValueError('invalid rpm version %r: empty version' % version)
        return epoch, rest, None
    if not ver:
        raise ValueError('invalid rpm version %r: empty version' % version)
    return epoch, ver, release


def _rpmvercmp(a, b):
    """rpm 4.18's rpmvercmp()."""
    if a == b:
        return 0
    segs_a = _RPM_SEGMENTS.findall(a)
    segs_b = _RPM_SEGMENTS.findall(b)
    n_a, n_b = len(segs_a), len(segs_b)
    # Identical segments compare equal whatever they are: skip them at C speed.
    i = 0
    shortest = min(n_a, n_b)
    while i < shortest and segs_a[i] == segs_b[i]:
        i += 1
    while True:
        seg_a = segs_a[i] if i < n_a else None
        seg_b = segs_b[i] if i < n_b else None
        i += 1
        tilde_a = seg_a is not None and seg_a[0] != ''
        tilde_b = seg_b is not None and seg_b[0] != ''
        if tilde_a or tilde_b:
            if not tilde_a:
                return 1
            if not tilde_b:
                return -1
            continue
        caret_a = seg_a is not None and seg_a[1] != ''
        caret_b = seg_b is not None and seg_b[1] != ''
        if caret_a or caret_b:
            if seg_a is None:
                return -1
            if seg_b is None:
                return 1
            if not caret_a:
                return 1
            if not caret_b:
                return -1
            continue
        if seg_a is None or seg_b is None:
            if seg_a is None and seg_b is None:
                return 0
            return -1 if seg_a is None else 1
        num_a, alpha_a = seg_a[2], seg_a[3]
        num_b, alpha_b = seg_b[2], seg_b[3]
        if num_a:
            if not num_b:
                return 1  # a number beats letters
            num_a = num_a.lstrip('0')
            num_b = num_b.lstrip('0')
            if len(num_a) != len(num_b):
                return -1 if len(num_a) < len(num_b) else 1
            if num_a != num_b:
                return -1 if num_a < num_b else 1
        else:
            if num_b:
                return -1
            if alpha_a != alpha_b:
                return -1 if alpha_a < alpha_b else 1


def _rpm_cmp(a, b):
    if a == b:
        return 0
    epoch_a, version_a, release_a = _rpm_fields(a)
    epoch_b, version_b, release_b = _rpm_fields(b)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    result = _rpmvercmp(version_a, version_b)
    if result or release_a == release_b:
        return result
    if release_a is None or release_b is None:
        return -1 if release_a is None else 1
    return _rpmvercmp(release_a, release_b)


# rpm key: segments become  '~' -> \x02, end -> \x03, '^' -> \x04,
# letters -> \x05 + text + \x01 (a shorter run sorts first), numbers -> \x06 + length + digits.
# A missing release is \x01, below everything.
def _rpm_part_key(part):
    pieces = []
    for tilde, caret, digits, alpha in _RPM_SEGMENTS.findall(part):
        if tilde:
            pieces.append('\x02')
        elif caret:
            pieces.append('\x04')
        elif digits:
            pieces.append('\x06' + _number_key(digits))
        else:
            pieces.append('\x05' + alpha + '\x01')
    return ''.join(pieces) + '\x03'


def _rpm_key(version):
    epoch, ver, release = _rpm_split(version)
    # '\x01' puts a missing release below every release, '~' ones included.
    release_key = '\x01' if release is None else _rpm_part_key(release)
    return _number_key(str(epoch)) + _rpm_part_key(ver) + release_key


# ---------------------------------------------------------------------------
# apk

_APK = re.compile(
    r'(?P<numbers>[0-9]+(?:\.[0-9]+)*)(?P<letter>[a-z]?)'
    r'(?P<suffixes>(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*)'
    r'(?:~(?P<commit>[0-9a-f]+))?(?:-r(?P<revision>[0-9]+))?\Z'
)
_APK_SUFFIX = re.compile(r'_(alpha|beta|pre|rc|cvs|svn|git|hg|p)([0-9]*)')
# Pre-release suffixes sort below no suffix (0), post-release ones above it.
_APK_SUFFIX_RANK = {'alpha': -4, 'beta': -3, 'pre': -2, 'rc': -1, 'cvs': 1, 'svn': 2, 'git': 3, 'hg': 4, 'p': 5}


def _apk_parse(version):
    match = _APK.match(version) if isinstance(version, str) else None
    if not match:
        raise ValueError('invalid apk version %r' % (version,))
    numbers = match.group('numbers').split('.')
    suffixes = [(_APK_SUFFIX_RANK[name], int(num or 0)) for name, num in _APK_SUFFIX.findall(match.group('suffixes'))]
    return numbers, match.group('letter'), suffixes, match.group('commit') or '', int(match.group('revision') or 0)


def _apk_component_cmp(a, b, first):
    # apk compares the first number as an integer and later ones as decimal
    # fractions when either starts with a zero (1.02 < 1.1).
    if first or not (a.startswith('0') or b.startswith('0')):
        a_int, b_int = int(a), int(b)
        return (a_int > b_int) - (a_int < b_int)
    a_frac, b_frac = a.rstrip('0'), b.rstrip('0')
    return (a_frac > b_frac) - (a_frac < b_frac)


def _apk_cmp(a, b):
    if a == b:
        return 0
    numbers_a, letter_a, suffixes_a, commit_a, revision_a = _apk_parse(a)
    numbers_b, letter_b, suffixes_b, commit_b, revision_b = _apk_parse(b)
    for index, (num_a, num_b) in enumerate(zip(numbers_a, numbers_b)):
        result = _apk_component_cmp(num_a, num_b, index == 0)
        if result:
            return result
    if len(numbers_a) != len(numbers_b):
        # More dotted components win over anything that follows the shorter one,
        # except a pre-release suffix which loses anyway.
        return -1 if len(numbers_a) < len(numbers_b) else 1
    if letter_a != letter_b:
        return -1 if letter_a < letter_b else 1
    for (rank_a, num_a), (rank_b, num_b) in zip(suffixes_a, suffixes_b):
        if rank_a != rank_b:
            return -1 if rank_a < rank_b else 1
        if num_a != num_b:
            return -1 if num_a < num_b else 1
    if len(suffixes_a) != len(suffixes_b):
        extra_a = suffixes_a[len(suffixes_b)] if len(suffixes_a) > len(suffixes_b) else None
        extra_b = suffixes_b[len(suffixes_a)] if len(suffixes_b) > len(suffixes_a) else None
        if extra_a is not None:
            return -1 if extra_a[0] < 0 else 1
        return 1 if extra_b[0] < 0 else -1
    if commit_a != commit_b:
        return -1 if commit_a < commit_b else 1
    return (revision_a > revision_b) - (revision_a < revision_b)


# ---------------------------------------------------------------------------
# pep440

def _pep440_parse(version):
    try:
        # Imported here: only this scheme needs packaging, and managed hosts may lack it.
        from packaging.version import InvalidVersion, Version  # noqa: PLC0415
    except ImportError as exc:
        raise ValueError('the pep440 scheme needs the Python library "packaging" (pip install packaging): %s' % exc) from exc
    try:
        return Version(version)
    except (InvalidVersion, TypeError) as exc:
        raise ValueError('invalid pep440 version %r: %s' % (version, exc)) from exc


def _pep440_cmp(a, b):
    version_a, version_b = _pep440_parse(a), _pep440_parse(b)
    return (version_a > version_b) - (version_a < version_b)


# ---------------------------------------------------------------------------
# semver

_SEMVER = re.compile(
    r'v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)'
    r'(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?'
    r'(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z'
)


def _semver_parse(version):
    match = _SEMVER.match(version) if isinstance(version, str) else None
    if not match:
        raise ValueError('invalid semver version %r' % (version,))
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch)), (pre.split('.') if pre else [])


def _semver_identifier_key(identifier):
    # Numeric identifiers sort numerically and below alphanumeric ones.
    if identifier.isdigit():
        return (0, int(identifier), '')
    return (1, 0, identifier)


def _semver_cmp(a, b):
    core_a, pre_a = _semver_parse(a)
    core_b, pre_b = _semver_parse(b)
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    if pre_a == pre_b:
        return 0
    if not pre_a or not pre_b:
        return 1 if not pre_a else -1  # a release beats its pre-releases
    key_a = [_semver_identifier_key(i) for i in pre_a]
    key_b = [_semver_identifier_key(i) for i in pre_b]
    return (key_a > key_b) - (key_a < key_b)


def _semver_key(version):
    (major, minor, patch), pre = _semver_parse(version)
    key = _number_key(str(major)) + _number_key(str(minor)) + _number_key(str(patch))
    if not pre:
        return key + '\x04'
    pieces = []
    for identifier in pre:
        if identifier.isdigit():
            pieces.append('\x05' + _number_key(identifier))
        else:
            pieces.append('\x06' + identifier + '\x01')
    # '\x02' ends the pre-release list: fewer identifiers sort first.
    return key + '\x03' + ''.join(pieces) + '\x02'


# ---------------------------------------------------------------------------
# generic

_GENERIC_TOKENS = re.compile(r'[0-9]+|[A-Za-z]+')


def _generic_key(version):
    if not isinstance(version, str) or not version.strip():
        raise ValueError('invalid generic version %r: empty' % (version,))
    tokens = _GENERIC_TOKENS.findall(version)
    if not tokens:
        raise ValueError('invalid generic version %r: no digits or letters' % version)
    return [(1, int(token), '') if token.isdigit() else (0, 0, token.lower()) for token in tokens]


def _generic_cmp(a, b):
    key_a, key_b = _generic_key(a), _generic_key(b)
    for item_a, item_b in zip(key_a, key_b):
        if item_a != item_b:
            return -1 if item_a < item_b else 1
    # Missing parts count as zero: 1.0 == 1.0.0 < 1.0.1, and a trailing letter
    # run is a pre-release (1.0rc1 < 1.0).
    shorter = min(len(key_a), len(key_b))
    longer_sign = 1 if len(key_a) > len(key_b) else -1
    for is_number, number, _letters in (key_a if longer_sign == 1 else key_b)[shorter:]:
        if not is_number:
            return -longer_sign
        if number:
            return longer_sign
    return 0


# ---------------------------------------------------------------------------
# public API

_COMPARATORS = {
    'deb': _deb_cmp,
    'rpm': _rpm_cmp,
    'apk': _apk_cmp,
    'pep440': _pep440_cmp,
    'semver': _semver_cmp,
    'generic': _generic_cmp,
}

_KEYS = {
    'deb': _deb_key,
    'rpm': _rpm_key,
    'semver': _semver_key,
}


def compare_versions(a, b, scheme):
    """Return -1, 0 or 1 as version ``a`` is older than, equal to or newer than ``b``."""
    try:
        comparator = _COMPARATORS[scheme]
    except (KeyError, TypeError):
        raise ValueError('unknown version scheme %r; known: %s' % (scheme, ', '.join(SCHEMES))) from None
    return comparator(a, b)


_PARSERS = {
    'deb': _deb_split,
    'rpm': _rpm_split,
    'apk': _apk_parse,
    'pep440': _pep440_parse,
    'semver': _semver_parse,
    'generic': _generic_key,
}


def validate_version(version, scheme):
    """Raise ValueError when ``version`` is not a valid version of ``scheme``."""
    try:
        parser = _PARSERS[scheme]
    except (KeyError, TypeError):
        raise ValueError('unknown version scheme %r; known: %s' % (scheme, ', '.join(SCHEMES))) from None
    parser(version)


def version_key(version, scheme):
    """A ``str`` whose string order is the version order (deb, rpm, semver).

    Equal versions give equal keys.  Raises ValueError for other schemes or an
    invalid version.
    """
    try:
        key_function = _KEYS[scheme]
    except (KeyError, TypeError):
        raise ValueError('no sort key for version scheme %r; keys exist for: %s' % (scheme, ', '.join(sorted(_KEYS)))) from None
    return key_function(version)


# OSV ecosystem names (the part before the first colon) and their version order.
_ECOSYSTEM_SCHEMES = {
    'Debian': 'deb',
    'Ubuntu': 'deb',
    'Alpine': 'apk',
    'Chainguard': 'apk',
    'Wolfi': 'apk',
    'MinimOS': 'apk',
    'AlmaLinux': 'rpm',
    'Azure Linux': 'rpm',
    'Mageia': 'rpm',
    'openEuler': 'rpm',
    'openSUSE': 'rpm',
    'Photon OS': 'rpm',
    'Red Hat': 'rpm',
    'Rocky Linux': 'rpm',
    'SUSE': 'rpm',
    'PyPI': 'pep440',
    'npm': 'semver',
    'Go': 'semver',
    'crates.io': 'semver',
    'Hex': 'semver',
    'Pub': 'semver',
    # Ecosystems whose own ordering this module does not implement exactly;
    # the generic order is right for their common dotted versions.
    'Maven': 'generic',
    'NuGet': 'generic',
    'Packagist': 'generic',
    'RubyGems': 'generic',
    'Hackage': 'generic',
    'GHC': 'generic',
    'CRAN': 'generic',
    'Bioconductor': 'generic',
    'SwiftURL': 'generic',
    'GitHub Actions': 'generic',
    'Bitnami': 'generic',
    'Android': 'generic',
    'Linux': 'generic',
    'OSS-Fuzz': 'generic',
}


def scheme_for_ecosystem(ecosystem):
    """Return the version scheme of an OSV ecosystem name such as ``Debian:12`` or ``PyPI``."""
    if not isinstance(ecosystem, str):
        raise ValueError('unknown ecosystem %r' % (ecosystem,))
    base = ecosystem.split(':', 1)[0]
    try:
        return _ECOSYSTEM_SCHEMES[base]
    except KeyError:
        raise ValueError('unknown ecosystem %r; known: %s' % (ecosystem, ', '.join(sorted(_ECOSYSTEM_SCHEMES)))) from None

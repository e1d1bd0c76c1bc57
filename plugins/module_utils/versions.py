# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exact version ordering for the packaging ecosystems advisories are filed against.

``compare_versions(a, b, scheme)`` returns -1, 0 or 1 with the ordering the
ecosystem's own tools use:

``deb``
    dpkg's ``verrevcmp`` (``dpkg --compare-versions``) on
    ``[epoch:]upstream[-revision]``: the epoch a number from 0 to 2147483647
    (dpkg refuses larger ones), the revision split on the last hyphen; in each
    part non-digit runs compare character by character (``~`` before the end
    of the run, the end before letters, letters before other characters) and
    digit runs compare as numbers.  Characters dpkg only warns about are refused.
``rpm``
    ``rpm.labelCompare`` of rpm 4.18 on ``[epoch:]version[-release]``: epochs as
    numbers, then ``rpmvercmp`` on version and release (alphanumeric segments,
    numbers beat letters, ``~`` sorts before everything, ``^`` after the end but
    before anything else, leading zeros ignored).
``apk``
    apk-tools' ``apk_version_compare`` (Alpine): dotted numbers, an optional
    letter, suffixes ``_alpha`` < ``_beta`` < ``_pre`` < ``_rc`` < (none) <
    ``_cvs`` < ``_svn`` < ``_git`` < ``_hg`` < ``_p`` each with an optional
    number, a ``~`` commit hash, then ``-rN``; versions ``apk_version_validate``
    rejects are refused.  Compared token by token as apk-tools does, so a dotted
    number with a leading zero compares as a string (``1.02 < 1.1``,
    ``1.0 < 1.00``) and ``1.0 < 1.0-r0``, ``1.0_p < 1.0_p0``.
``pep440``
    Python packages, through ``packaging.version.Version``.
``semver``
    SemVer 2.0.0 precedence, as node-semver's strict mode; a leading ``v`` is
    accepted (Go modules), build metadata is ignored.
``generic``
    A fallback for dotted versions of ecosystems without a rule of their own:
    the string splits into runs of digits and runs of letters (other characters
    only separate); digit runs compare as numbers, letter runs case-insensitively,
    a number beats a letter run at the same position, and missing parts count
    as zero, so ``1.0 == 1.0.0 < 1.0.1`` and ``1.0rc1 < 1.0 < 1.0.1``.

The unit tests run the upstream projects' own test vectors (dpkg, rpm,
apk-tools, pypa/packaging, node-semver, the SemVer specification,
ansible-core) through ``compare_versions``.

An invalid version for its scheme raises ``ValueError`` naming the string and
the scheme, even when compared with itself; it is never ordered silently.

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
# shared

_DIGITS = '0123456789'


def _digits_cmp(a, b):
    """Order two runs of ASCII digits by value, however long (int() has a size limit)."""
    a = a.lstrip('0')
    b = b.lstrip('0')
    if a == b:
        return 0
    if len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return -1 if a < b else 1


# ---------------------------------------------------------------------------
# deb

_DEB_UPSTREAM_OK = re.compile(r'[A-Za-z0-9.+~:-]+\Z')
_DEB_REVISION_OK = re.compile(r'[A-Za-z0-9.+~]+\Z')
# dpkg's parseversion() refuses an epoch above INT_MAX ("epoch in version is too big").
_DEB_EPOCH_MAX = 2147483647

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
        # Length first: int() refuses very long digit strings with a message naming neither.
        significant = epoch_text.lstrip('0')
        if len(significant) > len(str(_DEB_EPOCH_MAX)) or int(significant or '0') > _DEB_EPOCH_MAX:
            raise ValueError('invalid deb version %r: epoch is above %d, which dpkg refuses' % (version, _DEB_EPOCH_MAX))
        if not text:
            raise ValueError('invalid deb version %r: nothing after the epoch colon' % version)
        epoch = int(significant or '0')
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


# Most versions match one of these; anything else goes through _deb_split,
# which strips whitespace, checks the epoch's range or raises the precise
# error.  Nine epoch digits stay below _DEB_EPOCH_MAX.
_DEB_WITH_REVISION = re.compile(r'(?:([0-9]{1,9}):)?([0-9A-Za-z.+~:-]+)-([0-9A-Za-z.+~]+)\Z').match
_DEB_WITHOUT_REVISION = re.compile(r'(?:([0-9]{1,9}):)?([0-9A-Za-z.+~:]+)()\Z').match
_DIGIT_RUNS = re.compile(r'([0-9]+)').split


def _deb_fields(version):
    """(epoch, upstream, revision) of a valid Debian version; raise ValueError otherwise."""
    try:
        match = _DEB_WITH_REVISION(version) or _DEB_WITHOUT_REVISION(version)
    except TypeError:
        match = None    # not a string: _deb_split says so
    if match is None:
        return _deb_split(version)
    epoch, upstream, revision = match.groups()
    if epoch is None:
        if ':' in upstream:
            return _deb_split(version)
        return 0, upstream, revision
    return int(epoch), upstream, revision


def _deb_part_cmp(a, b):
    """dpkg's verrevcmp() on one part (upstream version or revision)."""
    # Alternating runs, non-digits first and last: [non-digits, digits, ..., non-digits].
    runs_a = _DIGIT_RUNS(a)
    runs_b = _DIGIT_RUNS(b)
    for run_a, run_b in zip(runs_a, runs_b):
        if run_a != run_b:
            if run_a[:1].isdigit():     # runs alternate in step, so both are digit runs
                # _digits_cmp, inline: this is the hot spot of most comparisons.
                digits_a = run_a.lstrip('0')
                digits_b = run_b.lstrip('0')
                if digits_a != digits_b:
                    if len(digits_a) != len(digits_b):
                        return -1 if len(digits_a) < len(digits_b) else 1
                    return -1 if digits_a < digits_b else 1
            else:
                key_a = run_a.translate(_DEB_CHAR_ORDER) + _DEB_END
                key_b = run_b.translate(_DEB_CHAR_ORDER) + _DEB_END
                return -1 if key_a < key_b else 1
    if len(runs_a) == len(runs_b):
        return 0
    # dpkg reads on past the end of the shorter part as empty runs and zeros:
    # the longer part wins at its first non-zero number or non-empty run,
    # unless that run starts with '~', which sorts before the end.
    longer, sign = (runs_a, 1) if len(runs_a) > len(runs_b) else (runs_b, -1)
    for index in range(min(len(runs_a), len(runs_b)), len(longer)):
        run = longer[index]
        if index % 2:
            if run.lstrip('0'):
                return sign
        elif run:
            return -sign if run[0] == '~' else sign
    return 0


# The common shape, validated by one match: no epoch, only characters dpkg
# accepts without a warning, no '-' at either end (so neither the upstream
# version nor the revision is empty).  The group is the leading digit run of the
# upstream version, which on its own orders most pairs of unrelated versions.
_DEB_PLAIN = re.compile(r'(?=[0-9A-Za-z.+~])([0-9]*)[0-9A-Za-z.+~-]*(?<!-)\Z').match


def _deb_cmp(a, b):
    try:
        plain_a = _DEB_PLAIN(a)
        plain_b = _DEB_PLAIN(b)
    except TypeError:
        plain_a = plain_b = None    # not strings: _deb_fields refuses them
    if plain_a is None or plain_b is None:
        return _deb_cmp_fields(_deb_fields(a), _deb_fields(b))
    if a == b:
        return 0
    # Different leading numbers decide at once, unless they differ only in leading zeros.
    lead_a = plain_a[1]
    lead_b = plain_b[1]
    if lead_a != lead_b and lead_a and lead_b:
        result = _digits_cmp(lead_a, lead_b)
        if result:
            return result
    # A security update usually changes only the last number (deb12u1 ->
    # deb12u2): when everything before it is the same, that number decides.
    stem = a.rstrip(_DIGITS)
    if stem == b.rstrip(_DIGITS):
        return _digits_cmp(a[len(stem):], b[len(stem):])
    upstream_a, hyphen, revision_a = a.rpartition('-')
    if not hyphen:
        upstream_a, revision_a = revision_a, ''
    upstream_b, hyphen, revision_b = b.rpartition('-')
    if not hyphen:
        upstream_b, revision_b = revision_b, ''
    return _deb_parts_cmp(upstream_a, revision_a, upstream_b, revision_b)


def _deb_cmp_fields(fields_a, fields_b):
    epoch_a, upstream_a, revision_a = fields_a
    epoch_b, upstream_b, revision_b = fields_b
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _deb_parts_cmp(upstream_a, revision_a, upstream_b, revision_b)


def _deb_parts_cmp(upstream_a, revision_a, upstream_b, revision_b):
    if upstream_a != upstream_b:
        result = _deb_part_cmp(upstream_a, upstream_b)
        if result:
            return result
    if revision_a == revision_b:
        return 0
    return _deb_part_cmp(revision_a, revision_b)


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


# A dot and the end of its non-digit run: what separates the numbers of a dotted version in its key.
_DEB_DOT_PIECE = '.'.translate(_DEB_CHAR_ORDER) + _DEB_END


def _deb_runs_key(part):
    """The key of any part, run by run."""
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


# The number keys of 0..999 as written, without leading zeros: most numbers of a version.
_SMALL_NUMBER_KEYS = {str(number): _number_key(str(number)) for number in range(1000)}


def _deb_part_key(part):
    numbers = part.split('.')
    if all(map(str.isdigit, numbers)) and (len(numbers) > 1 or part.lstrip('0')):
        # Most upstream versions are dotted numbers (2.36.1): _deb_runs_key's key in one join, twice as fast.
        # Nothing is dropped at the end: the last piece holds a dot, or the one number is not zero.
        return _DEB_END + _DEB_DOT_PIECE.join([_SMALL_NUMBER_KEYS.get(number) or _number_key(number) for number in numbers]) + _DEB_PART_END
    return _deb_runs_key(part)


def _deb_key(version):
    epoch, upstream, revision = _deb_fields(version)
    return _number_key(str(epoch)) + _deb_part_key(upstream) + _deb_part_key(revision)


# ---------------------------------------------------------------------------
# rpm

# rpmvercmp()'s segments: '~', '^', a run of digits or a run of ASCII letters;
# every other character only separates.
_RPM_SEGMENTS = re.compile(r'[^A-Za-z0-9~^]*([~^]|[0-9]+|[A-Za-z]+)').findall


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
    """rpm's rpmvercmp() (rpmio/rpmvercmp.c, rpm 4.18)."""
    segments_a = _RPM_SEGMENTS(a)
    segments_b = _RPM_SEGMENTS(b)
    for segment_a, segment_b in zip(segments_a, segments_b):
        if segment_a == segment_b:
            continue
        # '~' sorts before everything, '^' before everything but '~' and the end.
        if segment_a == '~' or segment_b == '~':
            return -1 if segment_a == '~' else 1
        if segment_a == '^' or segment_b == '^':
            return -1 if segment_a == '^' else 1
        numeric_a = segment_a.isdigit()
        if numeric_a != segment_b.isdigit():
            return 1 if numeric_a else -1    # a number beats letters
        if not numeric_a:
            return -1 if segment_a < segment_b else 1
        # _digits_cmp, inline: this is the hot spot of most comparisons.
        digits_a = segment_a.lstrip('0')
        digits_b = segment_b.lstrip('0')
        if digits_a != digits_b:
            if len(digits_a) != len(digits_b):
                return -1 if len(digits_a) < len(digits_b) else 1
            return -1 if digits_a < digits_b else 1
    # The version that has segments left wins, unless the next one is '~'.
    if len(segments_a) > len(segments_b):
        return -1 if segments_a[len(segments_b)] == '~' else 1
    if len(segments_a) < len(segments_b):
        return 1 if segments_b[len(segments_a)] == '~' else -1
    return 0


# The common shape, validated by one match: no epoch, no whitespace, no '-'
# first (so the version is not empty).  The group is the leading digit run,
# rpmvercmp's first segment, which on its own orders most unrelated versions.
_RPM_PLAIN = re.compile(r'(?=[^\s:-])([0-9]*)[^\s:]*\Z').match


def _rpm_cmp(a, b):
    try:
        plain_a = _RPM_PLAIN(a)
        plain_b = _RPM_PLAIN(b)
    except TypeError:
        plain_a = plain_b = None    # not strings: _rpm_split refuses them
    if plain_a is None or plain_b is None:
        return _rpm_cmp_fields(_rpm_split(a), _rpm_split(b))
    if a == b:
        return 0
    # Different leading numbers decide at once, unless they differ only in leading zeros.
    lead_a = plain_a[1]
    lead_b = plain_b[1]
    if lead_a != lead_b and lead_a and lead_b:
        result = _digits_cmp(lead_a, lead_b)
        if result:
            return result
    # A security update usually changes only the last number (el9_3 ->
    # el9_4): when everything before it is the same, that number decides, and
    # a missing number (1.0- against 1.0-1) is a missing segment, which loses.
    stem = a.rstrip(_DIGITS)
    if stem == b.rstrip(_DIGITS):
        last_a = a[len(stem):]
        last_b = b[len(stem):]
        if last_a and last_b:
            return _digits_cmp(last_a, last_b)
        return 1 if last_a else -1
    version_a, hyphen, release_a = a.rpartition('-')
    if not hyphen:
        version_a, release_a = release_a, None
    version_b, hyphen, release_b = b.rpartition('-')
    if not hyphen:
        version_b, release_b = release_b, None
    return _rpm_parts_cmp(version_a, release_a, version_b, release_b)


def _rpm_cmp_fields(fields_a, fields_b):
    epoch_a, version_a, release_a = fields_a
    epoch_b, version_b, release_b = fields_b
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _rpm_parts_cmp(version_a, release_a, version_b, release_b)


def _rpm_parts_cmp(version_a, release_a, version_b, release_b):
    if version_a != version_b:
        result = _rpmvercmp(version_a, version_b)
        if result:
            return result
    if release_a == release_b:
        return 0
    if release_a is None or release_b is None:
        return -1 if release_a is None else 1
    return _rpmvercmp(release_a, release_b)


# rpm key: segments become  '~' -> \x02, end -> \x03, '^' -> \x04,
# letters -> \x05 + text + \x01 (a shorter run sorts first), numbers -> \x06 + length + digits.
# A missing release is \x01, below everything.
def _rpm_part_key(part):
    pieces = []
    for segment in _RPM_SEGMENTS(part):
        if segment == '~':
            pieces.append('\x02')
        elif segment == '^':
            pieces.append('\x04')
        elif segment.isdigit():
            pieces.append('\x06' + _number_key(segment))
        else:
            pieces.append('\x05' + segment + '\x01')
    return ''.join(pieces) + '\x03'


def _rpm_key(version):
    epoch, ver, release = _rpm_split(version)
    # '\x01' puts a missing release below every release, '~' ones included.
    release_key = '\x01' if release is None else _rpm_part_key(release)
    return _number_key(str(epoch)) + _rpm_part_key(ver) + release_key


# ---------------------------------------------------------------------------
# apk
#
# apk-tools' src/version.c reads a version as a series of tokens (enum PARTS):
# the first number, each further dotted number, a letter, each suffix and its
# number, a commit hash, the revision, the end.  Two versions compare token by
# token while their kinds agree.  Where the kinds first differ, the version
# whose token kind comes earlier in that list is the newer, unless the other
# token is a pre-release suffix (_alpha, _beta, _pre, _rc), which loses.  So
# 1.0-r0 > 1.0 and 1.0_p0 > 1.0_p (END comes last), 1.0_alpha1_p < 1.0_alpha_p
# (a suffix number comes after a suffix), 1.0a < 1.0.1 (a letter after a number).

_APK = re.compile(
    r'(?P<numbers>[0-9]+(?:\.[0-9]+)*)(?P<letter>[a-z]?)'
    r'(?P<suffixes>(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*)'
    r'(?:~(?P<commit>[0-9a-f]+))?(?:-r(?P<revision>[0-9]+))?\Z'
)
_APK_SUFFIX = re.compile(r'_(alpha|beta|pre|rc|cvs|svn|git|hg|p)([0-9]*)')
# Pre-release suffixes sort below no suffix (0), post-release ones above it.
_APK_SUFFIX_RANK = {'alpha': -4, 'beta': -3, 'pre': -2, 'rc': -1, 'cvs': 1, 'svn': 2, 'git': 3, 'hg': 4, 'p': 5}
(_APK_FIRST_NUMBER, _APK_NUMBER, _APK_LETTER, _APK_SUFFIX_NAME, _APK_SUFFIX_NUMBER, _APK_COMMIT, _APK_REVISION,
 _APK_END) = range(8)


def _apk_tokens(version):
    """apk-tools' tokens of a version as (kind, value) pairs, ending with _APK_END."""
    match = _APK.match(version) if isinstance(version, str) else None
    if not match:
        raise ValueError('invalid apk version %r' % (version,))
    numbers = match.group('numbers').split('.')
    tokens = [(_APK_FIRST_NUMBER, numbers[0])]
    tokens.extend((_APK_NUMBER, number) for number in numbers[1:])
    if match.group('letter'):
        tokens.append((_APK_LETTER, match.group('letter')))
    for name, number in _APK_SUFFIX.findall(match.group('suffixes')):
        tokens.append((_APK_SUFFIX_NAME, _APK_SUFFIX_RANK[name]))
        if number:
            tokens.append((_APK_SUFFIX_NUMBER, number))
    if match.group('commit'):
        tokens.append((_APK_COMMIT, match.group('commit')))
    if match.group('revision') is not None:
        tokens.append((_APK_REVISION, match.group('revision')))
    tokens.append((_APK_END, ''))
    return tokens


def _apk_token_cmp(kind, a, b):
    """apk-tools' token_cmp() on two tokens of the same kind."""
    if kind == _APK_NUMBER and (a.startswith('0') or b.startswith('0')):
        # A later number with a leading zero compares as a string, as Gentoo
        # does: 1.02 < 1.1, 1.0 < 1.00, 1.01 < 1.010.
        return -1 if a < b else (1 if a > b else 0)
    if kind in (_APK_FIRST_NUMBER, _APK_NUMBER, _APK_SUFFIX_NUMBER, _APK_REVISION):
        # By value.  apk-tools reads numbers into a uint64_t, which wraps past
        # 2**64 - 1; no real version has such a number, and wrapping would
        # order 18446744073709551616 with 0.
        return _digits_cmp(a, b)
    # Letters and commit hashes compare as strings, suffixes by their rank.
    return -1 if a < b else (1 if a > b else 0)


def _apk_cmp(a, b):
    tokens_a = _apk_tokens(a)
    tokens_b = _apk_tokens(b)
    # Both lists end with _APK_END, so the loop decides before either runs out.
    for (kind_a, value_a), (kind_b, value_b) in zip(tokens_a, tokens_b):
        if kind_a != kind_b:
            if kind_a == _APK_SUFFIX_NAME and value_a < 0:
                return -1
            if kind_b == _APK_SUFFIX_NAME and value_b < 0:
                return 1
            return -1 if kind_a > kind_b else 1
        if value_a != value_b:
            result = _apk_token_cmp(kind_a, value_a, value_b)
            if result:
                return result
    return 0


# ---------------------------------------------------------------------------
# pep440

def _pep440_parse(version):
    try:
        # Imported here: only this scheme needs packaging, and managed hosts may lack it.
        from packaging.version import InvalidVersion, Version  # noqa: PLC0415
    except ImportError as exc:
        raise ValueError('the pep440 scheme needs the Python library "packaging" (pip install packaging): %s' % exc) from exc
    # PEP 440 versions are ASCII (surrounding whitespace, which is ignored, aside).
    # Some packaging releases (25.0 among them) match case-insensitively with
    # Unicode rules and so accept a few non-ASCII letters (1.0+\u0130).
    if isinstance(version, str) and not version.strip().isascii():
        raise ValueError('invalid pep440 version %r: not ASCII' % version)
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
    'apk': _apk_tokens,
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


def version_keys(versions, scheme):
    """``[version_key(version, scheme) for version in versions]``, built faster for the packages of a host.

    Debian epochs and revisions (``1``, ``2``, ``3+deb12u5``) repeat across a host's packages: the
    key of each distinct epoch, upstream version and revision is built once per call.
    """
    if scheme != 'deb':
        return [version_key(version, scheme) for version in versions]
    parts, epochs = {}, {}
    keys = []
    for version in versions:
        epoch, upstream, revision = _deb_fields(version)
        epoch_key = epochs.get(epoch)
        if epoch_key is None:
            epoch_key = epochs[epoch] = _number_key(str(epoch))
        upstream_key = parts.get(upstream)
        if upstream_key is None:
            upstream_key = parts[upstream] = _deb_part_key(upstream)
        revision_key = parts.get(revision)
        if revision_key is None:
            revision_key = parts[revision] = _deb_part_key(revision)
        keys.append(epoch_key + upstream_key + revision_key)
    return keys


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

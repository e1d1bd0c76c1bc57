# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Package sources whose signatures the package manager does not check.

apt: a source marked ``trusted=yes`` (or ``Trusted: yes``), or allowed to be
insecure, weak or downgraded to insecure; apt configuration that allows
unauthenticated packages or insecure repositories everywhere.  dnf: an enabled
repository with ``gpgcheck=0``.  Each finding names the file and line (or
stanza) and the source, so the operator knows what to fix.
"""

from __future__ import annotations

import configparser
import glob
import os
import re

# One-line and deb822 options that switch signature checking off or weaken it.
_INSECURE_OPTIONS = ('trusted', 'allow-insecure', 'allow-weak', 'allow-downgrade-to-insecure')
# apt configuration (lower-cased) that does the same for every source.
_INSECURE_SETTINGS = ('acquire::allowinsecurerepositories', 'apt::get::allowunauthenticated',
                      'acquire::allowdowngradetoinsecurerepositories', 'acquire::allowweakrepositories')
_TRUE = ('yes', 'true', '1', 'on', 'enable')


def _is_true(value):
    return str(value).strip().strip('"').lower() in _TRUE


def parse_one_line_sources(text, path):
    """Findings from a ``sources.list`` style file: ``deb [opt=val ...] uri suite [components]``."""
    findings = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split('#', 1)[0].strip()
        if not line.startswith(('deb ', 'deb-src ', 'deb\t', 'deb-src\t')):
            continue
        options = {}
        match = re.match(r'^(deb(?:-src)?)\s+\[([^\]]*)\]\s+(\S+)', line)
        if match:
            for option in match.group(2).split():
                key, _eq, value = option.partition('=')
                options[key.lower()] = value
            uri = match.group(3)
        else:
            fields = line.split()
            uri = fields[1] if len(fields) > 1 else ''
        for key in _INSECURE_OPTIONS:
            if key in options and _is_true(options[key]):
                findings.append({'file': path, 'line': number, 'source': uri, 'setting': '%s=%s' % (key, options[key])})
    return findings


def parse_deb822_sources(text, path):
    """Findings from a deb822 ``.sources`` file (stanzas separated by blank lines)."""
    findings = []
    stanza, start = {}, None

    def finish():
        if stanza and not (stanza.get('enabled') and not _is_true(stanza['enabled'])):
            for key in _INSECURE_OPTIONS:
                if key in stanza and _is_true(stanza[key]):
                    findings.append({'file': path, 'line': start, 'source': stanza.get('uris', ''),
                                     'setting': '%s: %s' % (key.title(), stanza[key])})

    last_key = None
    for number, line in enumerate([*text.splitlines(), ''], 1):
        if line.startswith('#'):
            continue
        if not line.strip():
            finish()
            stanza, start, last_key = {}, None, None
            continue
        if line[0] in ' \t' and last_key:  # a continuation line
            stanza[last_key] += ' ' + line.strip()
            continue
        key, colon, value = line.partition(':')
        if colon:
            last_key = key.strip().lower()
            stanza[last_key] = value.strip()
            start = start or number
    return findings


def _apt_conf_tokens(text):
    """(token, line number) of an apt configuration text, comments dropped, line numbers kept."""
    text = re.sub(r'/\*.*?\*/', lambda match: '\n' * match.group(0).count('\n'), text, flags=re.S)
    text = re.sub(r'(?m)(^|[ \t])(//|#).*$', r'\1', text)
    line, position = 1, 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+', text):
        line += text.count('\n', position, token.start())
        position = token.start()
        yield token.group(0), line


def parse_apt_conf(text, path):
    """Findings from an apt configuration file (``A::B "true";`` and ``A { B "true"; };`` forms)."""
    findings, scope, pending = [], [], []
    open_brace, close_brace, end = '{', '}', ';'
    for token, line in _apt_conf_tokens(text):
        if token == open_brace:
            scope.append('::'.join(name for name, _line in pending))
            pending = []
        elif token == close_brace:
            if scope:
                scope.pop()
            pending = []
        elif token == end:
            if len(pending) >= 2:
                key = '::'.join([part for part in scope if part] + [pending[0][0]]).lower()
                value = pending[1][0]
                if key in _INSECURE_SETTINGS and _is_true(value):
                    findings.append({'file': path, 'line': pending[0][1], 'source': '(every source)', 'setting': '%s %s' % (key, value)})
            pending = []
        else:
            pending.append((token, line))
    return findings


# apt reads a configuration part only when its name has these characters and does not end like a backup.
_APT_PART_NAME = re.compile(r'^[A-Za-z0-9_.-]+$')
_APT_IGNORED = re.compile(r'(~|\.disabled|\.bak|\.dpkg-[a-z]+|\.ucf-[a-z]+|\.save|\.orig|\.distUpgrade)$')


def _apt_reads(name):
    return bool(_APT_PART_NAME.match(name)) and not _APT_IGNORED.search(name)


def _read(path):
    with open(path, encoding='utf-8', errors='replace') as handle:
        return handle.read()


def apt_unsigned_sources(etc_apt='/etc/apt'):
    """Every apt source or setting that switches signature checking off, from the files under ``etc_apt``."""
    findings = []
    one_line = [os.path.join(etc_apt, 'sources.list'), *sorted(glob.glob(os.path.join(etc_apt, 'sources.list.d', '*.list')))]
    for path in one_line:
        if os.path.isfile(path):
            findings += parse_one_line_sources(_read(path), path)
    for path in sorted(glob.glob(os.path.join(etc_apt, 'sources.list.d', '*.sources'))):
        findings += parse_deb822_sources(_read(path), path)
    conf = [os.path.join(etc_apt, 'apt.conf'), *sorted(glob.glob(os.path.join(etc_apt, 'apt.conf.d', '*')))]
    for path in conf:
        if os.path.isfile(path) and _apt_reads(os.path.basename(path)):
            findings += parse_apt_conf(_read(path), path)
    return findings


def _ini(path):
    """A dnf-style INI file, or the configparser error naming the file."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(path, encoding='utf-8')
    return parser


def _gpgcheck(section):
    """The repository's own setting (``pkg_gpgcheck`` is its newer alias), or None when unset."""
    for key in ('gpgcheck', 'pkg_gpgcheck'):
        if section.get(key) is not None:
            return section.get(key)
    return None


def dnf_unsigned_repos(root='/'):
    """Enabled dnf repositories that do not check package signatures (``gpgcheck`` off, or unset and off in [main]).

    Reads /etc/dnf/dnf.conf (its [main] default, its ``reposdir`` and repositories defined in it) and the
    ``*.repo`` files of the repository directories, all below ``root``.
    """
    dnf_conf = os.path.join(root, 'etc/dnf/dnf.conf')
    main_gpgcheck = False  # dnf's own default when dnf.conf does not say
    repos_dirs = ['/etc/yum.repos.d', '/etc/yum/repos.d', '/etc/distro.repos.d']
    sources = []
    findings = []
    if os.path.isfile(dnf_conf):
        try:
            conf = _ini(dnf_conf)
        except configparser.Error as exc:
            return [{'file': dnf_conf, 'line': None, 'source': '', 'setting': 'unreadable: %s' % exc}]
        if conf.has_section('main'):
            gpgcheck = _gpgcheck(conf['main'])
            if gpgcheck is not None:
                main_gpgcheck = _is_true(gpgcheck)
            if conf['main'].get('reposdir'):
                repos_dirs = [part for part in re.split(r'[\s,]+', conf['main']['reposdir']) if part]
        sources.append((dnf_conf, conf))
    for repos_dir in repos_dirs:
        for path in sorted(glob.glob(os.path.join(root, repos_dir.lstrip('/'), '*.repo'))):
            try:
                sources.append((path, _ini(path)))
            except configparser.Error as exc:
                findings.append({'file': path, 'line': None, 'source': '', 'setting': 'unreadable: %s' % exc})
    for path, parser in sources:
        for name in parser.sections():
            section = parser[name]
            if name == 'main' or not _is_true(section.get('enabled', '1')):
                continue
            gpgcheck = _gpgcheck(section)
            if _is_true(gpgcheck) if gpgcheck is not None else main_gpgcheck:
                continue
            url = section.get('baseurl') or section.get('mirrorlist') or section.get('metalink') or ''
            findings.append({'file': path, 'line': None, 'source': '[%s] %s' % (name, url.split()[0] if url.split() else ''),
                             'setting': 'gpgcheck=%s' % (gpgcheck if gpgcheck is not None else '(unset; [main] in dnf.conf does not enable it)')})
    return findings


# apt-get update's messages about sources it could not verify or reach.
_APT_UPDATE_PROBLEMS = re.compile(r'NO_PUBKEY|is not signed|GPG error|does not have a Release file|Failed to fetch|'
                                  r'Could not resolve|Unable to connect|is no longer signed|EXPKEYSIG|The following signatures', re.I)


def apt_update_problems(output):
    """The W:/E: lines of ``apt-get update`` output about unsigned, unverifiable or unreachable sources."""
    return [line.strip() for line in output.splitlines()
            if line.startswith(('W:', 'E:', 'Err:')) and _APT_UPDATE_PROBLEMS.search(line)]


def describe(findings):
    return '; '.join('%s%s: %s (%s)' % (f['file'], ':%s' % f['line'] if f['line'] else '', f['source'], f['setting']) for f in findings)

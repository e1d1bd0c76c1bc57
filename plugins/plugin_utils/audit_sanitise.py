# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Cheap sanitising of result summaries: secret-looking keys, vault values, URL credentials, bearer tokens."""

from __future__ import annotations

import re

REDACTED = '********'
_SECRET_KEY = re.compile(r'pass(word|wd|phrase)?|token|secret|(^|_|-)key($|_|-)|api_?key|private|credential|'
                         r'authorization|cookie|session', re.IGNORECASE)
_URL_USERINFO = re.compile(r'(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+(:[^/\s@]*)?@', re.IGNORECASE)
_URL_TOKEN_PARAM = re.compile(r'([?&](?:access_)?(?:token|key|secret|password|sig|signature|api_key)=)[^&\s]+',
                              re.IGNORECASE)
_BEARER = re.compile(r'\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}', re.IGNORECASE)
_MAX_TEXT = 300
_MAX_DEPTH = 3
_MAX_ITEMS = 20


def is_secret_key(name):
    return bool(_SECRET_KEY.search(str(name)))


def is_vault(value):
    # AnsibleVaultEncryptedUnicode (and 2.19's encrypted string) expose these attributes; never render them.
    return hasattr(value, 'vault') or type(value).__name__ in ('AnsibleVaultEncryptedUnicode', 'EncryptedString')


def clean_text(text):
    text = _URL_USERINFO.sub(r'\1' + REDACTED + '@', text)
    text = _URL_TOKEN_PARAM.sub(r'\1' + REDACTED, text)
    text = _BEARER.sub(r'\1 ' + REDACTED, text)
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + '...'
    return text


def clean(value, depth=0):
    """Return a bounded, sanitised copy of ``value`` (new containers, never mutating the input)."""
    if is_vault(value):
        return REDACTED
    if isinstance(value, str):
        return clean_text(str(value))
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth >= _MAX_DEPTH:
        return '...'
    if isinstance(value, dict):
        out = {}
        for index, (key, item) in enumerate(value.items()):
            if index >= _MAX_ITEMS:
                out['...'] = '%d more' % (len(value) - _MAX_ITEMS)
                break
            out[str(key)] = REDACTED if is_secret_key(key) else clean(item, depth + 1)
        return out
    if isinstance(value, (list, tuple, set)):
        items = list(value)
        out = [clean(item, depth + 1) for item in items[:_MAX_ITEMS]]
        if len(items) > _MAX_ITEMS:
            out.append('%d more' % (len(items) - _MAX_ITEMS))
        return out
    return clean_text(str(value))


# Shorter values are too likely to be ordinary words or numbers of the record to be masked everywhere.
_MIN_SECRET_LENGTH = 6


class Masker:
    """Masks known secret values - of secret-named variables, vaulted variables and no_log results - in any text.

    Key-based redaction misses a secret that reaches a record under another name: a templated task name, a
    debug ``msg``, a command's stdout or stderr.  The callback adds every such value it learns and masks the
    whole record before it is sealed.
    """

    def __init__(self):
        self._values = set()
        self._pattern = None

    def add(self, value):
        """Learn the strings inside ``value`` (nested lists and mappings too)."""
        if is_vault(value):
            try:
                value = str(value)
            except Exception:  # an undecryptable vault value is not in any record either
                return
        if isinstance(value, str):
            if len(value) >= _MIN_SECRET_LENGTH and value not in self._values:
                self._values.add(value)
                self._pattern = None
        elif isinstance(value, dict):
            for item in value.values():
                self.add(item)
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                self.add(item)

    def mask(self, value):
        """A copy of ``value`` with every known secret replaced; non-text values as they are."""
        if not self._values:
            return value
        if self._pattern is None:
            # Longest first, so a secret that contains another is masked whole.
            self._pattern = re.compile('|'.join(re.escape(v) for v in sorted(self._values, key=len, reverse=True)))
        return self._apply(value)

    def _apply(self, value):
        if isinstance(value, str):
            return self._pattern.sub(REDACTED, value)
        if isinstance(value, dict):
            return {self._apply(key) if isinstance(key, str) else key: self._apply(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._apply(item) for item in value]
        return value

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


def _is_vault(value):
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
    if _is_vault(value):
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

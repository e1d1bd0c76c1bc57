# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fingerprints of the configuration that drives a patch run, for the audit trail.

A file is fingerprinted by the SHA-256 of its bytes, so ``sha256sum policy.yml`` gives the same
value; a mapping or list given inline by the SHA-256 of its canonical JSON (keys sorted, no
whitespace, UTF-8). Values under secret-looking keys (passwords, tokens, headers such as
Authorization) are replaced by a fixed marker first: the fingerprint must change when the
configuration changes, not reveal a credential to whoever reads the audit trail (a bare hash of a
short password can be guessed offline).
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.audit_sanitise import is_secret_key

SECRET_MARKER = '(secret)'  # noqa: S105 - the marker that replaces secrets, not one
# Keys whose whole value is credentials even when the key name does not say so.
_SECRET_CONTAINERS = ('headers',)


class ConfigError(ValueError):
    """A configuration file cannot be read for its fingerprint."""


def masked(value):
    """A copy of ``value`` with the values of secret-looking keys replaced by SECRET_MARKER."""
    if isinstance(value, dict):
        return {str(key): SECRET_MARKER if (is_secret_key(key) or str(key) in _SECRET_CONTAINERS) and item not in (None, '', {})
                else masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item) for item in value]
    return value


def canonical(value):
    """The canonical serialisation: JSON, keys sorted, no whitespace, UTF-8."""
    try:
        return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=_plain).encode('utf-8')
    except (TypeError, ValueError) as exc:
        raise ConfigError('cannot serialise the configuration: %s' % exc) from exc


def _plain(value):
    # Dates from YAML and tagged strings from ansible-core 2.19 serialise as their text.
    return str(value)


def value_fingerprint(value):
    """SHA-256 of the canonical JSON of ``value`` with its secrets masked."""
    return {'sha256': hashlib.sha256(canonical(masked(value))).hexdigest(), 'source': 'inline'}


def read_fingerprinted(path, what='the file'):
    """``(text, fingerprint)`` of a UTF-8 file read once, the SHA-256 over its bytes (what ``sha256sum`` prints).

    The caller validates ``text``: what is validated is exactly what was hashed.
    """
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
        text = data.decode('utf-8')
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError('%s: cannot read %s: %s' % (path, what, exc)) from exc
    return text, {'sha256': hashlib.sha256(data).hexdigest(), 'source': path}


def combined(parts):
    """One SHA-256 over the parts' fingerprints (name and hash, in name order): the run's whole configuration."""
    text = ''.join('%s=%s\n' % (name, parts[name]['sha256']) for name in sorted(parts))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()

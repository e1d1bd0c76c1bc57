# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The asset register: who owns each host, how critical and exposed it is, when it may be patched.

A user-maintained YAML or CSV file (docs/register.md).  YAML::

    schema: 1
    defaults: {environment: production, criticality: medium}
    hosts:
      web01.example.org: {owner: alice@example.org, exposure: internet, window: sun-early,
                          approvers: [bob@example.org]}

CSV: a header row with ``host`` and any of the keys below; ``approvers``
separated by ``;``.  ``load_register(path)`` returns ``{host: entry}`` with
defaults applied, or raises ``RegisterError`` naming the file, the host and
the key at fault.
"""

from __future__ import annotations

import csv
import os
import re

import yaml
from ansible_collections.patchwise.patching.plugins.plugin_utils import strict_yaml

CRITICALITY = ('low', 'medium', 'high', 'very_high')
EXPOSURE = ('internet', 'internal', 'isolated')
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
_TEXT_KEYS = ('owner', 'team', 'address', 'description')
_NAME_KEYS = ('environment', 'window', 'patch_group')
_LIST_KEYS = ('approvers', 'exclude')
KEYS = _TEXT_KEYS + _NAME_KEYS + ('criticality', 'exposure') + _LIST_KEYS


class RegisterError(Exception):
    """The register file is missing, unreadable or invalid."""


def _validate_entry(path, host, entry):
    if not isinstance(entry, dict):
        raise RegisterError('%s: host %s: expected a mapping of register keys, got %s' % (path, host, type(entry).__name__))
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        raise RegisterError('%s: host %s: unknown key(s) %s; known keys: %s' % (path, host, ', '.join(map(str, unknown)), ', '.join(KEYS)))
    clean = {}
    for key, value in entry.items():
        if value is None or value == '':
            continue
        if key == 'criticality' and value not in CRITICALITY:
            raise RegisterError('%s: host %s: criticality %r is not one of %s' % (path, host, value, ', '.join(CRITICALITY)))
        if key == 'exposure' and value not in EXPOSURE:
            raise RegisterError('%s: host %s: exposure %r is not one of %s' % (path, host, value, ', '.join(EXPOSURE)))
        if key in _NAME_KEYS and not (isinstance(value, str) and _NAME.match(value)):
            raise RegisterError('%s: host %s: %s %r must be a name of letters, digits, "_", "." or "-"' % (path, host, key, value))
        if key in _TEXT_KEYS and not isinstance(value, str):
            raise RegisterError('%s: host %s: %s must be a string, got %r' % (path, host, key, value))
        if key in _LIST_KEYS:
            items = [item.strip() for item in value.split(';') if item.strip()] if isinstance(value, str) else value
            if not (isinstance(items, list) and all(isinstance(item, str) and item for item in items)):
                raise RegisterError('%s: host %s: %s must be a list of %s, got %r' % (
                    path, host, key, 'names' if key == 'approvers' else 'package names or patterns', value))
            clean[key] = items
            continue
        clean[key] = value
    return clean


def _load_yaml(path, text):
    try:
        data = strict_yaml.load(text)
    except yaml.YAMLError as exc:
        raise RegisterError('%s: not valid YAML: %s' % (path, exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get('hosts'), dict):
        raise RegisterError('%s: expected a mapping with a "hosts" mapping (host name -> register entry)' % path)
    unknown = sorted(set(data) - {'schema', 'defaults', 'hosts'})
    if unknown:
        raise RegisterError('%s: unknown top-level key(s) %s; known: schema, defaults, hosts' % (path, ', '.join(map(str, unknown))))
    if data.get('schema', 1) != 1:
        raise RegisterError('%s: register schema %r is not supported (this collection reads schema 1)' % (path, data.get('schema')))
    defaults = _validate_entry(path, '(defaults)', data.get('defaults') or {})
    register = {}
    for host, entry in data['hosts'].items():
        merged = dict(defaults)
        merged.update(_validate_entry(path, host, entry or {}))
        register[str(host)] = merged
    return register


def _load_csv(path, text):
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames or 'host' not in rows.fieldnames:
        raise RegisterError('%s: the first row must name the columns, one of them "host"' % path)
    register = {}
    for line, row in enumerate(rows, start=2):
        if None in row:
            raise RegisterError('%s: line %d has more fields than the header' % (path, line))
        host = (row.pop('host') or '').strip()
        if not host:
            raise RegisterError('%s: line %d has no host' % (path, line))
        if host in register:
            raise RegisterError('%s: line %d: host %s is listed twice' % (path, line, host))
        register[host] = _validate_entry(path, host, {key: (value or '').strip() for key, value in row.items()})
    return register


def load_register(path):
    """Read and validate the register at ``path`` (``.csv`` is CSV, anything else YAML)."""
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise RegisterError('%s: cannot read the asset register: %s' % (path, exc)) from exc
    return register_from_text(path, text)


def register_from_text(path, text):
    """Validate the register ``text`` of the file ``path`` (``.csv`` is CSV, anything else YAML)."""
    if os.path.splitext(path)[1].lower() == '.csv':
        return _load_csv(path, text)
    return _load_yaml(path, text)

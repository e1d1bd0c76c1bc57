# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether an asset record may be stored: its host name and the shape of every part the later stages read.

A record that got past this used to poison the database: an empty host name
broke the inventory of the whole fleet, ``packages: "oops"`` made the host
impossible to store again.  ``record_problem`` names the host and the field of
the first problem, so one bad record is refused alone and the others are
stored.
"""

from __future__ import annotations

import datetime
import re

RECORD_SCHEMA = 1
HOST_NAME_MAX = 253
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
_TIME = '%Y-%m-%dT%H:%M:%SZ'
# Part -> (the fields each entry must have as strings, the fields that may be strings or null).
_LISTS = {
    'packages': (('name', 'version'), ('arch', 'source_name', 'source_version', 'state')),
    'services': (('name',), ('state', 'enabled')),
    'applications': (('name',), ('version', 'ecosystem', 'path', 'source')),
    'updates': (('name', 'available'), ('current', 'origin')),
}


def host_name_problem(host):
    """Why ``host`` cannot be a host name in the asset database, or None."""
    if not isinstance(host, str) or not host.strip():
        return 'the host name is empty'
    if len(host) > HOST_NAME_MAX:
        return 'the host name is %d characters long; at most %d are allowed' % (len(host), HOST_NAME_MAX)
    if _CONTROL.search(host):
        return 'the host name %r holds control characters' % host
    if host != host.strip():
        return 'the host name %r starts or ends with white space' % host
    return None


_TYPE_NAMES = ((bool, 'bool'), (int, 'int'), (float, 'float'), (str, 'str'), (list, 'list'), (dict, 'dict'))


def _type_name(value):
    """The plain type name of ``value`` (Ansible passes its own subclasses of str, list and dict)."""
    if value is None:
        return 'null'
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__)


def _list_problem(part, value):
    if not isinstance(value, list):
        return '%s must be a list, got %s' % (part, _type_name(value))
    required, optional = _LISTS[part]
    # Thousands of entries per record: the entry's place is only spelled out for the one with a problem.
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            return '%s[%d] must be a mapping, got %s' % (part, index, _type_name(entry))
        for field in required:
            if not isinstance(entry.get(field), str) or not entry[field]:
                return '%s[%d].%s must be a non-empty string, got %r' % (part, index, field, entry.get(field))
        for field in optional:
            if entry.get(field) is not None and not isinstance(entry[field], str):
                return '%s[%d].%s must be a string or null, got %s' % (part, index, field, _type_name(entry[field]))
    return None


def record_problem(host, record):
    """The first reason the record of ``host`` cannot be stored, naming the field, or None."""
    problem = host_name_problem(host)
    if problem:
        return problem
    if not isinstance(record, dict):
        return 'the asset record must be a mapping (the record returned by asset_facts), got %s' % _type_name(record)
    if record.get('schema') != RECORD_SCHEMA:
        return 'schema: asset record schema %r is not supported (expected %d)' % (record.get('schema'), RECORD_SCHEMA)
    for key in ('collected_at', 'host', 'os'):
        if not record.get(key):
            return '%s: the asset record has no %s' % (key, key)
    try:
        datetime.datetime.strptime(str(record['collected_at']), _TIME)
    except ValueError:
        return 'collected_at: %r is not a UTC time like 2026-01-31T12:00:00Z' % (record['collected_at'],)
    for key in ('host', 'os', 'kernel', 'restart'):
        if record.get(key) is not None and not isinstance(record[key], dict):
            return '%s must be a mapping, got %s' % (key, _type_name(record[key]))
    os_part = record['os']
    for field in ('family', 'distribution', 'version', 'codename', 'arch', 'pkg_mgr', 'ecosystem', 'id', 'ecosystem_reason'):
        if os_part.get(field) is not None and not isinstance(os_part[field], str):
            return 'os.%s must be a string or null, got %s' % (field, _type_name(os_part[field]))
    ecosystems = os_part.get('ecosystems')
    if ecosystems is not None and (not isinstance(ecosystems, list) or not all(isinstance(item, str) and item for item in ecosystems)):
        return 'os.ecosystems must be a list of OSV ecosystem names'
    for part in _LISTS:
        if record.get(part) is not None:
            problem = _list_problem(part, record[part])
            if problem:
                return problem
    if record.get('listening') is not None and (not isinstance(record['listening'], list)
                                                or not all(isinstance(item, dict) for item in record['listening'])):
        return 'listening must be a list of mappings'
    restart = record.get('restart') or {}
    if restart.get('services') is not None and (not isinstance(restart['services'], list)
                                                or not all(isinstance(item, str) for item in restart['services'])):
        return 'restart.services must be a list of unit names'
    return None

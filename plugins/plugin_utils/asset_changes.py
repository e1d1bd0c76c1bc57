# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What changed between two asset records, a record's identity digest, and its summary.

``record_changes(old, new)`` returns the history entries the asset store
keeps: one ``(kind, detail)`` per part of the record that changed
(``os``, ``kernel``, ``packages``, ``services``, ``applications``,
``listening``, ``updates``, ``restart``).  ``record_digest`` leaves out what
changes without the host changing (the collection time, process ids), so
storing the same host twice is not a change.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.patchwise.patching.plugins.module_utils.versions import compare_versions

_SCHEMES = {'apt': 'deb', 'dnf': 'rpm', 'yum': 'rpm', 'zypper': 'rpm', 'apk': 'apk'}


# check_circular off: a record comes from JSON and has no cycles (the output is the same).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=str, check_circular=False)
# Canonical forms of flat entries (a package, an update: hashable values only), kept across the records of a
# process: most hosts of a fleet have most of their packages in common, and encoding them one by one was most of
# a record's digest.  Bounded (about 60 MB at most), emptied when full.
_FLAT_FORMS = {}
_FLAT_FORMS_MAX = 100000


def _canonical(value):
    return _ENCODER.encode(value)


def _entry_form(item):
    """The canonical form of one list entry, from the cache when it is a mapping of hashable values seen before."""
    if not isinstance(item, dict):   # a scalar or a list: encoded as it is
        return _ENCODER.encode(item)
    values = tuple(item.values())
    # The value types are part of the key: True == 1 == 1.0, but they encode differently.
    key = (tuple(item), tuple(map(type, values)), values)
    try:
        form = _FLAT_FORMS.get(key)
    except TypeError:            # an unhashable value (a list, a mapping): not cached
        return _ENCODER.encode(item)
    if form is None:
        if len(_FLAT_FORMS) >= _FLAT_FORMS_MAX:
            _FLAT_FORMS.clear()
        form = _FLAT_FORMS[key] = _ENCODER.encode(item)
    return form


def _sorted_list(items):
    return sorted(items or [], key=_entry_form)


_LIST_PARTS = ('packages', 'services', 'listening', 'applications', 'updates')


def _identity(record):
    """The record without what changes when nothing about the host does."""
    identity = {key: value for key, value in record.items() if key != 'collected_at'}
    for key in _LIST_PARTS:
        identity[key] = _sorted_list(record.get(key))
    identity['restart'] = _restart_identity(record)
    return identity


def _restart_identity(record):
    restart = dict(record.get('restart') or {})
    restart['processes'] = _sorted_list(
        {key: value for key, value in process.items() if key != 'pid'} for process in restart.get('processes') or [])
    return restart


def _identity_text(record):
    """``_canonical(_identity(record))``, built from the entries' cached canonical forms instead of encoding the
    sorted lists again: the same text (a list's encoding is its entries' encodings joined), at a third of the cost."""
    keys = {key for key in record if key != 'collected_at'}
    keys.update(_LIST_PARTS)
    keys.add('restart')
    if not all(isinstance(key, str) for key in keys):   # other keys are converted and sorted by the encoder
        return _canonical(_identity(record))
    parts = []
    for key in sorted(keys):
        if key in _LIST_PARTS:
            value = '[%s]' % ','.join(sorted(_entry_form(item) for item in record.get(key) or []))
        elif key == 'restart':
            value = _ENCODER.encode(_restart_identity(record))
        else:
            value = _ENCODER.encode(record[key])
        parts.append(_ENCODER.encode(key) + ':' + value)
    return '{%s}' % ','.join(parts)


def record_digest(record):
    """SHA-256 of the record's canonical form, collection time and process ids left out."""
    return hashlib.sha256(_identity_text(record).encode('utf-8')).hexdigest()


def record_summary(record):
    """The small part of a record that host variables and groups are built from."""
    updates = record.get('updates') or []
    restart = record.get('restart') or {}
    return {
        'collected_at': record.get('collected_at'),
        'host': record.get('host') or {},
        'os': record.get('os') or {},
        'kernel': record.get('kernel') or {},
        'service_manager': record.get('service_manager'),
        'counts': {
            'packages': len(record.get('packages') or []),
            'services': len(record.get('services') or []),
            'listening': len(record.get('listening') or []),
            'applications': len(record.get('applications') or []),
            'updates': len(updates),
            'security_updates': sum(1 for update in updates if update.get('security')),
        },
        'updates_security': sorted({update['name'] for update in updates if update.get('security')}),
        'applications': sorted(
            ({'name': app.get('name'), 'version': app.get('version'), 'ecosystem': app.get('ecosystem')}
             for app in record.get('applications') or []), key=_canonical),
        'reboot_required': bool(restart.get('reboot_required')),
        'restart_services': sorted(restart.get('services') or []),
    }


def _version_order(scheme, old, new):
    try:
        return compare_versions(old, new, scheme)
    except ValueError:
        return -1 if old != new else 0


def _package_changes(old, new, scheme):
    before = {(item.get('name'), item.get('arch')): item.get('version') for item in old}
    after = {(item.get('name'), item.get('arch')): item.get('version') for item in new}
    added = [{'name': name, 'arch': arch, 'version': after[(name, arch)]} for name, arch in sorted(after.keys() - before.keys(), key=str)]
    removed = [{'name': name, 'arch': arch, 'version': before[(name, arch)]} for name, arch in sorted(before.keys() - after.keys(), key=str)]
    upgraded, downgraded = [], []
    for key in sorted(before.keys() & after.keys(), key=str):
        if before[key] == after[key]:
            continue
        entry = {'name': key[0], 'arch': key[1], 'from': before[key], 'to': after[key]}
        (upgraded if _version_order(scheme, before[key], after[key]) < 0 else downgraded).append(entry)
    changes = {'added': added, 'removed': removed, 'upgraded': upgraded, 'downgraded': downgraded}
    return {key: value for key, value in changes.items() if value}


def _keyed_changes(old, new, key_fields, value_fields):
    def key_of(item):
        return tuple(item.get(field) for field in key_fields)

    def value_of(item):
        return {field: item.get(field) for field in value_fields}

    before = {key_of(item): item for item in old}
    after = {key_of(item): item for item in new}
    changes = {
        'added': [after[key] for key in sorted(after.keys() - before.keys(), key=str)],
        'removed': [before[key] for key in sorted(before.keys() - after.keys(), key=str)],
        'changed': [dict(zip(key_fields, key), **{'from': value_of(before[key]), 'to': value_of(after[key])})
                    for key in sorted(before.keys() & after.keys(), key=str)
                    if value_of(before[key]) != value_of(after[key])],
    }
    return {key: value for key, value in changes.items() if value}


def _update_changes(old, new):
    before = {item.get('name') for item in old if item.get('security')}
    after = {item.get('name') for item in new if item.get('security')}
    changes = {'security_added': sorted(after - before), 'security_removed': sorted(before - after)}
    changes = {key: value for key, value in changes.items() if value}
    if len(old) != len(new) or changes:
        changes['pending'] = {'from': len(old), 'to': len(new)}
    return changes


def _restart_changes(old, new):
    fields = ('reboot_required', 'reasons', 'services')
    before = {field: old.get(field) for field in fields}
    after = {field: new.get(field) for field in fields}
    return {'from': before, 'to': after} if before != after else {}


def record_changes(old, new):
    """History entries [(kind, detail)] from record ``old`` to record ``new``."""
    scheme = _SCHEMES.get((new.get('os') or {}).get('pkg_mgr'), 'generic')
    entries = []
    for kind in ('os', 'kernel'):
        if (old.get(kind) or {}) != (new.get(kind) or {}):
            entries.append((kind, {'from': old.get(kind), 'to': new.get(kind)}))
    compared = (
        ('packages', _package_changes(old.get('packages') or [], new.get('packages') or [], scheme)),
        ('services', _keyed_changes(old.get('services') or [], new.get('services') or [], ('name',), ('state', 'enabled'))),
        ('applications', _keyed_changes(old.get('applications') or [], new.get('applications') or [],
                                        ('ecosystem', 'name', 'path'), ('version',))),
        ('listening', _keyed_changes(old.get('listening') or [], new.get('listening') or [],
                                     ('proto', 'address', 'port'), ('process',))),
        ('updates', _update_changes(old.get('updates') or [], new.get('updates') or [])),
        ('restart', _restart_changes(old.get('restart') or {}, new.get('restart') or {})),
    )
    entries.extend((kind, detail) for kind, detail in compared if detail)
    return entries

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Poisoned records are refused alone, naming the host and the field; the other hosts are stored."""

from __future__ import annotations

import json
import sqlite3

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils import asset_store as asset_store_module
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_record_check import record_problem
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

# (host, the changes to a good record, the start of the reason)
POISONED = [
    ('', {}, 'the host name is empty'),
    ('   ', {}, 'the host name is empty'),
    ('w' * 254, {}, 'the host name is 254 characters long; at most 253'),
    ('web\n01', {}, "the host name 'web\\n01' holds control characters"),
    (' web01', {}, "the host name ' web01' starts or ends with white space"),
    ('db01', {'schema': 2}, 'schema: asset record schema 2 is not supported'),
    ('db01', {'collected_at': 1733400000}, 'collected_at: 1733400000 is not a UTC time'),
    ('db01', {'os': None}, 'os: the asset record has no os'),
    ('db01', {'os': 'debian'}, 'os must be a mapping, got str'),
    ('db01', {'os': {'family': 'debian', 'pkg_mgr': ['apt']}}, 'os.pkg_mgr must be a string or null, got list'),
    ('db01', {'kernel': 'linux'}, 'kernel must be a mapping, got str'),
    ('db01', {'packages': 'oops'}, 'packages must be a list, got str'),
    ('db01', {'packages': ['bash']}, 'packages[0] must be a mapping, got str'),
    ('db01', {'packages': [{'name': 'bash'}]}, 'packages[0].version must be a non-empty string, got None'),
    ('db01', {'packages': [{'name': 'bash', 'version': '5.2', 'arch': 64}]}, 'packages[0].arch must be a string or null, got int'),
    ('db01', {'services': {'ssh': 'running'}}, 'services must be a list, got dict'),
    ('db01', {'services': [{'state': 'running'}]}, 'services[0].name must be a non-empty string'),
    ('db01', {'applications': [{'name': 'django', 'version': 4.2}]}, 'applications[0].version must be a string or null, got float'),
    ('db01', {'updates': [{'name': 'bash'}]}, 'updates[0].available must be a non-empty string'),
    ('db01', {'listening': ['22/tcp']}, 'listening must be a list of mappings'),
    ('db01', {'restart': {'services': 'ssh'}}, 'restart.services must be a list of unit names'),
    ('db01', {'restart': ['ssh']}, 'restart must be a mapping, got list'),
]


@pytest.mark.parametrize('host, changes, reason', POISONED)
def test_a_poisoned_record_is_refused_alone_and_the_host_can_be_stored_later(tmp_path, host, changes, reason):
    path = str(tmp_path / 'assets.db')
    poisoned = record(host.strip() or 'x', **changes)
    assert record_problem(host, poisoned).startswith(reason)
    with AssetStore(path) as store:
        outcome = store.store_records({'web01': record(), host: poisoned})
        assert outcome[host]['refused'].startswith(reason) and outcome[host]['changed'] is False
        assert outcome['web01']['new'] is True
        assert [item['name'] for item in store.hosts()] == ['web01']
        assert store.history(host=host) == []
        if not record_problem(host, record(host)):
            assert store.store_records({host: record(host)})[host]['new'] is True, 'the host can be stored once its record is good'
    with sqlite3.connect(path) as connection:
        assert connection.execute('PRAGMA integrity_check').fetchone() == ('ok',)


def test_bad_data_an_older_version_stored_is_replaced_not_fatal(tmp_path):
    path = str(tmp_path / 'assets.db')
    with AssetStore(path) as store:
        store.store_records({'web01': record(), 'db01': record('db01')})
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE hosts SET record = json_set(record, '$.packages', 'oops'), digest = 'x' WHERE name = 'web01'")
        connection.execute("UPDATE hosts SET record = '{not json', summary = '{not json', digest = 'y' WHERE name = 'db01'")
    with AssetStore(path) as store:
        outcome = store.store_records({'web01': record(), 'db01': record('db01')})
        assert outcome['web01']['changes'] == ['record'] and outcome['db01']['changes'] == ['record']
        replaced = store.history(host='web01', kind='record')[0]['detail']['replaced']
        assert replaced.startswith('the stored record could not be compared (') and replaced.endswith('; replaced whole')
        assert store.record('db01') == record('db01')


def test_a_damaged_summary_row_does_not_stop_the_fleet_summary(tmp_path):
    path = str(tmp_path / 'assets.db')
    with AssetStore(path) as store:
        store.store_records({'web01': record(), 'db01': record('db01')})
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE hosts SET summary = '{broken' WHERE name = 'db01'")
    with AssetStore(path) as store:
        _changed, _stored, summary = store.store_run({'app01': record('app01')})
        assert summary['hosts'] == 3


def test_the_fleet_summary_is_read_in_the_transaction_so_a_failure_writes_nothing(tmp_path, monkeypatch):
    path = str(tmp_path / 'assets.db')
    with AssetStore(path) as store:
        store.store_records({'web01': record()})

    def broken(hosts):
        list(hosts)
        raise sqlite3.DatabaseError('database disk image is malformed')

    monkeypatch.setattr(asset_store_module, 'fleet_summary', broken)
    with AssetStore(path) as store:
        with pytest.raises(asset_store_module.AssetStoreError, match=r'database disk image is malformed \(nothing was written\)'):
            store.store_run({'db01': record('db01')}, register={'db01': {'owner': 'dba'}}, register_source='r.yml',
                            outcomes=[('web01', 'system', 'ok', {'packages': []})])
        assert [host['name'] for host in store.hosts()] == ['web01']
        assert store.register() == {} and store.patch_outcomes() == []


def test_a_patch_outcome_for_an_empty_host_is_refused(tmp_path):
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        with pytest.raises(asset_store_module.AssetStoreError, match='patch outcome: the host name is empty'):
            store.add_patch_outcome('', 'system', 'ok', {})
        assert json.dumps(store.patch_outcomes()) == '[]'

"""The assets inventory plugin, run through ansible-inventory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

# tests/unit/plugins/inventory -> the folder holding ansible_collections/
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 7)))


def _inventory(tmp_path, config, name='patchwise_assets.yml'):
    (tmp_path / name).write_text(config)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1', ANSIBLE_INVENTORY_ENABLED='patchwise.patching.assets',
               ANSIBLE_INVENTORY_UNPARSED_FAILED='1')
    process = subprocess.run([sys.executable, '-m', 'ansible.cli.inventory', '-i', str(tmp_path / name), '--list'],
                             env=env, capture_output=True, text=True, check=False)
    # ansible-core 2.18 wraps warnings at the terminal width: compare messages with their spaces joined.
    process.stderr = ' '.join(process.stderr.split())
    return process


def _plain(value):
    """ansible-inventory marks strings from the database as not trusted for templating; compare their values."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _members(listing, group):
    return sorted(listing.get(group, {}).get('hosts', []))


def test_database_register_groups_and_vars(tmp_path, asset_db):
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record(), 'db01': record('db01', updates=[])})
        store.store_risk_results({'web01': {'tier': 'high', 'due': '2026-12-01', 'findings': []}})
    (tmp_path / 'register.csv').write_text('host,criticality,exposure,window\nweb01,high,internet,sun-early\nnew01,low,isolated,\n')
    process = _inventory(tmp_path, 'plugin: patchwise.patching.assets\ndatabase: %s' % asset_db + '\nregister: register.csv\n'
                                   'compose:\n  needs_attention: patchwise_security_updates > 0\n'
                                   'keyed_groups:\n  - key: patchwise_os.arch\n    prefix: arch\n')
    assert process.returncode == 0, process.stderr
    listing = json.loads(process.stdout)
    assert _members(listing, 'os_debian_12') == ['db01', 'web01']
    assert _members(listing, 'pending_security') == ['web01']
    assert _members(listing, 'risk_high') == ['web01']
    assert _members(listing, 'exposure_isolated') == ['new01']
    assert _members(listing, 'window_sun_early') == ['web01']
    assert _members(listing, 'arch_amd64') == ['db01', 'web01']
    web = _plain(listing['_meta']['hostvars']['web01'])
    assert listing['_meta']['hostvars']['web01']['patchwise_os']['ecosystem'] == 'Debian:12'
    assert web['needs_attention'] is True and web['patchwise_risk_due'] == '2026-12-01'
    assert web['patchwise_register'] == {'criticality': 'high', 'exposure': 'internet', 'window': 'sun-early'}
    assert _plain(listing['_meta']['hostvars']['db01'])['needs_attention'] is False


def test_template_code_planted_by_a_host_is_never_run(tmp_path):
    planted = "{{ lookup('ansible.builtin.pipe', 'touch %s') }}" % (tmp_path / 'pwned')
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.store_records({'web01': record(kernel={'running': planted, 'latest_installed': planted})})
    listing = json.loads(_inventory(tmp_path, 'plugin: patchwise.patching.assets\ndatabase: assets.db\n').stdout)
    assert listing['_meta']['hostvars']['web01']['patchwise_kernel']['running'] == {'__ansible_unsafe': planted}
    (tmp_path / 'play.yml').write_text('- hosts: all\n  gather_facts: false\n  tasks:\n'
                                       '    - ansible.builtin.debug: {msg: "{{ patchwise_kernel.running }}"}\n')
    (tmp_path / 'patchwise_assets.yml').write_text('plugin: patchwise.patching.assets\ndatabase: assets.db\n')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR='1', ANSIBLE_INVENTORY_ENABLED='patchwise.patching.assets')
    process = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', str(tmp_path / 'patchwise_assets.yml'),
                              '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable, str(tmp_path / 'play.yml')],
                             env=env, capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "lookup('ansible.builtin.pipe'" in process.stdout
    assert not (tmp_path / 'pwned').exists()


def test_stale_hosts_grouped_or_left_out(tmp_path, asset_db):
    with AssetStore(asset_db) as store:
        store.store_records({'old01': record('old01', collected_at='2020-01-01T00:00:00Z'), 'web01': record(collected_at='2099-01-01T00:00:00Z')})
    listing = json.loads(_inventory(tmp_path, 'plugin: patchwise.patching.assets\ndatabase: %s' % asset_db + '\n').stdout)
    assert _members(listing, 'stale') == ['old01']
    listing = json.loads(_inventory(tmp_path, 'plugin: patchwise.patching.assets\ndatabase: %s' % asset_db + '\ninclude_stale: false\n').stdout)
    assert 'old01' not in listing['_meta']['hostvars'] and 'web01' in listing['_meta']['hostvars']


def test_corrupt_or_missing_database_and_bad_register_are_parse_errors(tmp_path):
    (tmp_path / 'assets.db').write_bytes(b'garbage' * 1000)
    process = _inventory(tmp_path, 'plugin: patchwise.patching.assets\ndatabase: assets.db\n')
    assert process.returncode != 0
    assert 'assets.db: not a usable asset database' in process.stderr
    assert 'Traceback' not in process.stderr
    process = _inventory(tmp_path, 'plugin: patchwise.patching.assets\ndatabase: missing.db\n')
    assert 'missing.db: the asset database does not exist' in process.stderr
    (tmp_path / 'register.yml').write_text('hosts:\n  web01: {exposure: public}\n')
    process = _inventory(tmp_path, 'plugin: patchwise.patching.assets\nregister: register.yml\n')
    assert "register.yml: host web01: exposure 'public' is not one of" in process.stderr
    process = _inventory(tmp_path, 'plugin: patchwise.patching.assets\n')
    assert 'set database, register or both' in process.stderr


def test_cache_serves_the_inventory_when_the_database_is_gone(tmp_path):
    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.store_records({'web01': record()})
    config = ('plugin: patchwise.patching.assets\ndatabase: assets.db\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n'
              'cache_connection: %s\ncache_timeout: 3600\n' % (tmp_path / 'cache'))
    assert 'web01' in json.loads(_inventory(tmp_path, config).stdout)['_meta']['hostvars']
    (tmp_path / 'assets.db').unlink()
    process = _inventory(tmp_path, config)
    assert process.returncode == 0, process.stderr
    assert 'web01' in json.loads(process.stdout)['_meta']['hostvars']


def test_a_host_with_an_empty_name_stored_by_an_older_version_is_skipped_with_a_warning(tmp_path):
    import sqlite3

    with AssetStore(str(tmp_path / 'assets.db')) as store:
        store.store_records({'web01': record(), 'db01': record('db01')})
    with sqlite3.connect(str(tmp_path / 'assets.db')) as connection:
        connection.execute("UPDATE hosts SET name = '' WHERE name = 'db01'")
    process = _inventory(tmp_path, 'plugin: patchwise.patching.assets\ndatabase: assets.db\n')
    assert process.returncode == 0, process.stderr
    assert 'skipping a stored host: the host name is empty' in process.stderr
    assert sorted(json.loads(process.stdout)['_meta']['hostvars']) == ['web01']


def test_an_advisory_database_given_as_the_inventory_source_is_refused_by_kind(tmp_path):
    import sqlite3

    with sqlite3.connect(str(tmp_path / 'advisories.db')) as connection:
        connection.executescript("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('kind', 'advisory');")
    process = _inventory(tmp_path, 'plugin: patchwise.patching.assets\ndatabase: advisories.db\n')
    assert process.returncode != 0 and 'advisories.db is an advisory database, not an asset database' in process.stderr

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: assets
short_description: Hosts, variables and groups from the patchwise asset database and asset register
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Builds the inventory from the asset database that M(patchwise.patching.asset_store) writes, the asset
    register (YAML or CSV, see the collection's C(docs/register.md)), or both. With a register alone it works
    before any discovery ran; with a database alone it lists every host ever discovered.
  - 'The configuration file must be named C(patchwise_assets.yml) or end in C(.patchwise_assets.yml) (or
    C(.yaml)), and contain C(plugin: patchwise.patching.assets).'
  - 'Host variables: C(patchwise_os) (family, distribution, id, version, codename, arch, pkg_mgr, ecosystem),
    C(patchwise_kernel), C(patchwise_first_seen), C(patchwise_last_seen), C(patchwise_stale),
    C(patchwise_pending_updates), C(patchwise_security_updates) (counts), C(patchwise_reboot_required),
    C(patchwise_applications), C(patchwise_register) (the register entry), C(ansible_host) (from the register''s
    C(address)), and C(patchwise_risk_tier) / C(patchwise_risk_due) once the risk pass stored results.'
  - 'Groups: C(os_<family>), C(os_<id>_<major>) (the os-release ID, as in C(os_debian_12)), C(env_<environment>), C(criticality_<level>),
    C(exposure_<level>), C(window_<name>), C(patch_group_<name>), C(app_<name>), C(pending_security) (hosts with
    pending security updates), C(reboot_required), C(stale), and C(risk_<tier>). Names are lower-cased, with
    characters other than letters, digits and C(_) replaced by C(_).'
  - The database is opened read-only; a missing or corrupt database or an invalid register is a parse error
    that names the file.
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin, V(patchwise.patching.assets).
    type: str
    required: true
    choices: [patchwise.patching.assets]
  database:
    description:
      - The asset database. Leave it out to build the inventory from the register alone.
      - Relative paths are relative to the directory of the configuration file; C(~) is expanded.
      - A C(postgresql://user@host:port/database) URL reads a PostgreSQL asset database (the password from E(PGPASSWORD) or a
        E(PGPASSFILE)), as an AWX inventory source does.
    type: str
    env:
      - name: PATCHWISE_ASSET_DB
  register:
    description:
      - The asset register, YAML or C(.csv). Its hosts are added even when they were never discovered.
      - Relative paths are relative to the directory of the configuration file; C(~) is expanded.
    type: str
    env:
      - name: PATCHWISE_REGISTER
  stale_after_days:
    description: Hosts whose last record is older than this many days go to group C(stale). V(0) turns it off.
    type: int
    default: 14
  include_stale:
    description: Whether stale hosts are listed at all. They are still flagged and grouped as C(stale) when listed.
    type: bool
    default: true
seealso:
  - module: patchwise.patching.asset_store
  - module: patchwise.patching.asset_facts
"""

EXAMPLES = r"""
# inventory/patchwise_assets.yml - the database and the register
plugin: patchwise.patching.assets
database: /var/lib/patchwise/assets.db
register: register.yml
stale_after_days: 7
keyed_groups:
  - key: patchwise_os.arch
    prefix: arch
compose:
  patchwise_needs_attention: patchwise_security_updates > 0 or patchwise_reboot_required

# inventory/production.patchwise_assets.yml - the register alone, before the first discovery, cached:
#   plugin: patchwise.patching.assets
#   register: /etc/patchwise/register.csv
#   cache: true
#   cache_plugin: ansible.builtin.jsonfile
#   cache_connection: ~/.cache/patchwise-inventory
"""

import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_connection import is_url
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_inventory import inventory_hosts
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_record_check import host_name_problem
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError, load_register
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError

try:  # ansible-core 2.19+: strings from plugins are untrusted unless marked
    from ansible.template import trust_as_template
except ImportError:  # ansible-core 2.18: plain strings are templated unless wrapped as unsafe
    trust_as_template = None
from ansible.utils.unsafe_proxy import wrap_var

_CONFIG_NAMES = ('patchwise_assets.yml', 'patchwise_assets.yaml')


def _hand_on(value):
    """Make a host-reported value safe to hand to templates.

    Hosts report these strings (os-release, kernel, application names), so a
    compromised host could plant template code in them.  A string without
    ``{`` cannot hold any Jinja delimiter and is handed on as trusted, like
    the values of an INI inventory; any other string is never templated.
    """
    if isinstance(value, str):
        if '{' in value:
            return value if trust_as_template else wrap_var(value)
        return trust_as_template(value) if trust_as_template else value
    if isinstance(value, dict):
        return {key: _hand_on(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_hand_on(item) for item in value]
    return value


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Inventory from the asset database and the asset register."""

    NAME = 'patchwise.patching.assets'

    def verify_file(self, path):
        return super().verify_file(path) and os.path.basename(path).endswith(_CONFIG_NAMES)

    def _resolve(self, config_path, option):
        value = self.get_option(option)
        if not value:
            return None
        if is_url(value):
            return value
        value = os.path.expanduser(value)
        return value if os.path.isabs(value) else os.path.join(os.path.dirname(config_path), value)

    def _entries(self, config_path):
        """Yield ``[host, vars, groups]`` from the register and the database, reading the database row by row."""
        database, register_path = self._resolve(config_path, 'database'), self._resolve(config_path, 'register')
        if not database and not register_path:
            raise AnsibleParserError('%s: set database, register or both' % config_path)
        try:
            register = load_register(register_path) if register_path else {}
            if not database:
                yield from (list(entry) for entry in inventory_hosts([], register))
                return
            with AssetStore(database, readonly=True) as store:
                rows = store.iter_hosts(stale_after_days=self.get_option('stale_after_days'))
                yield from (list(entry) for entry in inventory_hosts(rows, register))
        except (AssetStoreError, RegisterError) as exc:
            raise AnsibleParserError('%s: %s' % (config_path, exc)) from exc

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = cache and self.get_option('cache')
        update_cache = self.get_option('cache') and not cache
        hosts = None
        if use_cache:
            try:
                hosts = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if hosts is None:
            hosts = self._entries(path)
        if update_cache:
            hosts = list(hosts)
            self._cache[cache_key] = hosts
        self._populate(hosts)

    def _populate(self, hosts):
        include_stale = self.get_option('include_stale')
        strict = self.get_option('strict')
        constructed = self.get_option('compose') or self.get_option('groups') or self.get_option('keyed_groups')
        known_groups = set()
        for name, host_vars, groups in hosts:
            if not include_stale and host_vars.get('patchwise_stale'):
                continue
            problem = host_name_problem(name)
            if problem:
                # A row an older version stored: one bad host must not cost the inventory of the fleet.
                self.display.warning('patchwise.patching.assets: skipping a stored host: %s' % problem)
                continue
            self.inventory.add_host(name)
            for key, value in host_vars.items():
                self.inventory.set_variable(name, key, _hand_on(value))
            for group in groups:
                if group not in known_groups:
                    self.inventory.add_group(group)
                    known_groups.add(group)
                self.inventory.add_child(group, name)
            if constructed:
                self._set_composite_vars(self.get_option('compose'), host_vars, name, strict=strict)
                self._add_host_to_composed_groups(self.get_option('groups'), host_vars, name, strict=strict)
                self._add_host_to_keyed_groups(self.get_option('keyed_groups'), host_vars, name, strict=strict)

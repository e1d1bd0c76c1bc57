# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_changes import record_summary
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_inventory import group_name, inventory_hosts
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record


def _row(name, stale=False, tier=None, **changes):
    return {'name': name, 'first_seen': '2026-11-01T10:00:00Z', 'last_seen': '2026-11-02T10:00:00Z', 'stale': stale,
            'summary': record_summary(record(name, **changes)), 'tier': tier, 'due': '2026-11-20' if tier else None}


def test_group_names_are_safe():
    assert group_name('window', 'sun-early') == 'window_sun_early'
    assert group_name('app', 'My.App') == 'app_my_app'


def test_database_and_register_together():
    restart = {'reboot_required': True, 'reasons': ['x'], 'services': [], 'processes': []}
    apps = [{'name': 'shop-web', 'version': '2.0', 'ecosystem': 'generic', 'path': '/srv/shop', 'source': 'declared'}]
    rows = [_row('web01', tier='critical', restart=restart, applications=apps), _row('old01', stale=True, updates=[])]
    register = {'web01': {'criticality': 'high', 'exposure': 'internet', 'environment': 'prod', 'window': 'sun-early',
                          'patch_group': 'web-a', 'address': '192.0.2.10'},
                'new01': {'environment': 'staging'}}
    hosts = {name: (host_vars, groups) for name, host_vars, groups in inventory_hosts(rows, register)}
    assert sorted(hosts) == ['new01', 'old01', 'web01']
    web_vars, web_groups = hosts['web01']
    assert web_groups == ['app_shop_web', 'criticality_high', 'env_prod', 'exposure_internet', 'os_debian', 'os_debian_12',
                          'patch_group_web_a', 'pending_security', 'reboot_required', 'risk_critical', 'window_sun_early']
    assert web_vars['ansible_host'] == '192.0.2.10'
    assert web_vars['patchwise_security_updates'] == 1 and web_vars['patchwise_reboot_required'] is True
    assert web_vars['patchwise_risk_tier'] == 'critical' and web_vars['patchwise_risk_due'] == '2026-11-20'
    assert web_vars['patchwise_os']['ecosystem'] == 'Debian:12'
    assert hosts['old01'][1] == ['os_debian', 'os_debian_12', 'stale']
    assert hosts['new01'] == ({'patchwise_register': {'environment': 'staging'}}, ['env_staging'])


def test_database_alone_and_register_alone():
    assert [name for name, _v, _g in inventory_hosts([_row("a")], None)] == ["a"]
    assert list(inventory_hosts([], {"b": {}})) == [("b", {}, [])]

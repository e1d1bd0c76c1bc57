# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.patchwise.patching.plugins.filter.patch_plan import FilterModule as PlanFilters
from ansible_collections.patchwise.patching.plugins.filter.risk_classify import FilterModule as RiskFilters
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import build
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

FEEDS = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
risk_classify = RiskFilters().filters()['risk_classify']
patch_plan = PlanFilters().filters()['patch_plan']
PACKAGES = [{'name': 'pw-demo-security', 'version': '1.0-1', 'arch': 'all', 'source_name': 'pw-demo-security', 'source_version': '1.0-1'}]


def test_classify_then_plan_one_record(tmp_path):
    path = str(tmp_path / 'adv.db')
    build(path, [{'type': 'debian', 'src': os.path.join(FEEDS, 'debian-tracker.json')}])
    result = risk_classify(record(packages=PACKAGES, updates=[]), path, register={'exposure': 'internet', 'criticality': 'high'},
                           first_seen={'CVE-2099-0001|pw-demo-security': '2026-11-01'})
    finding, = result['findings']
    assert (finding['id'], finding['fixed'], finding['first_seen']) == ('CVE-2099-0001', '1.0-2', '2026-11-01')
    assert result['host'] == 'web01'
    plan = patch_plan(result, policy={'windows': {'w': {'days': ['sat'], 'time': '22:00-04:00'}}}, register={'window': 'w'},
                      at='2026-11-28T23:00:00Z')
    assert plan['system']['packages'] == [{'name': 'pw-demo-security', 'target': '1.0-2', 'findings': ['CVE-2099-0001']}]
    assert plan['system']['window'] == {'name': 'w', 'open': True}


def test_classify_without_advisory_database_counts_distribution_updates():
    result = risk_classify(record())
    assert [f['id'] for f in result['findings']] == ['security-update:openssl']


def test_filter_errors_are_clear(tmp_path):
    with pytest.raises(AnsibleFilterError, match='asset record of schema 1'):
        risk_classify({'packages': []})
    with pytest.raises(AnsibleFilterError, match=r'nowhere\.db: no advisory database'):
        risk_classify(record(), str(tmp_path / 'nowhere.db'))
    with pytest.raises(AnsibleFilterError, match=r'patchwise_policy\.reboot\.high'):
        risk_classify(record(), policy={'reboot': {'high': 'sometimes'}})
    with pytest.raises(AnsibleFilterError, match='must be a risk result'):
        patch_plan({'tier': 'high'})
    with pytest.raises(AnsibleFilterError, match='is not YYYY-MM-DDTHH:MM:SSZ'):
        patch_plan({'findings': []}, at='tomorrow')

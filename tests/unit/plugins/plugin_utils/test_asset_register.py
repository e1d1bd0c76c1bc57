# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError, load_register

YAML_REGISTER = """
schema: 1
defaults:
  environment: production
  criticality: medium
hosts:
  web01.example.org:
    owner: alice@example.org
    team: web
    criticality: high
    exposure: internet
    window: sun-early
    patch_group: web-a
    approvers: [bob@example.org]
  db01:
    exposure: internal
    environment: staging
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_yaml_register_with_defaults(tmp_path):
    register = load_register(_write(tmp_path, 'register.yml', YAML_REGISTER))
    assert register['web01.example.org'] == {'environment': 'production', 'criticality': 'high', 'owner': 'alice@example.org',
                                             'team': 'web', 'exposure': 'internet', 'window': 'sun-early', 'patch_group': 'web-a',
                                             'approvers': ['bob@example.org']}
    assert register['db01'] == {'environment': 'staging', 'criticality': 'medium', 'exposure': 'internal'}


def test_csv_register(tmp_path):
    text = 'host,owner,criticality,exposure,approvers,exclude\nweb01,alice,very_high,internet,bob; carol,linux-image-*;postgresql-*\ndb01,,low,,,\n'
    register = load_register(_write(tmp_path, 'register.csv', text))
    assert register == {'web01': {'owner': 'alice', 'criticality': 'very_high', 'exposure': 'internet', 'approvers': ['bob', 'carol'],
                                  'exclude': ['linux-image-*', 'postgresql-*']},
                        'db01': {'criticality': 'low'}}


@pytest.mark.parametrize(('text', 'message'), [
    ('hosts:\n  web01: {criticallity: high}\n', r'register.yml: host web01: unknown key\(s\) criticallity'),
    ('hosts:\n  web01: {criticality: extreme}\n', r"register.yml: host web01: criticality 'extreme' is not one of low, medium, high, very_high"),
    ('hosts:\n  web01: {exposure: dmz}\n', r"host web01: exposure 'dmz' is not one of internet, internal, isolated"),
    ('hosts:\n  web01: {window: "sun early"}\n', r"host web01: window 'sun early' must be a name"),
    ('hosts:\n  web01: {approvers: [1, 2]}\n', r'host web01: approvers must be a list of names'),
    ('hosts:\n  web01: {exclude: {a: b}}\n', r'host web01: exclude must be a list of package names or patterns'),
    ('hosts:\n  web01: [a, b]\n', r'host web01: expected a mapping'),
    ('hosts: [web01]\n', r'expected a mapping with a "hosts" mapping'),
    ('schema: 2\nhosts: {}\n', r'register schema 2 is not supported'),
    ('hosts: {}\nowners: {}\n', r'unknown top-level key\(s\) owners'),
    ('hosts: {web01: {owner: [x]}}\n', r'host web01: owner must be a string'),
    ('hosts: {: [\n', r'register.yml: not valid YAML'),
    ('defaults: {exposure: everywhere}\nhosts: {}\n', r'host \(defaults\): exposure'),
])
def test_invalid_yaml_register(tmp_path, text, message):
    with pytest.raises(RegisterError, match=message):
        load_register(_write(tmp_path, 'register.yml', text))


@pytest.mark.parametrize(('text', 'message'), [
    ('name,owner\nweb01,alice\n', r'register.csv: the first row must name the columns, one of them "host"'),
    ('host,owner\nweb01,alice,extra\n', r'register.csv: line 2 has more fields than the header'),
    ('host,owner\n,alice\n', r'register.csv: line 2 has no host'),
    ('host,owner\nweb01,a\nweb01,b\n', r'register.csv: line 3: host web01 is listed twice'),
    ('host,colour\nweb01,red\n', r'register.csv: host web01: unknown key\(s\) colour'),
])
def test_invalid_csv_register(tmp_path, text, message):
    with pytest.raises(RegisterError, match=message):
        load_register(_write(tmp_path, 'register.csv', text))


def test_missing_register(tmp_path):
    with pytest.raises(RegisterError, match=r'nowhere\.yml: cannot read the asset register'):
        load_register(str(tmp_path / 'nowhere.yml'))

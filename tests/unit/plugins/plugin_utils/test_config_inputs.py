# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError, value_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_inputs import policy_with_fingerprint, register_with_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError


def test_policy_file_is_validated_and_hashed_over_its_bytes(tmp_path):
    text = b'patchwise_policy:\n  epss_threshold: 0.3\n'
    (tmp_path / 'policy.yml').write_bytes(text)
    policy, part = policy_with_fingerprint(str(tmp_path / 'policy.yml'))
    assert policy['epss_threshold'] == 0.3
    assert part == {'sha256': hashlib.sha256(text).hexdigest(), 'source': str(tmp_path / 'policy.yml')}


def test_inline_policy_is_hashed_as_given():
    policy, part = policy_with_fingerprint({'epss_threshold': 0.4})
    assert policy['epss_threshold'] == 0.4 and part == value_fingerprint({'epss_threshold': 0.4})


def test_policy_errors_name_the_file_or_key(tmp_path):
    with pytest.raises(ConfigError, match=r'nowhere\.yml: cannot read the policy'):
        policy_with_fingerprint(str(tmp_path / 'nowhere.yml'))
    (tmp_path / 'broken.yml').write_text('epss_threshold: [\n')
    with pytest.raises(PolicyError, match=r'broken\.yml: cannot read the policy'):
        policy_with_fingerprint(str(tmp_path / 'broken.yml'))
    (tmp_path / 'bad.yml').write_text('epss_threshold: 3\n')
    with pytest.raises(PolicyError, match=r'bad\.yml: epss_threshold: must be a probability'):
        policy_with_fingerprint(str(tmp_path / 'bad.yml'))


def test_register_file_is_validated_counted_and_hashed(tmp_path):
    text = b'host,exposure\nweb01,internet\ndb01,isolated\n'
    (tmp_path / 'register.csv').write_bytes(text)
    register, part = register_with_fingerprint(str(tmp_path / 'register.csv'))
    assert register == {'web01': {'exposure': 'internet'}, 'db01': {'exposure': 'isolated'}}
    assert part == {'sha256': hashlib.sha256(text).hexdigest(), 'source': str(tmp_path / 'register.csv'), 'hosts': 2}
    (tmp_path / 'bad.yml').write_text('hosts:\n  web01: {exposure: everywhere}\n')
    with pytest.raises(RegisterError, match=r"bad\.yml: host web01: exposure 'everywhere'"):
        register_with_fingerprint(str(tmp_path / 'bad.yml'))
    with pytest.raises(ConfigError, match=r'nowhere\.yml: cannot read the asset register'):
        register_with_fingerprint(str(tmp_path / 'nowhere.yml'))

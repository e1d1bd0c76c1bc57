# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The policy and the register of a run, each read once, validated and fingerprinted over the same content."""

from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import register_from_text
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import read_fingerprinted, value_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy, policy_from_text


def policy_with_fingerprint(value):
    """``(effective policy, fingerprint)`` of a policy given inline or as the path of a YAML file."""
    if isinstance(value, str):
        text, part = read_fingerprinted(value, 'the policy')
        return policy_from_text(text, value), part
    return load_policy(value), value_fingerprint(value)


def register_with_fingerprint(path):
    """``(register, fingerprint with the number of hosts)`` of the register file ``path``."""
    text, part = read_fingerprinted(path, 'the asset register')
    register = register_from_text(path, text)
    return register, dict(part, hosts=len(register))

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import hashlib

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import (
    SECRET_MARKER,
    ConfigError,
    canonical,
    combined,
    masked,
    read_fingerprinted,
    value_fingerprint,
)


def test_file_fingerprint_is_sha256sum_of_the_bytes(tmp_path):
    policy = tmp_path / 'policy.yml'
    policy.write_bytes(b'epss_threshold: 0.2\n')
    expected = {'sha256': hashlib.sha256(b'epss_threshold: 0.2\n').hexdigest(), 'source': str(policy)}
    assert read_fingerprinted(str(policy)) == ('epss_threshold: 0.2\n', expected)


def test_unreadable_file_names_the_path(tmp_path):
    with pytest.raises(ConfigError, match=r'missing\.yml: cannot read the policy'):
        read_fingerprinted(str(tmp_path / 'missing.yml'), 'the policy')


def test_inline_value_is_hashed_canonically_whatever_the_key_order():
    first = value_fingerprint({'b': [1, 2], 'a': {'y': 'é', 'x': None}})
    second = value_fingerprint({'a': {'x': None, 'y': 'é'}, 'b': [1, 2]})
    assert first == second
    assert first['sha256'] == hashlib.sha256('{"a":{"x":null,"y":"é"},"b":[1,2]}'.encode('utf-8')).hexdigest()
    assert first['source'] == 'inline'
    assert value_fingerprint({'b': [2, 1], 'a': {'x': None, 'y': 'é'}}) != first


def test_dates_serialise_as_text():
    assert canonical({'until': datetime.date(2026, 12, 31)}) == b'{"until":"2026-12-31"}'


def test_secrets_are_masked_before_hashing_but_other_changes_count():
    app = {'name': 'demo', 'artifact': {'url': 'https://x/a.tgz', 'url_password': 'hunter2',
                                        'headers': {'X-Custom': 'abc'}, 'sha256': 'a' * 64}}
    hidden = masked(app)
    assert hidden['artifact']['url_password'] == SECRET_MARKER and hidden['artifact']['headers'] == SECRET_MARKER
    assert hidden['artifact']['sha256'] == 'a' * 64 and hidden['name'] == 'demo'
    assert app['artifact']['url_password'] == 'hunter2', 'the input is not modified'  # noqa: S105 - a test secret
    other_password = dict(app, artifact=dict(app['artifact'], url_password='letmein'))  # noqa: S106 - a test secret
    assert value_fingerprint([app]) == value_fingerprint([other_password])
    other_artifact = dict(app, artifact=dict(app['artifact'], sha256='b' * 64))
    assert value_fingerprint([app]) != value_fingerprint([other_artifact])
    assert b'hunter2' not in canonical(masked([app]))


def test_empty_secret_values_stay_visible():
    # An unset password is configuration too (no credential), and reveals nothing.
    assert masked({'url_password': None, 'headers': {}}) == {'url_password': None, 'headers': {}}


def test_combined_covers_every_part_by_name():
    parts = {'policy': {'sha256': 'p' * 64}, 'register': {'sha256': 'r' * 64}}
    expected = hashlib.sha256(('policy=%s\nregister=%s\n' % ('p' * 64, 'r' * 64)).encode()).hexdigest()
    assert combined(parts) == expected
    assert combined({'register': parts['register'], 'policy': parts['policy']}) == expected
    assert combined({'policy': parts['policy']}) != expected

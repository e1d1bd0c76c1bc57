# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import importlib.util
import json
import sys

from ansible_collections.patchwise.patching.plugins.plugin_utils.code_identity import source_digest


def _module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_digest_follows_each_module_source(tmp_path):
    first, second = tmp_path / 'deciding_one.py', tmp_path / 'deciding_two.py'
    first.write_text('LIMIT = 1\n')
    second.write_text('LIMIT = 2\n')
    modules = (_module(first, 'deciding_one'), _module(second, 'deciding_two'))
    before = source_digest(modules)
    assert source_digest(modules) == before
    assert source_digest(tuple(reversed(modules))) != before
    # An upgrade edits a file: the digest of the same module objects moves with it.
    second.write_text('LIMIT = 3\n')
    after = source_digest(modules)
    assert after != before
    second.write_text('LIMIT = 2\n')
    assert source_digest(modules) == before


def test_a_module_without_a_source_file_counts_by_its_name():
    assert source_digest((sys,)) == source_digest((sys,))
    assert source_digest((sys,)) != source_digest((json,))

# Copyright: (c) 2026, patchwise developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""meta/runtime.yml: the action group holds every module, so module_defaults for the group reach all of them."""

from __future__ import annotations

import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_the_action_group_lists_every_module_and_nothing_else():
    runtime = yaml.safe_load((ROOT / 'meta' / 'runtime.yml').read_text())
    modules = sorted(path.stem for path in (ROOT / 'plugins' / 'modules').glob('*.py') if path.stem != '__init__')
    assert modules, 'no modules found below %s' % ROOT
    assert sorted(runtime['action_groups']['patchwise']) == modules

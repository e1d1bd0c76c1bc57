"""tests/tools/core-free-tests.py: which unit tests the suite runs under the newest ansible-core only.

A test it wrongly calls core-free loses its run under the older core, silently: each way a test can reach
ansible-core is checked here on a small tree of its own.
"""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'core-free-tests.py')

TREE = {
    'plugins/plugin_utils/__init__.py': '',
    'plugins/plugin_utils/fetches.py': 'from ansible.module_utils.urls import open_url\n',
    'plugins/plugin_utils/uses_fetches.py': 'from ansible_collections.patchwise.patching.plugins.plugin_utils import fetches\n',
    'plugins/plugin_utils/relative.py': 'from . import uses_fetches\n',
    'plugins/plugin_utils/plain.py': '"""Run by ansible-playbook, says the docstring: it runs nothing."""\nimport json\n',
    'tests/unit/free/test_plain.py': 'from ansible_collections.patchwise.patching.plugins.plugin_utils.plain import json\n',
    'tests/unit/free/test_far.py': 'from ansible_collections.patchwise.patching.plugins.plugin_utils import uses_fetches\n',
    'tests/unit/free/test_relative.py': 'import ansible_collections.patchwise.patching.plugins.plugin_utils.relative\n',
    'tests/unit/free/test_playbook.py': 'PLAY = "- hosts: all\\n  tasks:\\n    - ansible.builtin.ping:\\n"\n',
    'tests/unit/free/test_command.py': 'import subprocess\nsubprocess.run(["ansible-inventory", "--list"])\n',
    'tests/unit/free/test_other_collection.py': 'from ansible_collections.community.general.plugins.module_utils import mh\n',
    'tests/unit/free/test_core.py': 'import ansible.constants\n',
    'tests/unit/conftested/conftest.py': 'from ansible_collections.patchwise.patching.plugins.plugin_utils import fetches\n',
    'tests/unit/conftested/test_plain_beside.py': 'import json\n',
}


@pytest.fixture
def script(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location('core_free_tests', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in TREE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setattr(module, 'ROOT', str(tmp_path))
    return module


def test_only_tests_that_reach_no_core_are_listed(script, capsys):
    script.main(['tests/unit'])
    assert capsys.readouterr().out.split() == ['tests/unit/free/test_plain.py']


def test_a_missing_test_file_is_an_error_not_a_free_test(script):
    with pytest.raises(SystemExit, match=re.escape('no such test file: tests/unit/free/test_gone.py')):
        script.main(['tests/unit/free/test_gone.py'])

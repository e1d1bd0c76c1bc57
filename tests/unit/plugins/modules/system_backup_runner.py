"""Run the system_backup module's main() in-process and return its result (shared by the module tests)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.patchwise.patching.plugins.modules import system_backup


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result, self.failed = result, failed


def _exit_json(self, **result):
    raise ModuleExit(result, False)


def _fail_json(self, **result):
    raise ModuleExit(result, True)


def run_module(monkeypatch, args, check_mode=False):
    """(failed, result) of one module run with ``args``."""
    args = dict(args, _ansible_check_mode=check_mode)
    context = None
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19 reads the raw JSON
        monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args})))
    else:
        context = patch_module_args(args)
        context.__enter__()
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)
    try:
        with pytest.raises(ModuleExit) as caught:
            system_backup.main()
    finally:
        if context is not None:
            context.__exit__(None, None, None)
    return caught.value.failed, caught.value.result

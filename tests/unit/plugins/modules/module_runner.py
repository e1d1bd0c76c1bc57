"""Run a module's main() in-process, as Ansible would on a host, and return how it ended (shared by the module tests)."""

from __future__ import annotations

import contextlib
import json
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


class ModuleExit(Exception):
    """One module run: the ``result`` it exited with, whether it ``failed`` and the ``warnings`` it gave."""

    def __init__(self, result, failed):
        super().__init__(result)
        self.result, self.failed, self.warnings = result, failed, []


def _exit_json(self, **result):
    raise ModuleExit(result, False)


def _fail_json(self, **result):
    raise ModuleExit(result, True)


def _module_args(args):
    """A context in which AnsibleModule reads ``args`` as its arguments."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19 reads the raw JSON
        return mock.patch.object(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args})))
    return patch_module_args(args)


def run_module(main, args, check_mode=False, diff=False):
    """The ModuleExit of ``main()`` (a module's main function) run with ``args``, in check and diff mode as asked."""
    if '_ansible_check_mode' in args or '_ansible_diff' in args:
        raise ValueError('pass check_mode= and diff= to run_module, not _ansible_check_mode/_ansible_diff in args')
    warnings = []
    with contextlib.ExitStack() as patches:
        patches.enter_context(_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)))
        patches.enter_context(mock.patch.object(basic.AnsibleModule, 'exit_json', _exit_json))
        patches.enter_context(mock.patch.object(basic.AnsibleModule, 'fail_json', _fail_json))
        patches.enter_context(mock.patch.object(basic.AnsibleModule, 'warn', lambda self, warning: warnings.append(warning)))
        with pytest.raises(ModuleExit) as caught:
            main()
    caught.value.warnings = warnings
    return caught.value

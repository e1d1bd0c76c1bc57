"""The module on this machine itself (Debian, signed sources): check mode looks and changes nothing."""
from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.patchwise.patching.plugins.modules import system_precheck


class _Exit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result, self.failed = result, failed


def _run(monkeypatch, args):
    context = None
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19 reads the raw JSON
        monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args})))
    else:
        context = patch_module_args(args)
        context.__enter__()

    def exit_json(self, **result):
        raise _Exit(result, False)

    def fail_json(self, **result):
        raise _Exit(result, True)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    try:
        with pytest.raises(_Exit) as caught:
            system_precheck.main()
    finally:
        if context is not None:
            context.__exit__(None, None, None)
    return caught.value


def test_check_mode_on_this_machine_reports_every_check(monkeypatch):
    outcome = _run(monkeypatch, {'min_free_mib': {'/': 1}, 'lock_timeout': 5, '_ansible_check_mode': True})
    names = [check['name'] for check in outcome.result['checks']]
    assert names == ['lock', 'space', 'sources', 'dpkg', 'refresh']
    assert outcome.result['manager'] == 'apt' and not outcome.result['changed']
    refresh = outcome.result['checks'][-1]
    assert refresh['skipped'] and 'check mode' in refresh['detail']


def test_an_impossible_space_threshold_fails_naming_the_path(monkeypatch):
    outcome = _run(monkeypatch, {'min_free_mib': {'/': 10 ** 9}, 'skip': ['refresh', 'dpkg'], '_ansible_check_mode': True})
    assert outcome.failed and outcome.result['failed_checks'] == ['space']
    assert outcome.result['msg'].startswith('pre-checks failed: space: / has ')


def test_bad_thresholds_are_refused(monkeypatch):
    outcome = _run(monkeypatch, {'min_free_mib': {'/': 'lots'}, '_ansible_check_mode': True})
    assert outcome.failed and outcome.result['msg'].startswith('min_free_mib: every value must be a number of MiB')

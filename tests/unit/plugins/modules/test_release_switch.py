from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.patchwise.patching.plugins.modules import release_switch


class _Exit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result, self.failed = result, failed


def _exit_json(self, **result):
    raise _Exit(result, False)


def _fail_json(self, **result):
    raise _Exit(result, True)


def _set_args(monkeypatch, args):
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19 reads the raw JSON
        monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args})))
        return
    context = patch_module_args(args)
    context.__enter__()
    return context


def _run(monkeypatch, args, check_mode=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)
    context = _set_args(monkeypatch, args)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)
    try:
        with pytest.raises(_Exit) as caught:
            release_switch.main()
    finally:
        if context is not None:
            context.__exit__(None, None, None)
    return caught.value


@pytest.fixture
def app(tmp_path):
    for i, version in enumerate(['v1', 'v2', 'v3']):
        path = tmp_path / 'releases' / version
        path.mkdir(parents=True)
        os.utime(path, (100 + i, 100 + i))
    return tmp_path


def test_switch_then_idempotent(monkeypatch, app):
    first = _run(monkeypatch, {'path': str(app), 'version': 'v2'})
    assert not first.failed
    assert first.result['changed'] and first.result['previous'] is None and first.result['current'] == 'v2'
    assert first.result['diff']['after'] == 'current -> v2\n'
    again = _run(monkeypatch, {'path': str(app), 'version': 'v2'})
    assert again.result['changed'] is False and again.result['previous'] == 'v2'


def test_check_mode_reports_switch_without_making_it(monkeypatch, app):
    _run(monkeypatch, {'path': str(app), 'version': 'v1'})
    checked = _run(monkeypatch, {'path': str(app), 'version': 'v3', 'keep': 1}, check_mode=True)
    assert checked.result['changed'] and checked.result['previous'] == 'v1' and checked.result['current'] == 'v3'
    assert checked.result['removed'] == ['v2']
    assert os.readlink(app / 'current') == os.path.join('releases', 'v1')
    assert (app / 'releases' / 'v2').is_dir()


def test_keep_deletes_oldest_but_not_previous(monkeypatch, app):
    _run(monkeypatch, {'path': str(app), 'version': 'v1'})
    result = _run(monkeypatch, {'path': str(app), 'version': 'v3', 'keep': 1}).result
    assert result['removed'] == ['v2'] and result['releases'] == ['v1', 'v3']
    assert not (app / 'releases' / 'v2').exists()


def test_read_only_without_version(monkeypatch, app):
    _run(monkeypatch, {'path': str(app), 'version': 'v2'})
    result = _run(monkeypatch, {'path': str(app)}).result
    assert result['changed'] is False and result['current'] == 'v2' and result['releases'] == ['v1', 'v2', 'v3']


def test_missing_release_fails_with_path(monkeypatch, app):
    outcome = _run(monkeypatch, {'path': str(app), 'version': 'v9'})
    assert outcome.failed and 'releases/v9 does not exist' in outcome.result['msg']

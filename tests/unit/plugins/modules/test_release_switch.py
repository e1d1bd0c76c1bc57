from __future__ import annotations

import os

import pytest
from ansible_collections.patchwise.patching.plugins.modules import release_switch
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module


def _run(args, check_mode=False):
    """release_switch in diff mode: the tests read its diff."""
    return run_module(release_switch.main, args, check_mode=check_mode, diff=True)


@pytest.fixture
def app(tmp_path):
    for i, version in enumerate(['v1', 'v2', 'v3']):
        path = tmp_path / 'releases' / version
        path.mkdir(parents=True)
        os.utime(path, (100 + i, 100 + i))
    return tmp_path


def test_switch_then_idempotent(app):
    first = _run({'path': str(app), 'version': 'v2'})
    assert not first.failed
    assert first.result['changed'] and first.result['previous'] is None and first.result['current'] == 'v2'
    assert first.result['diff']['after'] == 'current -> v2\n'
    again = _run({'path': str(app), 'version': 'v2'})
    assert again.result['changed'] is False and again.result['previous'] == 'v2'


def test_check_mode_reports_switch_without_making_it(app):
    _run({'path': str(app), 'version': 'v1'})
    checked = _run({'path': str(app), 'version': 'v3', 'keep': 1}, check_mode=True)
    assert checked.result['changed'] and checked.result['previous'] == 'v1' and checked.result['current'] == 'v3'
    assert checked.result['removed'] == ['v2']
    assert os.readlink(app / 'current') == os.path.join('releases', 'v1')
    assert (app / 'releases' / 'v2').is_dir()


def test_keep_deletes_oldest_but_not_previous(app):
    _run({'path': str(app), 'version': 'v1'})
    result = _run({'path': str(app), 'version': 'v3', 'keep': 1}).result
    assert result['removed'] == ['v2'] and result['releases'] == ['v1', 'v3']
    assert not (app / 'releases' / 'v2').exists()


def test_read_only_without_version(app):
    _run({'path': str(app), 'version': 'v2'})
    result = _run({'path': str(app)}).result
    assert result['changed'] is False and result['current'] == 'v2' and result['releases'] == ['v1', 'v2', 'v3']


def test_missing_release_fails_with_path(app):
    outcome = _run({'path': str(app), 'version': 'v9'})
    assert outcome.failed and 'releases/v9 does not exist' in outcome.result['msg']

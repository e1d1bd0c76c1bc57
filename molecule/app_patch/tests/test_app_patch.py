"""State of the hosts after converge (1.0.0 -> 2.0.0) and side_effect (the failed 3.0.0 rollout)."""
import pytest

DEMO = '/opt/patchwise-apps/demo'
PWDEMO = '/opt/patchwise-apps/pwdemo'


def _hostname(host):
    return host.backend.get_hostname()


def test_demo_serves_2_0_0(host):
    assert host.check_output('curl -sf http://127.0.0.1:8080/') == 'demo 2.0.0'
    assert host.check_output('curl -sf http://127.0.0.1:8080/health') == 'ok'


def test_demo_current_link_points_at_2_0_0(host):
    link = host.file(DEMO + '/current')
    assert link.is_symlink and link.linked_to == DEMO + '/releases/2.0.0'
    assert host.service('demo.service').is_running


def test_failed_release_stays_only_where_it_was_tried(host):
    failed_release = host.file(DEMO + '/releases/3.0.0')
    if _hostname(host) == 'app-patch-1':
        assert failed_release.is_directory, 'the rolled-back release must stay for inspection'
        assert host.file(DEMO + '/releases/3.0.0/BROKEN').exists
    else:
        assert not failed_release.exists, 'the rollout must stop before the second host'


@pytest.mark.parametrize('version', ['2.0.1', '2.0.2'])
def test_refused_artifacts_left_nothing(host, version):
    assert not host.file('%s/releases/%s' % (DEMO, version)).exists
    assert not host.file('%s/releases/.%s.partial' % (DEMO, version)).exists


def test_earlier_release_is_kept_for_rollback(host):
    assert host.file(DEMO + '/releases/1.0.0/app.py').exists


def test_virtualenv_service_upgraded_and_rolled_back_by_hand(host):
    # converge upgraded both hosts to 2.0.0; side_effect rolled the first one back to 1.0.0 by hand
    expected = '1.0.0' if _hostname(host) == 'app-patch-1' else '2.0.0'
    assert host.check_output('curl -sf http://127.0.0.1:8081/') == 'pwdemo-service ' + expected
    assert host.file(PWDEMO + '/current').linked_to == PWDEMO + '/releases/' + expected
    assert host.file(PWDEMO + '/releases/2.0.0/bin/pwdemo-service').exists
    listing = host.check_output(PWDEMO + '/releases/1.0.0/bin/pip list --disable-pip-version-check --format=freeze')
    assert 'pwdemo-service==1.0.0' in listing.splitlines(), 'each release has its own virtualenv'


def test_package_strategy_pinned_the_update(host):
    assert host.package('pw-demo-normal').version == '1.1-1'


def _outcomes(name):
    import json
    import os
    import sqlite3

    directory = os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY')
    if not directory:
        pytest.fail('MOLECULE_EPHEMERAL_DIRECTORY is not set: run this through `molecule verify`')
    with sqlite3.connect(os.path.join(directory, 'assets.db')) as connection:
        return [(status, json.loads(detail)) for status, detail in connection.execute(
            "SELECT status, detail FROM patch_outcomes WHERE host = ? AND kind = 'app' ORDER BY id", (name,))]


def test_outcomes_recorded_in_the_asset_database(host):
    outcomes = _outcomes(_hostname(host))
    currents = [(status, [app['current'] for app in detail['applications']]) for status, detail in outcomes]
    assert ('changed', ['2.0.0', '2.0.0', '1.1-1']) in currents, 'converge updated every application: %s' % currents
    rolled_back = [app for status, detail in outcomes if status == 'failed' for app in detail['applications'] if app['rolled_back']]
    if _hostname(host) == 'app-patch-1':
        assert [(app['name'], app['target'], app['current']) for app in rolled_back] == [('demo', '3.0.0', '2.0.0')]
    else:
        assert rolled_back == [], 'the rollout stopped before the second host'


def test_the_failed_host_was_drained_and_undrained(host):
    hooks = host.file('/var/lib/pw-app-hooks')
    if _hostname(host) == 'app-patch-1':
        assert hooks.content_string.splitlines() == ['drain molecule-app-rollout', 'undrain molecule-app-rollout failed']
        [(status, detail)] = [(status, detail) for status, detail in _outcomes('app-patch-1') if detail['run_id'] == 'molecule-app-rollout']
        assert status == 'failed' and detail['post_hooks'] == {'ran': True, 'after_failure': True, 'when_failed': 'run'}
        assert detail['incident']['status'] == 'sent' and detail['silence_expired'] is True
        assert detail['counts']['failed'] == 1
    else:
        assert not hooks.exists, 'the rollout stopped before the second host'


def test_the_gate_outcomes_of_the_second_host(host):
    if _hostname(host) != 'app-patch-2':
        return
    by_run = {detail['run_id']: (status, detail) for status, detail in _outcomes('app-patch-2')}
    assert by_run['molecule-app-window'][0] == 'refused'
    assert by_run['molecule-app-expired'][0] == 'refused' and 'expired' in by_run['molecule-app-expired'][1]['reason']
    status, detail = by_run['molecule-app-approved']
    assert status == 'changed' and detail['change']['id'] == 'CHG-7'
    assert host.package('pw-demo-stepped').version == '1.0-2'

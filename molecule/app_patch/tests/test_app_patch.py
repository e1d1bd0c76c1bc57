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

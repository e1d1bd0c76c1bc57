"""State of the hosts after converge (security mode), idempotence and side_effect (check mode, mode all,
an unsigned source refused, a rollout stopped by pw-failing's failing postinst)."""
import json
import os
import sqlite3

import pytest

EXPECTED_NORMAL = {
    'sp-bookworm-1': '1.1-1',  # side_effect: mode all
    'sp-bookworm-2': '1.1-1',  # the rollout's canary, mode all
    'sp-bookworm-3': '1.0-1',  # the rollout failed here and rolled back
    'sp-bullseye': '1.0-1',    # refused: unsigned source
    'sp-trixie': '1.0-1',      # after the stop: untouched
}


def _name(host):
    return host.backend.get_hostname()


def _version(host, package):
    return host.check_output("dpkg-query -W -f '${Version}' %s" % package)


def _outcomes(run_id):
    """{host: [(status, detail)] in the order recorded} of one run id."""
    path = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'assets.db')
    outcomes = {}
    with sqlite3.connect(path) as db:
        rows = db.execute('SELECT host, status, detail FROM patch_outcomes WHERE run_id = ? AND kind = ? ORDER BY id', (run_id, 'system'))
        for host, status, detail in rows:
            outcomes.setdefault(host, []).append((status, json.loads(detail)))
    return outcomes


def test_security_updates_applied(host):
    assert _version(host, 'pw-demo-security') == '1.0-2'
    assert _version(host, 'pw-libdemo') == '1.0-2'


def test_normal_update_follows_the_mode_and_the_rollout(host):
    assert _version(host, 'pw-demo-normal') == EXPECTED_NORMAL[_name(host)]


def test_held_package_untouched_and_still_held(host):
    assert _version(host, 'pw-demo-held') == '1.0-1'
    assert host.check_output('apt-mark showhold').split() == ['pw-demo-held']


def test_dpkg_is_consistent(host):
    assert host.check_output('dpkg --audit') == ''


def test_failing_package_rolled_back_where_it_was_installed(host):
    if _name(host) == 'sp-bookworm-3':
        assert _version(host, 'pw-failing') == '1.0-1'
        assert host.check_output("dpkg-query -W -f '${db:Status-Abbrev}' pw-failing").strip() == 'ii'
    else:
        assert not host.package('pw-failing').is_installed


def test_service_using_the_replaced_library_was_restarted_unless_never_restart(host):
    daemon = host.service('pw-demod.service')
    assert daemon.is_running
    before = host.file('/var/lib/pw-demod.pid-before').content_string.strip()
    now = host.check_output('systemctl show -p MainPID --value pw-demod.service')
    maps_deleted = host.run('grep -q "libpwdemo.so.1 (deleted)" /proc/%s/maps' % now).rc == 0
    if _name(host) == 'sp-bookworm-2':
        assert now == before, 'pw-demod.service is on the never-restart list'
        assert maps_deleted
    else:
        assert now != before
        assert not maps_deleted


def test_reboot_only_where_required(host):
    reboots = host.file('/var/lib/pw-reboots')
    if _name(host) == 'sp-bookworm-2':
        assert len(reboots.content_string.splitlines()) == 1, 'one reboot, not one per run'
        assert not host.file('/var/run/reboot-required').exists
    else:
        assert not reboots.exists


def _manifest(host, run_id):
    return json.loads(host.file('/var/backups/patchwise/%s/manifest.json' % run_id).content_string)


def _verify_backup(host, run_id):
    base = '/var/backups/patchwise/%s' % run_id
    directory = host.file(base)
    assert directory.is_directory and directory.mode == 0o700 and directory.user == 'root'
    manifest = _manifest(host, run_id)
    listed = manifest['files']
    on_disk = set(host.check_output('cd %s && find . -type f ! -name manifest.json -printf "%%P\\n"' % base).split())
    assert on_disk == set(listed)
    for relative, entry in listed.items():
        expected = entry['sha256'] if isinstance(entry, dict) else entry
        assert host.check_output('sha256sum %s/%s' % (base, relative)).split()[0] == expected, relative
        assert host.file('%s/%s' % (base, relative)).mode == 0o600, relative
    return manifest


def test_backup_before_the_change_is_complete_and_private(host):
    manifest = _verify_backup(host, 'molecule-converge')
    saved = {entry['name']: entry['version'] for entry in manifest['packages']}
    assert saved['pw-demo-security'] == '1.0-1'
    assert saved['pw-libdemo'] == '1.0-1'


def test_failed_host_backup_holds_the_pre_change_packages(host):
    rollout = host.file('/var/backups/patchwise/molecule-rollout')
    if _name(host) == 'sp-bookworm-3':
        saved = {entry['name']: entry['version'] for entry in _verify_backup(host, 'molecule-rollout')['packages']}
        assert saved == {'pw-demo-normal': '1.0-1', 'pw-failing': '1.0-1'}
    elif _name(host) == 'sp-trixie':
        assert not rollout.exists, 'the rollout stopped before sp-trixie'


@pytest.fixture(scope='module')
def converge_outcomes():
    return _outcomes('molecule-converge')


def test_outcome_recorded_with_old_and_new_versions(host, converge_outcomes):
    (status, detail), (second_status, second_detail) = converge_outcomes[_name(host)]  # converge, then idempotence
    assert (second_status, second_detail['packages']) == ('ok', [])
    assert status == 'changed'
    changes = {change['name']: (change['from'], change['to']) for change in detail['packages']}
    assert changes['pw-demo-security'] == ('1.0-1', '1.0-2')
    assert 'pw-demo-normal' in [update['name'] for update in detail['remaining']]
    assert [held['name'] for held in detail['held']] == ['pw-demo-held']
    if _name(host) == 'sp-bookworm-3':
        assert [excluded['name'] for excluded in detail['excluded']] == ['pw-failing']
    assert detail['duration_s'] > 0


def test_rollout_outcomes(host):
    outcomes = _outcomes('molecule-rollout')
    name = _name(host)
    if name == 'sp-bookworm-2':
        assert [status for status, _detail in outcomes[name]] == ['changed']
    elif name == 'sp-bookworm-3':
        [(status, detail)] = outcomes[name]
        assert status == 'rolled_back'
        assert detail['failed'] and detail['step'] == 'apply' and 'pw-failing' in detail['reason']
        assert detail['rollback']['ok']
        assert detail['previous_versions']['pw-failing'] == '1.0-1'
    else:
        assert name not in outcomes


def test_check_mode_recorded_nothing(host):
    assert not _outcomes('molecule-check')


def test_refused_host_recorded_with_the_failed_precheck(host):
    outcomes = _outcomes('molecule-unsigned')
    if _name(host) == 'sp-bullseye':
        [(status, detail)] = outcomes['sp-bullseye']
        assert status == 'failed' and detail['step'] == 'precheck' and detail['packages'] == []
        sources = [check for check in detail['prechecks'] if check['name'] == 'sources'][0]
        assert not sources['ok'] and sources['unsigned'][0]['file'] == '/etc/apt/sources.list.d/unsigned.list'
    else:
        assert _name(host) not in outcomes


def test_hooks_ran_around_the_change_in_order(host):
    hooks = host.file('/var/lib/pw-hooks')
    if _name(host) == 'sp-bookworm-1':
        # pre before the apply step with the packages about to change; post after verification.
        assert hooks.content_string.splitlines() == ['pre backup pw-demo-normal', 'post post_hooks pw-demo-normal']
    else:
        assert not hooks.exists

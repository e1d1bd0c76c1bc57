"""The cycle scenario after converge (cycle.yml), idempotence (a second cycle) and side_effect (bad input, security
mode with a held finding, a failing package): the hosts' packages and services, and what the asset database says."""
import json
import os
import sqlite3

import pytest

# Versions after every step: cy-web fails on pw-failing in side_effect and is rolled back.
EXPECTED = {
    'cy-web': {'pw-libdemo': '1.0-2', 'pw-demo-stepped': '1.0-2', 'pw-noisyd': '1.0-2', 'pw-demo-security': '1.0-1',
               'pw-demo-normal': '1.0-1', 'pw-failing': '1.0-1'},
    'cy-app': {'pw-libdemo': '1.0-2', 'pw-demo-stepped': '1.0-2', 'pw-demo-security': '1.0-1', 'pw-demo-normal': '1.0-1'},
    'cy-db': {'pw-libdemo': '1.0-1', 'pw-demo-stepped': '1.0-1', 'pw-demo-security': '1.0-1', 'pw-demo-normal': '1.0-1'},
}


def _name(host):
    return host.backend.get_hostname()


def _db():
    return sqlite3.connect(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'assets.db'))


def _outcomes(run_id, kind='system'):
    """{host: [(status, detail)] in the order recorded} of one run id."""
    outcomes = {}
    with _db() as db:
        for host, status, detail in db.execute('SELECT host, status, detail FROM patch_outcomes WHERE run_id = ? AND kind = ? ORDER BY id',
                                               (run_id, kind)):
            outcomes.setdefault(host, []).append((status, json.loads(detail)))
    return outcomes


def _findings(host):
    """{finding id: (status, closed)} of the host's OS findings."""
    with _db() as db:
        return {fid: (status, closed) for fid, status, closed in
                db.execute("SELECT finding_id, status, closed FROM findings WHERE host = ? AND kind = 'os'", (host,))}


@pytest.fixture(scope='module')
def cycle():
    return _outcomes('molecule-cycle')


def test_exactly_the_planned_versions_are_installed(host):
    for package, version in EXPECTED[_name(host)].items():
        assert host.check_output("dpkg-query -W -f '${Version}' %s" % package) == version, package
    assert host.check_output('dpkg --audit') == ''


def test_the_plan_follows_the_policy(host, cycle):
    name = _name(host)
    (_status, detail), _again = cycle[name]
    plan = detail['plan']
    assert plan['source'] == 'asset database' and plan['run_id'] == 'molecule-cycle'
    # CVE-2099-1002 is in the KEV catalog and network-exploitable: SSVC deployer says Immediate for the internet-facing
    # host (critical) and Out-of-Cycle for the internal and the isolated one (high).
    assert plan['tier'] == {'cy-web': 'critical', 'cy-app': 'high', 'cy-db': 'high'}[name]
    assert detail['approval_required'] is (name != 'cy-web'), 'the policy asks approval for production'
    assert [h['finding'] for h in detail['plan_held']] == ['PW-2099-1001'], 'held by the policy in every plan'
    if name != 'cy-db':
        assert {(s['name'], s['target'], s['match']) for s in detail['selected']} >= {
            ('pw-libdemo', '1.0-2', 'exact'), ('pw-demo-stepped', '1.0-2', 'exact')}


def test_each_host_ended_as_the_gate_decided(host, cycle):
    name = _name(host)
    (status, detail), (second_status, second) = cycle[name]
    if name == 'cy-db':
        assert (status, second_status) == ('refused', 'refused')
        assert detail['step'] == 'gate' and not detail['failed']
        assert 'CHG-1003' in detail['reason'] and 'mallory@example.org' in detail['reason'] and 'not by an approver of host cy-db' in detail['reason']
        assert detail['counts']['missing'] == 2 and detail['counts']['installed'] == 0
    else:
        assert status == 'changed' and second_status == 'ok' and second['packages'] == [], 'a second cycle changes nothing'
    if name == 'cy-app':
        assert detail['change']['id'] == 'CHG-1002' and detail['change']['approver'] == 'bob@example.org'
        assert detail['emergency'] is False


def test_services_restarted_only_where_allowed(host, cycle):
    name = _name(host)
    before = host.file('/var/lib/pw-demod.pid-before').content_string.strip()
    now = host.check_output('systemctl show -p MainPID --value pw-demod.service')
    (_status, detail), _again = cycle[name]
    if name == 'cy-web':
        assert now != before and 'pw-demod.service' in detail['restarted']
        assert detail['restart_deferred'] == []
    elif name == 'cy-app':
        assert now == before, 'pw-demod is on cy-app\'s never-restart list'
        assert detail['restart_deferred'] == ['pw-demod.service']
        assert host.run('grep -q "libpwdemo.so.1 (deleted)" /proc/%s/maps' % now).rc == 0
    else:
        assert now == before


def test_patch_state_counts_per_host(host, cycle):
    (_status, detail), _again = cycle[_name(host)]
    counts = {state: count for state, count in detail['counts'].items() if count}
    assert counts == {
        'cy-web': {'installed': 3, 'held': 1},          # pw-libdemo, pw-demo-stepped, pw-noisyd; pw-demo-security held
        'cy-app': {'pending_restart': 2, 'held': 1},    # pw-demod not restarted: installed, pending restart
        'cy-db': {'missing': 2, 'held': 1},             # refused at the gate
    }[_name(host)]


def test_fixed_findings_are_closed_with_a_date(host):
    findings = _findings(_name(host))
    if _name(host) == 'cy-db':
        assert findings['PW-2099-1002'] == ('open', None)
    else:
        for fixed in ('PW-2099-1002', 'PW-2099-1003'):
            status, closed = findings[fixed]
            assert status == 'fixed' and closed, fixed
    assert findings['PW-2099-1001'][0] == 'open', 'the held finding stays open'


def test_the_service_that_logs_errors_after_its_update_is_degraded(host, cycle):
    (_status, detail), _again = cycle[_name(host)]
    if _name(host) == 'cy-web':
        assert detail['degraded'] == ['pw-noisyd.service']
        counts = detail['logs']['units']['pw-noisyd.service']
        assert counts['after']['errors'] > counts['before']['errors'] + 5
    else:
        assert detail.get('degraded', []) == []


def test_the_failed_host_ran_its_post_hooks_and_counts_failed(host):
    outcomes = _outcomes('molecule-cycle-fail')
    if _name(host) != 'cy-web':
        assert _name(host) not in outcomes
        return
    [(status, detail)] = outcomes['cy-web']
    assert status == 'rolled_back' and detail['step'] == 'apply' and 'pw-failing' in detail['reason']
    assert detail['post_hooks'] == {'ran': True, 'after_failure': True, 'when_failed': 'run'}
    assert detail['counts']['failed'] == 1
    hooks = host.file('/var/lib/pw-cycle-hooks').content_string.splitlines()
    assert hooks[-2:] == ['pre molecule-cycle-fail', 'post molecule-cycle-fail failed']


def test_security_mode_kept_the_held_package(host):
    outcomes = _outcomes('molecule-cycle-security')
    if _name(host) == 'cy-web':
        [(status, detail)] = outcomes['cy-web']
        assert status == 'ok' and [h['name'] for h in detail['held']] == ['pw-demo-security']


def test_bad_input_changed_nothing_and_was_recorded_as_failures(host):
    outcomes = _outcomes('molecule-cycle-bad')
    if _name(host) == 'cy-db':
        assert [status for status, _detail in outcomes['cy-db']] == ['failed'] * 5
        assert [detail['step'] for _status, detail in outcomes['cy-db']] == ['plan', 'plan', 'gate', 'gate', 'gate']
    else:
        assert _name(host) not in outcomes

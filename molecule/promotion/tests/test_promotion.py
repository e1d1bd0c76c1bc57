"""The promotion scenario after converge (set-1 frozen in staging, installed there, promoted, installed in production),
idempotence and side_effect (set-2 fails staging and is refused promotion): the hosts' versions and the asset database."""
import json
import os
import sqlite3

# pw-demo-stepped: frozen at 1.0-2 though the repository offers 1.0-3; pw-demo-security: rejected by the baseline;
# pw-libdemo: low, waiting 30 days, left out of the set; pw-failing on staging: set-2 failed and was rolled back.
EXPECTED = {
    'pr-stage': {'pw-demo-stepped': '1.0-2', 'pw-demo-security': '1.0-1', 'pw-libdemo': '1.0-1', 'pw-failing': '1.0-1'},
    'pr-prod': {'pw-demo-stepped': '1.0-2', 'pw-demo-security': '1.0-1', 'pw-libdemo': '1.0-1'},
}


def _db():
    return sqlite3.connect(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'assets.db'))


def test_versions(host):
    name = host.backend.get_hostname()
    for package, version in EXPECTED[name].items():
        assert host.package(package).version == version, (name, package)


def test_the_newer_version_was_published_and_production_kept_the_frozen_one(host):
    """pw-demo-stepped 1.0-3 reached the mirror after staging's window: production's own package lists (refreshed by
    its patch run) offer it as the candidate, and the frozen 1.0-2 is what production installed."""
    if host.backend.get_hostname() != 'pr-prod':
        return
    policy = host.run('apt-cache policy pw-demo-stepped')
    assert policy.rc == 0, policy.stderr
    assert 'Candidate: 1.0-3' in policy.stdout, policy.stdout
    assert 'Installed: 1.0-2' in policy.stdout, policy.stdout
    # The snapshot mirror keeps the frozen version installable beside the newer one.
    assert ' 1.0-2 ' in policy.stdout and ' 1.0-3 ' in policy.stdout, policy.stdout


def test_the_application_runs_the_frozen_version(host):
    """pwdemo-service was deployed at 1.0.0 and installed from set-1 at 2.0.0 in both stages; production's attempt
    with a definition shipping 2.1.0 was refused before anything changed."""
    current = host.file('/opt/patchwise-apps/pwdemo-service/current')
    assert current.is_symlink and current.linked_to == '/opt/patchwise-apps/pwdemo-service/releases/2.0.0'
    assert not host.file('/opt/patchwise-apps/pwdemo-service/releases/2.1.0').exists
    assert host.run_test('/opt/patchwise-apps/pwdemo-service/current/bin/python -c "import pwdemo_service"').rc == 0


def test_the_sets_and_the_promotion():
    with _db() as db:
        sets = {set_id: (stage, json.loads(content)) for set_id, stage, content in db.execute('SELECT id, stage, content FROM patch_sets')}
        promotions = db.execute('SELECT set_id, from_stage, to_stage, change_ref, gates FROM patch_set_promotions').fetchall()
    stage, content = sets['set-1']
    # Only the eligible update: pw-demo-security is rejected, pw-libdemo waits.
    assert stage == 'staging' and content['system'] == {'Debian:12': {'pw-demo-stepped': '1.0-2'}}
    assert content['applications'] == {'PyPI': {'pwdemo-service': '2.0.0'}}
    assert sets['set-2'][1]['system']['Debian:12']['pw-failing'] == '1.0-2'
    (set_id, from_stage, to_stage, change_ref, gates), = promotions   # set-2 was refused; idempotence promoted nothing twice
    assert (set_id, from_stage, to_stage, change_ref) == ('set-1', 'staging', 'production', 'CHG-2001')
    assert {gate['gate']: gate['passed'] for gate in json.loads(gates)} == {'coverage': True, 'no_failures': True, 'soak': True}


def test_the_outcomes_name_the_set_and_the_baseline():
    with _db() as db:
        rows = db.execute("SELECT host, run_id, status, detail FROM patch_outcomes WHERE kind = 'system' ORDER BY id").fetchall()
    first = {host: json.loads(detail) for host, run_id, status, detail in rows if run_id == 'molecule-promotion' and status == 'changed'}
    assert set(first) == {'pr-stage', 'pr-prod'}
    for detail in first.values():
        assert detail['patch_set']['id'] == 'set-1'
        assert [(entry['name'], entry['target'], entry['match']) for entry in detail['selected']] == [('pw-demo-stepped', '1.0-2', 'exact')]
        assert detail['counts']['installed'] == 1
    failed = [(host, status) for host, run_id, status, _detail in rows if run_id == 'molecule-promotion-set-2']
    assert failed in ([('pr-stage', 'rolled_back')], [('pr-stage', 'failed')])


def test_the_application_outcomes_name_the_set():
    with _db() as db:
        rows = db.execute("SELECT host, run_id, status, detail FROM patch_outcomes WHERE kind = 'app' ORDER BY id").fetchall()
    from_set = {}
    for host, run_id, status, detail in rows:
        detail = json.loads(detail)
        if (detail.get('patch_set') or {}).get('id') == 'set-1':
            from_set.setdefault(host, []).append((run_id, status, detail))
    for host in ('pr-stage', 'pr-prod'):
        run_id, status, detail = from_set[host][0]
        assert (run_id, status) == ('molecule-promotion', 'changed'), host
        assert detail['plan']['source'] == 'patch set'
        assert [(app['name'], app['previous'], app['current']) for app in detail['applications']] == [('pwdemo-service', '1.0.0', '2.0.0')]
    # The idempotence run changed nothing; the newer definition was refused at the plan step.
    assert [status for run_id, status, _detail in from_set['pr-stage'][1:]] == ['ok']
    refused = [(status, detail['step']) for run_id, status, detail in from_set['pr-prod'] if run_id == 'molecule-promotion-newer-app']
    assert refused == [('failed', 'plan')]

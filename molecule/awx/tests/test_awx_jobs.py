"""AWX jobs against the scenario's two hosts, run the way AWX runs them (molecule.yml says what is checked).

Each job is ``ansible-runner run`` of a private data directory laid out as AWX lays it (awx/main/tasks/jobs.py): the
project (this checkout, as AWX copies a project), ``inventory/hosts`` (an executable script printing the inventory
as JSON), ``env/extravars`` (the job template's extra_vars, its survey defaults, the launch variables and AWX's
``awx_*``/``tower_*`` variables, in AWX's order of precedence), ``env/envvars`` (JOB_ID and the other variables AWX
sets, what the kit's credential types inject, an empty HOME), ``env/settings`` and ``env/cmdline`` (``--check`` for a
check job), with the ident the job id. The inventory is what the kit's ``assets`` inventory source lists, as AWX
syncs it before a job. A directory outside the private data directories stands for the persistent volume the
job templates mount at /var/lib/patchwise, as the EE stands for /runner: the kit's paths are rewritten to them.
"""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

SCENARIO = pathlib.Path(__file__).resolve().parents[1]
ROOT = SCENARIO.parents[1]
# The test suite's PostgreSQL server (tests/unit/postgresql_server.py), from the collection as the venv installs it.
sys.path.insert(0, os.environ.get('ANSIBLE_COLLECTIONS_PATH', str(ROOT / '.venv' / 'collections')).split(':')[0])
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD, PostgreSQL  # noqa: E402

AWX = ROOT / 'awx'
FEEDS = ROOT / 'tests' / 'unit' / 'plugins' / 'fixtures' / 'feeds'
HOSTS = ['awx-one', 'awx-two']
VOLUME_MOUNT = '/var/lib/patchwise'
HMAC_KEY = 'awx-scenario-audit-key'
DATABASE = 'awx_assets'
BIN = pathlib.Path(sys.executable).parent

# What an operator gives at launch ("Prompt on launch" extra variables): the register, the scenario's fixture feeds
# and a policy that accepts their fixed dates; the testbed's hosts are reached as root, without sudo, and patched in
# one batch.
LAUNCH = {
    'patchwise_register': str(SCENARIO / 'files' / 'register.yml'),
    'risk_assessment_feeds': [{'type': 'debian', 'src': str(FEEDS / 'debian-tracker.json')},
                              {'type': 'epss', 'src': str(FEEDS / 'epss.csv')}],
    'patchwise_policy': {'max_feed_age_hours': {'debian': 876000, 'epss': 876000}},
    'patch_systems_become': False,
    'patch_systems_serial': ['100%'],
}


@pytest.fixture(scope='module')
def work():
    ephemeral = os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY')
    if not ephemeral:
        pytest.fail('MOLECULE_EPHEMERAL_DIRECTORY is not set: run this through `molecule verify -s awx`')
    path = pathlib.Path(ephemeral) / 'awx-jobs'
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def _awx_paths(text, volume, private):
    return text.replace(VOLUME_MOUNT, str(volume)).replace('/runner/', str(private) + '/')


def _survey_defaults(survey):
    """The survey answers AWX fills in from the defaults (awx/main/models/mixins.py: only defaults that validate)."""
    answers = {}
    for question in survey['spec']:
        default = question.get('default')
        if default is None:
            continue
        kind = question['type']
        if kind in ('text', 'textarea', 'password'):
            if not isinstance(default, str) or not question.get('min', 0) <= len(default) <= question.get('max', 1024):
                continue
        elif kind == 'integer':
            if not isinstance(default, int) or not question.get('min', default) <= default <= question.get('max', default):
                continue
        elif kind == 'multiselect':
            # AWX validates a multiselect answer as a list; the UI keeps the default as newline-separated text.
            if not isinstance(default, list):
                continue
        elif kind == 'multiplechoice':
            choices = question['choices'].splitlines() if isinstance(question['choices'], str) else question['choices']
            if default not in choices:
                continue
        answers[question['variable']] = default
    return answers


def _template(stem):
    with open(AWX / 'job_templates' / (stem + '.json'), encoding='utf-8') as handle:
        template = json.load(handle)
    with open(AWX / 'surveys' / (stem + '.json'), encoding='utf-8') as handle:
        survey = json.load(handle)
    return template, survey


def _credential(database):
    """What the kit's PostgreSQL credential type injects for ``database``: (environment, extra vars)."""
    with open(AWX / 'credential_types' / 'patchwise_postgresql.json', encoding='utf-8') as handle:
        injectors = json.load(handle)['injectors']
    inputs = {'url': database, 'password': PASSWORD}

    def render(template):
        for key, value in inputs.items():
            template = template.replace('{{ %s }}' % key, value)
        return template

    return ({key: render(value) for key, value in injectors['env'].items()},
            {key: render(value) for key, value in injectors['extra_vars'].items()})


def _sync_inventory(work, name, volume, database, bootstrap=False):
    """What the kit's inventory source lists, as AWX's inventory update runs it: ``ansible-inventory --list`` of the
    configuration file in the project, with the source's source_vars as environment variables. Before the first
    discovery there is no asset database yet: that first update lists the register's hosts alone."""
    with open(AWX / 'inventory_source.json', encoding='utf-8') as handle:
        source = json.load(handle)
    env = {key: _awx_paths(str(value), volume, work) for key, value in (yaml.safe_load(source['source_vars']) or {}).items()}
    # The PostgreSQL credential attached to the source: it sets PATCHWISE_ASSET_DB (the source's comment says so).
    env.update(_credential(database)[0])
    env['PATCHWISE_REGISTER'] = LAUNCH['patchwise_register']
    if bootstrap:
        env.pop('PATCHWISE_ASSET_DB', None)
    home = work / ('home-' + name)
    home.mkdir()
    result = subprocess.run([str(BIN / 'ansible-inventory'), '-i', str(ROOT / source['source_path']), '--list'],
                            env=dict(_base_env(home), ANSIBLE_INVENTORY_UNPARSED_FAILED='1', **env),
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    # AWX writes the job's inventory from its own copy of the hosts, with the inventory's variables: here, how to
    # reach the testbed's containers.
    reach = {'ansible_connection': 'containers.podman.podman', 'ansible_python_interpreter': '/usr/bin/python3'}
    listing.setdefault('all', {}).setdefault('vars', {}).update(reach)
    return listing


def _base_env(home):
    return {'PATH': '%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' % BIN, 'LANG': 'C.UTF-8',
            'HOME': str(home), 'CONTAINERS_CONF': os.environ.get('CONTAINERS_CONF', ''),
            'ANSIBLE_COLLECTIONS_PATH': os.environ.get('ANSIBLE_COLLECTIONS_PATH', str(ROOT / '.venv' / 'collections'))}


class Job:
    def __init__(self, private, ident, process):
        self.artifacts = private / 'artifacts' / str(ident)
        self.home = private.parent / ('home-%s' % ident)
        self.process = process
        self.status = self.rc = self.stdout = None

    def wait(self):
        output, _unused = self.process.communicate(timeout=600)
        self.status = (self.artifacts / 'status').read_text().strip() if (self.artifacts / 'status').exists() else None
        self.rc = int((self.artifacts / 'rc').read_text()) if (self.artifacts / 'rc').exists() else None
        stdout = self.artifacts / 'stdout'
        self.stdout = stdout.read_text() if stdout.exists() else output
        return self

    def check(self):
        assert (self.status, self.rc) == ('successful', 0), self.stdout[-6000:]
        return self


def _start_job(work, job_id, stem, volume, *, inventory, audit_log, database=None, check=False):
    """Lay out the job's private data directory and start ``ansible-runner run`` on it."""
    private = work / ('job-%d' % job_id)
    home = work / ('home-%d' % job_id)
    home.mkdir()
    template, survey = _template(stem)
    # AWX copies the project's checkout into the private data dir.
    subprocess.run([str(ROOT / 'tests' / 'tools' / 'copy-collection.sh'), str(private / 'project')],
                   check=True, stderr=subprocess.DEVNULL)
    (private / 'inventory').mkdir()
    script = private / 'inventory' / 'hosts'
    script.write_text('#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n' % json.dumps(inventory))
    script.chmod(0o700)

    extra_vars = yaml.safe_load(_awx_paths(template['extra_vars'], volume, private)) or {}
    credential_env = {}
    if database:
        # The PostgreSQL credential attached, patchwise_asset_db deleted from the template's extra_vars (as they say).
        del extra_vars['patchwise_asset_db']
        credential_env, credential_vars = _credential(database)
        extra_vars.update(credential_vars)
    if template.get('survey_enabled'):
        extra_vars.update(_survey_defaults(survey))
    extra_vars.update(LAUNCH)
    for prefix in ('awx', 'tower'):
        extra_vars.update({prefix + '_job_id': job_id, prefix + '_job_launch_type': 'manual', prefix + '_user_id': 1,
                           prefix + '_user_name': 'admin', prefix + '_user_email': 'admin@example.org',
                           prefix + '_job_template_name': template['name'], prefix + '_inventory_name': 'patchwise assets',
                           prefix + '_project_revision': 'scenario'})
    env_dir = private / 'env'
    env_dir.mkdir()
    (env_dir / 'extravars').write_text(yaml.safe_dump(extra_vars))
    envvars = {
        'JOB_ID': str(job_id), 'INVENTORY_ID': '1', 'PROJECT_REVISION': 'scenario', 'AWX_HOST': 'https://awx.example.org',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False', 'HOME': str(home),
        # Settings > Jobs > Extra Environment Variables (AWX_TASK_ENV): the audit callback and where its log goes.
        'ANSIBLE_CALLBACKS_ENABLED': 'patchwise.patching.audit', 'PATCHWISE_AUDIT_LOG': audit_log,
        # The "patchwise audit HMAC key" credential.
        'PATCHWISE_AUDIT_HMAC_KEY': HMAC_KEY,
        **credential_env,
    }
    (env_dir / 'envvars').write_text(yaml.safe_dump(envvars))
    (env_dir / 'settings').write_text(json.dumps({'job_timeout': 0, 'suppress_ansible_output': True,
                                                  'suppress_output_file': False}))
    (env_dir / 'cmdline').write_text(('--check ' if check else '') + '-u root')
    process = subprocess.Popen([str(BIN / 'ansible-runner'), 'run', str(private), '-p', template['playbook'],
                                '--ident', str(job_id)],
                               env=_base_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return Job(private, job_id, process)


def _run_job(work, job_id, stem, volume, *, inventory, audit_log, database):
    return _start_job(work, job_id, stem, volume, inventory=inventory, audit_log=audit_log, database=database).wait()


@pytest.fixture(scope='module')
def postgresql():
    """The shared asset database of the jobs: a real PostgreSQL cluster on loopback, as AWX would have one."""
    server = PostgreSQL().start()
    try:
        yield server
    finally:
        server.stop()


def _rows(jobs, sql):
    return [tuple(row) for row in jobs['postgresql'].query(DATABASE, sql)]


def _database_state(jobs):
    """A digest of every table of the asset database, to tell that a job wrote nothing. The audit chain heads are left
    out, as the audit log is: a check run is audited too, and the callback records the head of the log it appended to."""
    tables = [name for (name,) in _rows(jobs, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
    digest = 'SELECT count(*), md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) FROM "%s" t'
    state = {table: _rows(jobs, digest % table)[0] for table in tables if table != 'controller_state'}
    state['controller_state'] = _rows(jobs, "SELECT name, value FROM controller_state WHERE position('audit_head:' in name) <> 1 ORDER BY name")
    return state


def _state(volume):
    """Every file of the volume but the audit trail, with its SHA-256."""
    return {str(path.relative_to(volume)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(volume.rglob('*')) if path.is_file() and 'audit' not in path.relative_to(volume).parts}


def _packages(name):
    return subprocess.run(['podman', 'exec', name, 'dpkg-query', '-W', '-f', '${Package}=${Version}\\n'],
                          capture_output=True, text=True, check=True).stdout


def _audit_records(path):
    with open(path, encoding='utf-8') as handle:
        return [json.loads(line) for line in handle]


def _files_under(home):
    return sorted(str(path.relative_to(home)) for path in home.rglob('*') if path.is_file())


@pytest.fixture(scope='module')
def jobs(work, postgresql):
    """discover -> assess -> discover -> assess -> report with the asset database in PostgreSQL (the kit's
    credential attached) and the advisory database and the audit log on one volume, a package patched by hand
    between the rounds."""
    volume = work / 'volume'
    volume.mkdir()
    audit_log = '%s/audit/patchwise-audit.jsonl' % VOLUME_MOUNT
    log = _awx_paths(audit_log, volume, work)
    database = postgresql.database(DATABASE)
    ran = {'volume': volume, 'audit_log': pathlib.Path(log), 'postgresql': postgresql, 'database': database}
    inventory = _sync_inventory(work, 'sync-0', volume, database, bootstrap=True)
    ran['sync-0'] = inventory
    ran[101] = _run_job(work, 101, 'discover', volume, inventory=inventory, audit_log=log, database=database).check()
    inventory = ran['sync-1'] = _sync_inventory(work, 'sync-1', volume, database)
    ran[102] = _run_job(work, 102, 'assess', volume, inventory=inventory, audit_log=log, database=database).check()
    inventory = ran['sync-2'] = _sync_inventory(work, 'sync-2', volume, database)
    # Someone patches awx-one by hand between the jobs: the next discovery records it, the next assessment closes it.
    subprocess.run(['podman', 'exec', 'awx-one', 'apt-get', 'install', '-y', '-q', 'pw-demo-security=1.0-2'],
                   capture_output=True, check=True)
    ran[103] = _run_job(work, 103, 'discover', volume, inventory=inventory, audit_log=log, database=database).check()
    ran[104] = _run_job(work, 104, 'assess', volume, inventory=inventory, audit_log=log, database=database).check()
    ran[105] = _run_job(work, 105, 'report', volume, inventory=inventory, audit_log=log, database=database).check()
    return ran


def test_the_first_inventory_sync_lists_the_register_and_later_ones_the_stored_state(jobs):
    assert sorted(jobs['sync-0']['_meta']['hostvars']) == HOSTS
    after_discovery = jobs['sync-1']
    assert sorted(after_discovery['os_debian_12']['hosts']) == HOSTS
    assert sorted(after_discovery['pending_security']['hosts']) == HOSTS
    assert after_discovery['exposure_internet']['hosts'] == ['awx-one']
    after_assessment = jobs['sync-2']
    tiers = {host: after_assessment['_meta']['hostvars'][host]['patchwise_risk_tier'] for host in HOSTS}
    for host, tier in tiers.items():
        assert host in after_assessment['risk_' + tier]['hosts']


def test_run_ids_are_the_awx_job_ids(jobs):
    runs = set(_rows(jobs, 'SELECT run_id, stage FROM runs'))
    stored = dict(_rows(jobs, 'SELECT name, run_id FROM hosts'))
    assessed = dict(_rows(jobs, 'SELECT host, run_id FROM risk_results'))
    assert {('awx-101', 'discover'), ('awx-103', 'discover')} <= runs
    assert {'awx-101', 'awx-102', 'awx-103', 'awx-104'} <= {run for run, _stage in runs}
    assert stored == {host: 'awx-103' for host in HOSTS}
    assert assessed == {host: 'awx-104' for host in HOSTS}


def test_later_jobs_see_the_earlier_jobs_history(jobs):
    history = _rows(jobs, 'SELECT host, run_id, kind FROM history ORDER BY id')
    findings = {(host, status): (first, closed) for host, status, first, closed in _rows(
        jobs, "SELECT host, status, first_seen, closed FROM findings WHERE finding_id = 'CVE-2099-0001'")}
    assert ('awx-one', 'awx-101', 'first_seen') in history and ('awx-two', 'awx-101', 'first_seen') in history
    # The second discovery compared each host with the first job's record: awx-one changed, awx-two is not new.
    assert {host for host, run, _kind in history if run == 'awx-103'} == {'awx-one'}
    # The second assessment closed the finding the first one opened on awx-one, and kept it open on awx-two.
    opened, closed = findings[('awx-one', 'fixed')]
    assert closed and opened <= closed
    assert findings[('awx-two', 'open')][1] is None
    assert findings[('awx-two', 'open')][0] == opened


def test_one_audit_chain_across_the_jobs_with_the_job_ids(jobs):
    records = _audit_records(jobs['audit_log'])
    assert [record['seq'] for record in records] == list(range(1, len(records) + 1))
    assert {record['run_id'] for record in records} == {'awx-101', 'awx-102', 'awx-103', 'awx-104', 'awx-105'}
    assert {record.get('operator') for record in records if record.get('operator')} == {'admin'}
    home = jobs['volume'].parent / 'home-verify'
    home.mkdir(exist_ok=True)
    # Against the chain head the last job recorded in the shared database (the credential's PATCHWISE_ASSET_DB).
    verify = subprocess.run([str(BIN / 'ansible'), 'localhost', '-m', 'patchwise.patching.audit_verify',
                             '-a', 'path=%s hmac_key=%s expected_head_db=%s' % (jobs['audit_log'], HMAC_KEY, jobs['database'])],
                            env=dict(_base_env(home), PGPASSWORD=PASSWORD), capture_output=True, text=True, check=False, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    (head,) = _rows(jobs, "SELECT value FROM controller_state WHERE position('audit_head:' in name) = 1")
    assert (json.loads(head[0])['run_id'], json.loads(head[0])['seq']) == ('awx-105', records[-1]['seq'])


def test_the_report_job_writes_its_report_to_the_volume(jobs):
    report = json.loads((jobs['volume'] / 'reports' / 'patch-report.json').read_text())
    # It reports on the last assessment, the previous job's.
    assert report['run_id'] == 'awx-104'
    assert report['compliance']['fleet']['hosts'] == len(HOSTS)
    # It verified the audit trail the jobs wrote on the volume, with the key the credential injects.
    assert report['audit']['valid'] is True and report['audit']['records'] > 0


def test_nothing_of_the_jobs_state_is_under_home(jobs):
    for job_id in (101, 102, 103, 104, 105):
        leftovers = [path for path in _files_under(jobs[job_id].home) if not path.startswith('.ansible/tmp/')]
        assert leftovers == [], 'job %d wrote under HOME: %s' % (job_id, leftovers)


@pytest.fixture(scope='module')
def check_jobs(work, jobs):
    """Two check jobs of the cycle at once (they only read the hosts): one in the same set-up, one on a fresh
    private data dir with an empty volume, its audit log in the job's artifact directory (forwarding only,
    docs/awx.md): ansible-runner names that directory in AWX_ISOLATED_DATA_DIR, and the callback's log_path expands
    environment variables."""
    fresh = work / 'fresh-volume'
    fresh.mkdir()
    before = _state(jobs['volume']), _database_state(jobs), {host: _packages(host) for host in HOSTS}
    same = _start_job(work, 106, 'cycle', jobs['volume'], inventory=jobs['sync-2'], audit_log=str(jobs['audit_log']),
                      database=jobs['database'], check=True)
    new = _start_job(work, 107, 'cycle', fresh, inventory=jobs['sync-2'],
                     audit_log='$AWX_ISOLATED_DATA_DIR/patchwise-audit.jsonl', check=True)
    return {'before': before, 'fresh': fresh, 106: same.wait(), 107: new.wait()}


def test_a_check_job_in_the_same_set_up_changes_nothing(jobs, check_jobs):
    job = check_jobs[106].check()
    assert (_state(jobs['volume']), _database_state(jobs), {host: _packages(host) for host in HOSTS}) == check_jobs['before']
    starts = [record for record in _audit_records(jobs['audit_log']) if record.get('event') == 'playbook_start']
    assert [record['check_mode'] for record in starts if record['run_id'] == 'awx-106'] == [True], job.stdout[-3000:]


def test_a_check_job_on_a_fresh_environment_succeeds_and_creates_nothing(check_jobs):
    job = check_jobs[107].check()
    assert list(check_jobs['fresh'].iterdir()) == []
    leftovers = [path for path in _files_under(job.home) if not path.startswith('.ansible/tmp/')]
    assert leftovers == []
    records = _audit_records(job.artifacts / 'patchwise-audit.jsonl')
    assert {record['run_id'] for record in records} == {'awx-107'}
    assert [record['check_mode'] for record in records if record.get('event') == 'playbook_start'] == [True]

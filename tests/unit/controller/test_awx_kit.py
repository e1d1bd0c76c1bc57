# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX/AAP kit (docs/awx.md): job templates, surveys, credential types and the inventory source hold what AWX's
API takes and only variables the playbooks and roles accept; the execution environment definition yields a build
context with the collection's own requirements; and a job run through ansible-runner as AWX runs it (private
data dir, JOB_ID, awx_job_id and awx_user_name, an empty HOME) passes in check mode with the audit trail carrying
the AWX job id."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys

import jinja2.sandbox
import pytest
import yaml
from ansible_collections.patchwise.patching.plugins.plugin_utils import asset_store
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD

# The collection as Python imports it (pytest may name this file by its resolved path, outside ansible_collections/),
# and the folder holding ansible_collections/.
COLLECTION = pathlib.Path(os.path.abspath(asset_store.__file__)).parents[2]
COLLECTIONS_ROOT = COLLECTION.parents[2]
AWX = COLLECTION / 'awx'
STEMS = ('discover', 'assess', 'patch_systems', 'patch_apps', 'cycle', 'report')
CREDENTIAL_TYPES = sorted(path.stem for path in (AWX / 'credential_types').glob('*.json'))

JOB_TEMPLATE_KEYS = {'name', 'description', 'job_type', 'playbook', 'extra_vars', 'survey_enabled', 'ask_variables_on_launch',
                     'ask_limit_on_launch', 'ask_job_type_on_launch', 'ask_credential_on_launch', 'become_enabled', 'job_slice_count'}
# The fields of POST /api/v2/job_templates/ that a definition may carry; project, inventory, execution_environment and
# credentials are site-specific and given at import (docs/awx.md).
JOB_TEMPLATE_FIELDS = JOB_TEMPLATE_KEYS | {
    'forks', 'limit', 'verbosity', 'job_tags', 'skip_tags', 'timeout', 'use_fact_cache', 'diff_mode', 'allow_simultaneous',
    'ask_inventory_on_launch', 'ask_diff_mode_on_launch', 'ask_verbosity_on_launch', 'ask_tags_on_launch',
    'ask_skip_tags_on_launch', 'ask_execution_environment_on_launch', 'ask_forks_on_launch', 'ask_job_slice_count_on_launch',
    'ask_timeout_on_launch', 'ask_instance_groups_on_launch', 'ask_labels_on_launch', 'ask_scm_branch_on_launch'}
SURVEY_TYPES = {'text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect'}
CREDENTIAL_FIELD_KEYS = {'id', 'label', 'type', 'secret', 'help_text', 'multiline', 'format', 'choices', 'default', 'ask_at_runtime'}
INVENTORY_SOURCE_KEYS = {'name', 'description', 'source', 'source_path', 'source_vars', 'overwrite', 'overwrite_vars',
                         'update_on_launch', 'update_cache_timeout', 'verbosity', 'enabled_var', 'enabled_value', 'host_filter',
                         'timeout'}


def _json(path):
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def _documentation(path):
    """The DOCUMENTATION of a plugin file, read without importing it."""
    for node in ast.parse(path.read_text(encoding='utf-8')).body:
        if isinstance(node, ast.Assign) and any(getattr(target, 'id', '') == 'DOCUMENTATION' for target in node.targets):
            return yaml.safe_load(node.value.value)
    raise AssertionError('%s has no DOCUMENTATION' % path)


def _option_env_names(path):
    return {env['name'] for option in _documentation(path)['options'].values() for env in option.get('env', [])}


def _role_dir(name):
    return COLLECTION / 'roles' / name.rsplit('.', 1)[-1]


def _role_options(name):
    specs = yaml.safe_load((_role_dir(name) / 'meta' / 'argument_specs.yml').read_text(encoding='utf-8'))['argument_specs']
    return {option for spec in specs.values() for option in spec.get('options', {})}


def _role_text(name):
    return '\n'.join(path.read_text(encoding='utf-8') for path in sorted(_role_dir(name).rglob('*.yml')))


def _included_roles(node):
    """Role names a play or task list names: roles:, include_role and import_role."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'roles':
                found.extend(item if isinstance(item, str) else item.get('role', item.get('name')) for item in value)
            elif key.rsplit('.', 1)[-1] in ('include_role', 'import_role'):
                found.append(value['name'])
            else:
                found.extend(_included_roles(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_included_roles(item))
    return found


def _playbook(path, seen=None):
    """(texts, role names) of a playbook and the playbooks it imports."""
    seen = set() if seen is None else seen
    if path in seen:
        return [], []
    seen.add(path)
    text = path.read_text(encoding='utf-8')
    texts, roles = [text], []
    for play in yaml.safe_load(text):
        imported = play.get('ansible.builtin.import_playbook', play.get('import_playbook'))
        if imported:
            more_texts, more_roles = _playbook(path.parent / imported, seen)
            texts.extend(more_texts)
            roles.extend(more_roles)
        roles.extend(_included_roles(play))
    return texts, roles


def _expression_names(text):
    """Identifiers inside Jinja expressions and bare conditions of a playbook's text."""
    expressions = re.findall(r'\{\{(.*?)\}\}', text, re.S)
    expressions += re.findall(r'^\s*-?\s*(?:when|failed_when|changed_when|until):\s*(.+)$', text, re.M)
    expressions += re.findall(r'^\s+- (\w[\w |.()\'",>=<!-]*)$', text, re.M)
    return {name for expression in expressions for name in re.findall(r'[A-Za-z_]\w*', expression)}


def _documented():
    return '\n'.join(path.read_text(encoding='utf-8') for path in [COLLECTION / 'README.md', *sorted((COLLECTION / 'docs').glob('*.md'))])


def _accepted(playbook):
    """Variables a playbook takes: its roles' argument specs, names its expressions read, and documented patchwise_* that it
    or its roles use."""
    texts, roles = _playbook(COLLECTION / playbook)
    accepted = set().union(*(_role_options(role) for role in roles)) if roles else set()
    accepted |= set().union(*(_expression_names(text) for text in texts))
    used = '\n'.join(texts + [_role_text(role) for role in set(roles)])
    documented = _documented()
    accepted |= {name for name in re.findall(r'\bpatchwise_\w+', documented) if re.search(r'\b%s\b' % name, used)}
    return accepted


def _all_role_variables():
    roles = [path.name for path in (COLLECTION / 'roles').iterdir() if (path / 'meta' / 'argument_specs.yml').exists()]
    options = set().union(*(_role_options(role) for role in roles))
    used = '\n'.join(_role_text(role) for role in roles)
    return options | {name for name in re.findall(r'\bpatchwise_\w+', _documented()) if re.search(r'\b%s\b' % name, used)}


def _template_names(value):
    """Variables an injector template reads."""
    names = set()
    for expression in re.findall(r'\{\{(.*?)\}\}', value, re.S):
        names |= set(re.findall(r'(?<![.\w])[A-Za-z_]\w*', re.sub(r'"[^"]*"|\'[^\']*\'', '', expression)))
    return names


def _injected(credential_type, inputs):
    """The env and extra vars AWX injects for a credential of this type with these inputs."""
    environment = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    values = {field['id']: inputs.get(field['id'], '') for field in credential_type['inputs']['fields']}
    injectors = credential_type['injectors']
    return ({name: environment.from_string(template).render(values) for name, template in injectors.get('env', {}).items()},
            {name: environment.from_string(template).render(values) for name, template in injectors.get('extra_vars', {}).items()})


# -- job templates and surveys ----------------------------------------------------------------------------------


@pytest.mark.parametrize('stem', STEMS)
def test_job_template_holds_awx_api_fields(stem):
    template = _json(AWX / 'job_templates' / ('%s.json' % stem))
    assert JOB_TEMPLATE_KEYS <= set(template), JOB_TEMPLATE_KEYS - set(template)
    assert set(template) <= JOB_TEMPLATE_FIELDS, set(template) - JOB_TEMPLATE_FIELDS
    assert template['job_type'] == 'run'
    # A check job is the same template launched with job type "check" (docs/awx.md).
    assert template['ask_job_type_on_launch'] is True
    assert template['playbook'] == 'playbooks/%s.yml' % stem
    assert template['survey_enabled'] is True and (AWX / 'surveys' / ('%s.json' % stem)).is_file()
    assert isinstance(yaml.safe_load(template['extra_vars']), dict)
    assert all(isinstance(template[key], bool) for key in template if key.startswith('ask_') or key.endswith('_enabled'))
    names = [_json(path)['name'] for path in sorted((AWX / 'job_templates').glob('*.json'))]
    assert len(set(names)) == len(names) == len(STEMS)


@pytest.mark.parametrize('stem', STEMS)
def test_survey_spec_is_valid(stem):
    survey = _json(AWX / 'surveys' / ('%s.json' % stem))
    assert set(survey) == {'name', 'description', 'spec'} and survey['spec']
    variables = [question['variable'] for question in survey['spec']]
    assert len(set(variables)) == len(variables), variables
    for question in survey['spec']:
        where = '%s: %s' % (stem, question.get('variable'))
        assert {'question_name', 'question_description', 'required', 'type', 'variable', 'default'} <= set(question), where
        assert question['type'] in SURVEY_TYPES, where
        assert isinstance(question['required'], bool), where
        assert re.fullmatch(r'[a-z_][a-z0-9_]*', question['variable']), where
        default = question['default']
        if question['type'] in ('multiplechoice', 'multiselect'):
            choices = question['choices']
            assert isinstance(choices, list) and choices and all(isinstance(choice, str) for choice in choices), where
            picked = default.split('\n') if question['type'] == 'multiselect' else [default]
            assert set(picked) <= set(choices), where
        elif question['type'] == 'integer':
            assert isinstance(default, int) and question['min'] <= default <= question['max'], where
        else:
            assert isinstance(default, str) and question['min'] <= len(default) <= question['max'], where
        # A required question needs a default, so a launch without answers (a schedule, a workflow) still runs.
        assert not question['required'] or default not in ('', None), where


@pytest.mark.parametrize('stem', STEMS)
def test_survey_and_extra_vars_are_variables_the_playbook_takes(stem):
    template = _json(AWX / 'job_templates' / ('%s.json' % stem))
    assert (COLLECTION / template['playbook']).exists(), 'the job template runs %s, which the collection lacks' % template['playbook']
    accepted = _accepted(template['playbook'])
    survey = {question['variable'] for question in _json(AWX / 'surveys' / ('%s.json' % stem))['spec']}
    assert survey - accepted == set(), 'survey variables %s are not taken by %s' % (sorted(survey - accepted), template['playbook'])
    extra = set(yaml.safe_load(template['extra_vars']))
    assert extra - accepted == set(), 'extra_vars %s are not taken by %s' % (sorted(extra - accepted), template['playbook'])


# -- credential types -----------------------------------------------------------------------------------------------


def test_the_expected_credential_types_exist():
    assert CREDENTIAL_TYPES == ['patchwise_alertmanager', 'patchwise_audit_hmac', 'patchwise_audit_webhook', 'patchwise_change_api',
                                'patchwise_postgresql']


@pytest.mark.parametrize('stem', CREDENTIAL_TYPES)
def test_credential_type_injects_only_its_inputs_into_names_the_code_reads(stem):
    credential_type = _json(AWX / 'credential_types' / ('%s.json' % stem))
    assert set(credential_type) == {'name', 'description', 'kind', 'inputs', 'injectors'}
    # Custom credential types may only be of kind cloud or net.
    assert credential_type['kind'] == 'cloud'
    fields = credential_type['inputs']['fields']
    ids = [field['id'] for field in fields]
    assert len(set(ids)) == len(ids)
    assert all(set(field) <= CREDENTIAL_FIELD_KEYS and field['type'] == 'string' for field in fields), fields
    assert set(credential_type['inputs'].get('required', [])) <= set(ids)
    injectors = credential_type['injectors']
    assert set(injectors) <= {'env', 'extra_vars'} and injectors
    referenced = set()
    for kind in injectors:
        for name, template in injectors[kind].items():
            names = _template_names(template)
            assert names <= set(ids), '%s %s reads %s, not an input of %s' % (kind, name, sorted(names - set(ids)), stem)
            referenced |= names
    assert referenced == set(ids), 'inputs %s are never injected' % sorted(set(ids) - referenced)

    env_names = (_option_env_names(COLLECTION / 'plugins' / 'callback' / 'audit.py')
                 | _option_env_names(COLLECTION / 'plugins' / 'inventory' / 'assets.py')
                 | set(re.findall(r"^ENV_\w+ = '(\w+)'", (COLLECTION / 'plugins' / 'plugin_utils' / 'change_source.py').read_text(), re.M))
                 | set(re.findall(r'\bPG[A-Z]+\b', (COLLECTION / 'docs' / 'postgresql.md').read_text())))
    unknown = set(injectors.get('env', {})) - env_names
    assert unknown == set(), 'environment variables %s are read by no plugin' % sorted(unknown)
    unknown = set(injectors.get('extra_vars', {})) - _all_role_variables()
    assert unknown == set(), 'extra vars %s are taken by no role' % sorted(unknown)


def test_secrets_stay_out_of_urls_and_the_audit_key_and_tokens_reach_the_callback():
    audit = _option_env_names(COLLECTION / 'plugins' / 'callback' / 'audit.py')
    hmac_env, _hmac_vars = _injected(_json(AWX / 'credential_types' / 'patchwise_audit_hmac.json'), {'hmac_key': 'k'})
    assert hmac_env == {'PATCHWISE_AUDIT_HMAC_KEY': 'k'} and set(hmac_env) <= audit
    webhook_env, _webhook_vars = _injected(_json(AWX / 'credential_types' / 'patchwise_audit_webhook.json'), {'url': 'https://a.example', 'token': 't'})
    assert webhook_env == {'PATCHWISE_AUDIT_WEBHOOK_URL': 'https://a.example', 'PATCHWISE_AUDIT_WEBHOOK_TOKEN': 't'}
    pg_env, pg_vars = _injected(_json(AWX / 'credential_types' / 'patchwise_postgresql.json'),
                                {'url': 'postgresql://patchwise@db:5432/patchwise', 'password': 'secret'})
    assert pg_env == {'PGPASSWORD': 'secret', 'PATCHWISE_ASSET_DB': 'postgresql://patchwise@db:5432/patchwise'}
    assert pg_vars == {'patchwise_asset_db': 'postgresql://patchwise@db:5432/patchwise'}
    change_env, change_vars = _injected(_json(AWX / 'credential_types' / 'patchwise_change_api.json'),
                                        {'url': 'https://example.service-now.com', 'token': 't'})
    assert change_env['PATCHWISE_CHANGE_API_TOKEN'] == 't'  # noqa: S105 - a test value
    assert change_vars == {'patchwise_change_source': 'https://example.service-now.com'}
    for path in (AWX / 'credential_types').glob('*.json'):
        credential_type = _json(path)
        secrets = {field['id'] for field in credential_type['inputs']['fields'] if field.get('secret')}
        for template in credential_type['injectors'].get('extra_vars', {}).values():
            # A secret never travels inside another value (a URL, a mapping): only on its own, where AWX masks it.
            assert not (_template_names(template) & secrets) or template.strip() in {'{{ %s }}' % name for name in secrets}


# -- inventory source ------------------------------------------------------------------------------------------------


def test_inventory_source_definition():
    source = _json(AWX / 'inventory_source.json')
    assert {'name', 'source', 'source_path', 'source_vars'} <= set(source) and set(source) <= INVENTORY_SOURCE_KEYS
    assert source['source'] == 'scm'
    config_path = COLLECTION / source['source_path']
    # The assets plugin's verify_file accepts patchwise_assets.yml or a name ending in .patchwise_assets.yml.
    assert config_path.name == 'patchwise_assets.yml' or config_path.name.endswith('.patchwise_assets.yml')
    config = yaml.safe_load(config_path.read_text(encoding='utf-8'))
    assert config['plugin'] == 'patchwise.patching.assets'
    options = set(_documentation(COLLECTION / 'plugins' / 'inventory' / 'assets.py')['options'])
    assert set(config) <= options | {'compose', 'groups', 'keyed_groups', 'strict', 'leading_separator', 'use_extra_vars', 'cache',
                                     'cache_plugin', 'cache_timeout', 'cache_connection', 'cache_prefix'}
    # Environment variables of an SCM inventory update: only those the plugin reads.
    source_vars = yaml.safe_load(source['source_vars']) or {}
    assert set(source_vars) <= _option_env_names(COLLECTION / 'plugins' / 'inventory' / 'assets.py')


def test_inventory_source_lists_the_fleet_with_what_awx_injects(tmp_path, asset_db):
    """The inventory update as AWX runs it: the project's configuration file, the database from the PostgreSQL
    credential's environment (URL and PGPASSWORD) or from the source's environment variables (an SQLite file)."""
    with AssetStore(asset_db) as store:
        store.store_records({'web01': record(), 'db01': record('db01', updates=[])})
    env = {key: value for key, value in os.environ.items() if key not in ('PGPASSWORD', 'PATCHWISE_ASSET_DB', 'PATCHWISE_REGISTER')}
    if asset_db.startswith('postgresql://'):
        injected, _extra_vars = _injected(_json(AWX / 'credential_types' / 'patchwise_postgresql.json'), {'url': asset_db, 'password': PASSWORD})
    else:
        injected = {name: asset_db for name in yaml.safe_load(_json(AWX / 'inventory_source.json')['source_vars'])}
    env.update(injected, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_NOCOLOR='1', HOME=str(tmp_path),
               ANSIBLE_INVENTORY_UNPARSED_FAILED='1', ANSIBLE_INVENTORY_ENABLED='patchwise.patching.assets')
    config = COLLECTION / _json(AWX / 'inventory_source.json')['source_path']
    process = subprocess.run([sys.executable, '-m', 'ansible.cli.inventory', '-i', str(config), '--list'], cwd=str(COLLECTION),
                             env=env, capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stderr
    listing = json.loads(process.stdout)
    assert sorted(listing['os_debian_12']['hosts']) == ['db01', 'web01']
    assert listing['pending_security']['hosts'] == ['web01']


# -- execution environment ----------------------------------------------------------------------------------------


def _pins(path):
    return dict(line.split('==', 1) for line in path.read_text(encoding='utf-8').split() if '==' in line)


def test_execution_environment_definition():
    definition = yaml.safe_load((COLLECTION / 'execution-environment.yml').read_text(encoding='utf-8'))
    assert definition['version'] == 3
    dependencies = definition['dependencies']
    assert dependencies['python'] == 'requirements.txt' and dependencies['system'] == 'bindep.txt'
    assert (COLLECTION / 'requirements.txt').is_file() and (COLLECTION / 'bindep.txt').is_file()
    # The image runs the same ansible-core and ansible-runner as the tests.
    pins = _pins(COLLECTION / 'tests' / 'requirements' / 'dev.txt')
    assert dependencies['ansible_core']['package_pip'] == 'ansible-core==%s' % pins['ansible-core']
    assert dependencies['ansible_runner']['package_pip'] == 'ansible-runner==%s' % pins['ansible-runner']
    assert 'psycopg' in (COLLECTION / 'requirements.txt').read_text() and 'libpq5' in (COLLECTION / 'bindep.txt').read_text()
    # The collection tarball is one of the build files, named where the galaxy stage (WORKDIR /build) installs it from.
    collections = dependencies['galaxy']['collections']
    assert [entry['type'] for entry in collections] == ['file']
    build_files = {entry['dest'] + '/' + pathlib.PurePath(entry['src']).name for entry in definition['additional_build_files']}
    assert {entry['name'] for entry in collections} <= build_files


def test_ansible_builder_creates_the_build_context(tmp_path):
    if importlib.util.find_spec('ansible_builder') is None:
        pytest.fail('ansible-builder is not installed in this Python (tests/unit/requirements.txt pins it)')
    for name in ('execution-environment.yml', 'requirements.txt', 'bindep.txt'):
        shutil.copy(COLLECTION / name, tmp_path / name)
    # The collection tarball `make ee` builds; ansible-builder create only copies it into the context.
    tarball = tmp_path / '.cache' / 'ee' / 'patchwise-patching.tar.gz'
    tarball.parent.mkdir(parents=True)
    tarball.write_bytes(b'collection tarball')
    (tarball.parent / 'ca-certificates').mkdir()
    (tarball.parent / 'ca-certificates' / 'site-ca.crt').write_text('a site CA\n')
    context = tmp_path / 'context'
    process = subprocess.run([sys.executable, '-m', 'ansible_builder', 'create', '--file', str(tmp_path / 'execution-environment.yml'),
                              '--context', str(context), '--output-filename', 'Containerfile'],
                             capture_output=True, text=True, check=False, env=dict(os.environ, HOME=str(tmp_path)))
    assert process.returncode == 0, process.stdout + process.stderr
    build = context / '_build'
    assert (build / 'requirements.txt').read_text() == (COLLECTION / 'requirements.txt').read_text()
    assert (build / 'bindep.txt').read_text() == (COLLECTION / 'bindep.txt').read_text()
    assert (build / 'collections' / 'patchwise-patching.tar.gz').read_bytes() == b'collection tarball'
    assert yaml.safe_load((build / 'requirements.yml').read_text()) == {
        'collections': [{'name': 'collections/patchwise-patching.tar.gz', 'type': 'file'}]}
    assert (build / 'ca-certificates' / 'site-ca.crt').read_text() == 'a site CA\n'
    assert {'assemble', 'install-from-bindep', 'introspect.py', 'entrypoint'} <= {path.name for path in (build / 'scripts').iterdir()}
    containerfile = (context / 'Containerfile').read_text()
    assert 'ARG EE_BASE_IMAGE="docker.io/library/debian:bookworm"' in containerfile
    assert 'ARG PKGMGR="/usr/bin/apt-get"' in containerfile
    assert 'ansible-core==2.19' in containerfile and 'ansible-runner==' in containerfile
    assert 'apt-get install -y --no-install-recommends python3 python3-pip' in containerfile
    assert 'COPY _build/ca-certificates/ /usr/local/share/ca-certificates/' in containerfile and 'update-ca-certificates' in containerfile
    assert re.search(r'^RUN ansible-doc -l patchwise\.patching', containerfile, re.M)
    # The final image runs as a user, with ansible-runner's entrypoint, as AWX expects.
    assert containerfile.rstrip().endswith('USER 1000\nENTRYPOINT ["/opt/builder/bin/entrypoint", "dumb-init"]\nCMD ["bash"]')


# -- a job as AWX runs it ----------------------------------------------------------------------------------------------


def test_check_job_through_ansible_runner_keeps_the_awx_job_id(tmp_path):
    """playbooks/demo.yml as an AWX "Check" job: nothing is written under the empty HOME, and every audit record
    carries run id awx-<job id> and the launching user."""
    try:
        import ansible_runner
    except ImportError:
        pytest.fail('ansible-runner is not installed in this Python (tests/unit/requirements.txt pins it)')
    job_id = 4242
    private = tmp_path / 'job'
    home = tmp_path / 'home'
    tools = tmp_path / 'bin'
    for path in (private / 'env', private / 'inventory', home, tools):
        path.mkdir(parents=True)
    # AWX checks the project out into the private data dir; here it is this checkout.
    (private / 'project').symlink_to(COLLECTION, target_is_directory=True)
    (private / 'inventory' / 'hosts').write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    (private / 'env' / 'extravars').write_text(json.dumps({'awx_job_id': job_id, 'awx_user_name': 'alice', 'tower_job_id': job_id}))
    (private / 'env' / 'cmdline').write_text('--check')
    # The audit log in the job's artifact directory, as docs/awx.md gives it: ansible-runner names that directory in
    # AWX_ISOLATED_DATA_DIR, and the callback's path option expands it.
    audit_log = private / 'artifacts' / str(job_id) / 'patchwise-audit.jsonl'
    (private / 'env' / 'envvars').write_text(json.dumps({
        'JOB_ID': str(job_id), 'HOME': str(home), 'ANSIBLE_COLLECTIONS_PATH': str(COLLECTIONS_ROOT),
        'ANSIBLE_CALLBACKS_ENABLED': 'patchwise.patching.audit',
        'PATCHWISE_AUDIT_LOG': '$AWX_ISOLATED_DATA_DIR/patchwise-audit.jsonl',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'), 'ANSIBLE_NOCOLOR': '1',
        'PATH': '%s:%s' % (tools, os.environ.get('PATH', ''))}))
    # ansible-runner runs "ansible-playbook" from PATH: the one of this Python, which has the collection's requirements.
    wrapper = tools / 'ansible-playbook'
    wrapper.write_text('#!/bin/sh\nexec %s -m ansible.cli.playbook "$@"\n' % sys.executable)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)

    runner = ansible_runner.run(private_data_dir=str(private), playbook='playbooks/demo.yml', ident=str(job_id), quiet=True)
    output = runner.stdout.read()
    assert (runner.rc, runner.status) == (0, 'successful'), output[-6000:]
    # A check job keeps nothing: no databases under HOME (ansible's own temporary directory aside).
    assert sorted(path.name for path in home.iterdir()) in ([], ['.ansible']), sorted(home.rglob('*'))
    assert not (home / '.local').exists()
    entries = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert {entry['run_id'] for entry in entries} == {'awx-%d' % job_id}
    assert {entry['operator'] for entry in entries} == {'alice'}
    assert entries[0]['event'] == 'playbook_start' and entries[0]['check_mode'] is True
    assert entries[-1]['event'] == 'playbook_end'
    assert {entry['status'] for entry in entries if entry['event'] == 'host_result'} <= {'ok', 'changed', 'skipped'}

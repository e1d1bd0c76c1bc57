from __future__ import annotations

import os

import pytest
from ansible_collections.patchwise.patching.plugins.modules import asset_facts
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module


class _FailingModule:
    def fail_json(self, msg):
        raise ValueError(msg)


@pytest.mark.parametrize('requested, expected', [
    (['all'], ['applications', 'listening', 'os', 'packages', 'restart', 'services', 'updates']),
    (['packages'], ['os', 'packages']),
    (['applications'], ['applications', 'os']),
    (['!services', '!listening'], ['applications', 'os', 'packages', 'restart', 'updates']),
    (['all', '!updates', '!applications'], ['listening', 'os', 'packages', 'restart', 'services']),
])
def test_subsets(requested, expected):
    assert asset_facts._subsets(_FailingModule(), requested) == expected


def test_unknown_subset():
    with pytest.raises(ValueError, match="unknown subset 'pakages'"):
        asset_facts._subsets(_FailingModule(), ['pakages'])


@pytest.mark.parametrize('entry, message', [
    ({'name': 'a', 'version_command': 'a -v', 'version_file': '/a'}, 'mutually exclusive'),
    ({'name': 'a'}, 'one of the following is required'),
    ({'version_file': '/a'}, 'missing required arguments: name'),
    ({'name': 'a', 'version_command': 'a -v', 'versoin_regex': 'x'}, 'versoin_regex'),
    ({'name': 'a', 'version_command': 'a -v', 'version_regex': '(x'},
     'applications[0] (a): version_regex is not a valid regular expression'),
])
def test_declared_application_options_are_validated(entry, message):
    result = run_module(asset_facts.main, {'gather_subset': ['applications'], 'applications': [entry]})
    assert result.failed
    assert message in result.result['msg']


def _tree(tmp_path):
    site = tmp_path / 'venv' / 'lib' / 'python3.11' / 'site-packages' / 'Jinja2-3.1.4.dist-info'
    site.mkdir(parents=True)
    (site / 'METADATA').write_text('Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.4\n\n')
    package = tmp_path / 'node_modules' / '@babel' / 'core'
    package.mkdir(parents=True)
    (package / 'package.json').write_text('{"name": "@babel/core", "version": "7.24.0"}')
    (tmp_path / 'VERSION').write_text('5.2.0\n')
    return tmp_path


def test_applications_in_record_and_summary(tmp_path):
    tree = _tree(tmp_path)
    result = run_module(asset_facts.main, {
        'gather_subset': ['applications'],
        'python_paths': [str(tree / 'venv'), str(tree / 'missing')],
        'node_modules_paths': [str(tree / 'node_modules')],
        'applications': [{'name': 'myapp', 'version_file': str(tree / 'VERSION'), 'ecosystem': 'Go'},
                         {'name': 'ghost', 'version_command': 'patchwise-no-such-command --version'}],
    }, check_mode=True)
    assert not result.failed, result.result
    assert result.result['changed'] is False
    record = result.result['record']
    assert record['collected'] == ['applications', 'os']
    assert [(app['name'], app['version'], app['ecosystem'], app['source']) for app in record['applications']] == [
        ('jinja2', '3.1.4', 'PyPI', 'python'),
        ('@babel/core', '7.24.0', 'npm', 'npm'),
        ('myapp', '5.2.0', 'Go', 'declared'),
        ('ghost', None, 'generic', 'declared'),
    ]
    assert record['applications'][3]['error'] == 'version_command: patchwise-no-such-command not found in PATH'
    assert record['packages'] == [] and record['updates'] == []
    facts = result.result['ansible_facts']['patchwise']
    assert facts['counts']['applications'] == 4
    assert {'name': 'jinja2', 'version': '3.1.4', 'ecosystem': 'PyPI'} in facts['applications']
    assert all(set(app) == {'name', 'version', 'ecosystem'} for app in facts['applications'])
    assert result.warnings == [
        'python_paths: %s is not a directory' % (tree / 'missing'),
        'applications: ghost: version_command: patchwise-no-such-command not found in PATH',
    ]


def test_applications_not_read_unless_asked(tmp_path):
    tree = _tree(tmp_path)
    result = run_module(asset_facts.main, {'gather_subset': ['!packages', '!services', '!listening', '!updates', '!restart',
                                                             '!applications'],
                                           'python_paths': [str(tree / 'venv')]})
    assert result.result['record']['applications'] == []


class _FakeDnfModule:
    """Just enough of AnsibleModule for _dnf_updates: commands are answered from a table."""

    def __init__(self, answers, update_cache=False, check_mode=False):
        self.answers, self.calls = answers, []
        self.params = {'update_cache': update_cache}
        self.check_mode = check_mode

    def get_bin_path(self, name, required=False):
        return '/usr/bin/%s' % name

    def run_command(self, args, environ_update=None):
        self.calls.append([os.path.basename(args[0]), *args[1:]])
        for prefix, answer in self.answers.items():
            if ' '.join(self.calls[-1]).startswith(prefix):
                return answer
        raise AssertionError('unexpected command %r' % self.calls[-1])

    def fail_json(self, msg):
        raise ValueError(msg)


_DNF_ANSWERS = {
    'dnf -q makecache': (0, '', ''),
    'dnf -q -C check-update': (100, '\ncurl.x86_64  7.76.1-29.el9_4.1  baseos\n', ''),
    'dnf -q -C updateinfo list --updates': (0, 'RHSA-2024:4241 Moderate/Sec.  curl-7.76.1-29.el9_4.1.x86_64\n', ''),
    'rpm -qa': (0, 'curl\t0\t7.76.1\t26.el9_3.3\tx86_64\tcurl-7.76.1-26.el9_3.3.src.rpm\n', ''),
}


def test_dnf_updates_from_the_cache_only():
    module = _FakeDnfModule(_DNF_ANSWERS)
    updates = asset_facts._dnf_updates(module, None)
    assert updates == [{'name': 'curl', 'arch': 'x86_64', 'current': '7.76.1-26.el9_3.3', 'available': '7.76.1-29.el9_4.1',
                        'security': True, 'origin': 'baseos', 'advisories': ['RHSA-2024:4241'], 'severity': 'Moderate'}]
    assert [call[:3] for call in module.calls] == [['dnf', '-q', '-C'], ['dnf', '-q', '-C'], ['rpm', '-qa', '--queryformat']]


def test_dnf_updates_refresh_only_when_asked_and_not_in_check_mode():
    refreshed = _FakeDnfModule(_DNF_ANSWERS, update_cache=True)
    asset_facts._dnf_updates(refreshed, [])
    assert refreshed.calls[0] == ['dnf', '-q', 'makecache']
    checked = _FakeDnfModule(_DNF_ANSWERS, update_cache=True, check_mode=True)
    asset_facts._dnf_updates(checked, [])
    assert ['dnf', '-q', 'makecache'] not in checked.calls


def test_dnf_check_update_failure_is_explained():
    module = _FakeDnfModule(dict(_DNF_ANSWERS, **{'dnf -q -C check-update': (1, '', "Error: Cache-only enabled but no cache for 'baseos'")}))
    with pytest.raises(ValueError, match=r"check-update failed \(rc=1\).*no cache for 'baseos'.*update_cache=true"):
        asset_facts._dnf_updates(module, [])

from __future__ import annotations

import json
import os

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.asset_apps import (
    DEFAULT_VERSION_REGEX,
    application_summary,
    compile_declared,
    declared_application,
    extract_version,
    find_declared_applications,
    find_node_applications,
    find_python_applications,
    normalize_pypi_name,
    parse_core_metadata,
    python_distributions,
    site_packages_dirs,
)

# The head of a real wheel METADATA file (metadata 2.1, as pip installs it).
METADATA = '''Metadata-Version: 2.1
Name: Jinja2
Version: 3.1.4
Summary: A very fast and expressive template engine.
Maintainer-email: Pallets <contact@palletsprojects.com>
Requires-Python: >=3.7
Description-Content-Type: text/markdown
Classifier: Development Status :: 5 - Production/Stable
Requires-Dist: MarkupSafe>=2.0

# Jinja

Version: 9.9.9 in the description is not a header.
'''


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)


def _dist_info(site, dirname, name, version):
    _write(os.path.join(site, dirname, 'METADATA'), 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n\nbody\n' % (name, version))


@pytest.mark.parametrize('name, expected', [
    ('Jinja2', 'jinja2'),
    ('ruamel.yaml', 'ruamel-yaml'),
    ('typing_extensions', 'typing-extensions'),
    ('Foo__Bar-.-baz', 'foo-bar-baz'),
    ('ansible-core', 'ansible-core'),
])
def test_normalize_pypi_name(name, expected):
    assert normalize_pypi_name(name) == expected


def test_parse_core_metadata_reads_headers_only():
    assert parse_core_metadata(METADATA) == ('Jinja2', '3.1.4')
    assert parse_core_metadata('Metadata-Version: 2.1\nName: x\n\nVersion: 1.0\n') == ('x', None)
    assert parse_core_metadata('') == (None, None)


def test_python_distributions(tmp_path):
    site = str(tmp_path)
    _write(os.path.join(site, 'Jinja2-3.1.4.dist-info', 'METADATA'), METADATA)
    _dist_info(site, 'ruamel.yaml-0.18.6.dist-info', 'ruamel.yaml', '0.18.6')
    # egg-info as a directory (setup.py develop / old installs) and as a single file (distutils).
    _write(os.path.join(site, 'legacy_pkg-1.2.egg-info', 'PKG-INFO'), 'Metadata-Version: 1.0\nName: Legacy_Pkg\nVersion: 1.2\n')
    _write(os.path.join(site, 'single-0.3.egg-info'), 'Metadata-Version: 1.1\nName: single\nVersion: 0.3\n')
    _write(os.path.join(site, 'Old.Egg-2.0-py3.11.egg', 'EGG-INFO', 'PKG-INFO'), 'Name: Old.Egg\nVersion: 2.0\n')
    # Not distributions: a package directory and a module.
    _write(os.path.join(site, 'jinja2', '__init__.py'), '')
    _write(os.path.join(site, 'six.py'), '')
    found, problems = python_distributions(site)
    assert problems == []
    assert {(app['name'], app['version']) for app in found} == {
        ('jinja2', '3.1.4'), ('ruamel-yaml', '0.18.6'), ('legacy-pkg', '1.2'), ('single', '0.3'), ('old-egg', '2.0')}
    jinja = next(app for app in found if app['name'] == 'jinja2')
    assert jinja == {'name': 'jinja2', 'version': '3.1.4', 'ecosystem': 'PyPI',
                     'path': os.path.join(site, 'Jinja2-3.1.4.dist-info'), 'source': 'python'}


def test_python_distributions_bad_metadata(tmp_path):
    site = str(tmp_path)
    _dist_info(site, 'good-1.0.dist-info', 'good', '1.0')
    _write(os.path.join(site, 'noversion-1.0.dist-info', 'METADATA'), 'Metadata-Version: 2.1\nName: noversion\n')
    _write(os.path.join(site, 'noname-1.0.dist-info', 'METADATA'), 'Metadata-Version: 2.1\nVersion: 1.0\n')
    os.makedirs(os.path.join(site, 'nometadata-1.0.dist-info'))
    found, problems = python_distributions(site)
    assert [app['name'] for app in found] == ['good']
    assert len(problems) == 3
    assert any('noversion-1.0.dist-info/METADATA has no Version header' in problem for problem in problems)
    assert any('noname-1.0.dist-info/METADATA has no Name header' in problem for problem in problems)
    assert any('cannot read' in problem and 'nometadata-1.0.dist-info/METADATA' in problem for problem in problems)


def test_site_packages_dirs_of_a_virtualenv(tmp_path):
    venv = tmp_path / 'venv'
    site = venv / 'lib' / 'python3.11' / 'site-packages'
    site.mkdir(parents=True)
    (venv / 'lib64').symlink_to('lib')          # as venv creates it on 64-bit Linux
    (venv / 'pyvenv.cfg').write_text('home = /usr/bin\n')
    assert site_packages_dirs(str(venv)) == [str(site)]
    # A site-packages directory given directly is used as it is.
    assert site_packages_dirs(str(site)) == [str(site)]


def test_find_python_applications(tmp_path):
    venv = tmp_path / 'venv'
    site = venv / 'lib' / 'python3.12' / 'site-packages'
    _dist_info(str(site), 'ansible_core-2.19.14.dist-info', 'ansible-core', '2.19.14')
    other = tmp_path / 'dist-packages'
    _dist_info(str(other), 'PyYAML-6.0.1.dist-info', 'PyYAML', '6.0.1')
    empty = tmp_path / 'empty'
    empty.mkdir()
    found, problems = find_python_applications([str(venv), str(other), str(empty), str(tmp_path / 'missing')])
    assert [(app['name'], app['version'], app['path']) for app in found] == [
        ('ansible-core', '2.19.14', str(site / 'ansible_core-2.19.14.dist-info')),
        ('pyyaml', '6.0.1', str(other / 'PyYAML-6.0.1.dist-info')),
    ]
    assert problems == [
        'python_paths: no Python distributions (*.dist-info, *.egg-info) found in %s' % empty,
        'python_paths: %s is not a directory' % (tmp_path / 'missing'),
    ]


def _package(directory, name, version):
    _write(os.path.join(directory, 'package.json'), json.dumps({'name': name, 'version': version, 'license': 'MIT'}))


def test_find_node_applications(tmp_path):
    modules = tmp_path / 'node_modules'
    _package(str(modules / 'express'), 'express', '4.19.2')
    _package(str(modules / '@babel' / 'core'), '@babel/core', '7.24.0')
    _package(str(modules / '@babel' / 'parser'), '@babel/parser', '7.24.1')
    # A second version of a dependency, nested under the package that needs it.
    _package(str(modules / 'express' / 'node_modules' / 'debug'), 'debug', '2.6.9')
    _package(str(modules / 'debug'), 'debug', '4.3.4')
    # Launchers and package-manager state, not packages.
    _write(str(modules / '.bin' / 'express' / 'package.json'), '{"name": "not-a-package", "version": "0"}')
    _write(str(modules / '.package-lock.json'), '{}')
    # Broken manifests are reported, not fatal.
    _write(str(modules / 'broken' / 'package.json'), '{"name": "broken", ')
    _write(str(modules / 'noversion' / 'package.json'), '{"name": "noversion"}')
    (modules / 'no-manifest').mkdir()
    found, problems = find_node_applications([str(modules)])
    assert sorted((app['name'], app['version'], app['path']) for app in found) == [
        ('@babel/core', '7.24.0', str(modules / '@babel' / 'core')),
        ('@babel/parser', '7.24.1', str(modules / '@babel' / 'parser')),
        ('debug', '2.6.9', str(modules / 'express' / 'node_modules' / 'debug')),
        ('debug', '4.3.4', str(modules / 'debug')),
        ('express', '4.19.2', str(modules / 'express')),
    ]
    assert all(app['ecosystem'] == 'npm' and app['source'] == 'npm' for app in found)
    assert len(problems) == 2
    assert any('broken/package.json is not valid JSON' in problem for problem in problems)
    assert any('noversion/package.json has no version' in problem for problem in problems)


def test_find_node_applications_follows_a_symlink_loop_once(tmp_path):
    modules = tmp_path / 'node_modules'
    _package(str(modules / 'app'), 'app', '1.0.0')
    (modules / 'app' / 'node_modules').symlink_to(modules)   # a workspace linking back to its root
    found, problems = find_node_applications([str(modules), str(tmp_path / 'absent')])
    assert [(app['name'], app['version']) for app in found] == [('app', '1.0.0')]
    assert problems == ['node_modules_paths: %s is not a directory' % (tmp_path / 'absent')]


def test_npm_package_without_a_name_takes_its_directory_name(tmp_path):
    modules = tmp_path / 'node_modules'
    _write(str(modules / '@scope' / 'thing' / 'package.json'), '{"version": "0.1.0"}')
    found, problems = find_node_applications([str(modules)])
    assert (found[0]['name'], problems) == ('@scope/thing', [])


@pytest.mark.parametrize('text, expected', [
    ('nginx version: nginx/1.22.1\n', '1.22.1'),
    ('OpenSSL 3.0.15 3 Sep 2024 (Library: OpenSSL 3.0.15 3 Sep 2024)\n', '3.0.15'),
    ('v18.19.0\n', '18.19.0'),
    ('Docker version 24.0.5, build ced0996\n', '24.0.5'),
    ('release 2.0.0-rc.1.\n', '2.0.0-rc.1'),          # the sentence's full stop is not part of it
    ('openjdk version "17.0.13" 2024-10-15\n', '17.0.13'),
    ('app 2.36-9+deb12u4 (built 2024)\n', '2.36-9+deb12u4'),
    ('no version here 42\n', None),
])
def test_extract_version_default(text, expected):
    assert extract_version(text, DEFAULT_VERSION_REGEX) == expected


def test_extract_version_with_a_pattern():
    assert extract_version('build 7\nrelease r2024.05\n', r'^release r(\S+)') == '2024.05'
    assert extract_version('42\n', r'^\d+$') == '42'      # no group: the whole match


def _runner(results):
    calls = []

    def run(argv):
        calls.append(argv)
        result = results[argv[0]]
        if isinstance(result, Exception):
            raise result
        return result
    return run, calls


def _which(name):
    return {'nginx': '/usr/sbin/nginx', 'java': '/usr/bin/java', 'failing': '/usr/bin/failing'}.get(name)


def test_declared_application_from_a_command():
    run, calls = _runner({'/usr/sbin/nginx': (0, '', 'nginx version: nginx/1.22.1\n')})
    app = declared_application({'name': 'nginx', 'version_command': 'nginx -v'}, run, _which)
    assert app == {'name': 'nginx', 'version': '1.22.1', 'ecosystem': 'generic', 'path': '/usr/sbin/nginx',
                   'source': 'declared'}
    assert calls == [['/usr/sbin/nginx', '-v']]     # split, looked up in PATH, no shell


def test_declared_application_command_quoting_and_ecosystem():
    run, calls = _runner({'/opt/app/bin/app': (0, 'app "x y" 1.4.2\n', '')})
    app = declared_application({'name': 'app', 'version_command': "/opt/app/bin/app --print 'x y'", 'ecosystem': 'Go'},
                               run, _which)
    assert (app['version'], app['ecosystem']) == ('1.4.2', 'Go')
    assert calls == [['/opt/app/bin/app', '--print', 'x y']]


@pytest.mark.parametrize('entry, results, error', [
    ({'name': 'ghost', 'version_command': 'ghost --version'}, {}, 'version_command: ghost not found in PATH'),
    ({'name': 'failing', 'version_command': 'failing --version'},
     {'/usr/bin/failing': (2, '', 'failing: unknown option --version\nusage\n')},
     'version_command failed (rc=2): failing: unknown option --version'),
    ({'name': 'gone', 'version_command': '/opt/gone/bin/gone -V'},
     {'/opt/gone/bin/gone': FileNotFoundError(2, 'No such file or directory')},
     'version_command /opt/gone/bin/gone cannot run: No such file or directory'),
    ({'name': 'nginx', 'version_command': 'nginx -v', 'version_regex': r'openresty/(\S+)'},
     {'/usr/sbin/nginx': (0, '', 'nginx version: nginx/1.22.1\n')},
     r'no version matching openresty/(\S+) in the output of version_command'),
])
def test_declared_application_errors_keep_the_entry(entry, results, error):
    run, _calls = _runner(results)
    app = declared_application(entry, run, _which)
    assert app['version'] is None
    assert app['error'] == error
    assert app['name'] == entry['name'] and app['source'] == 'declared'


def test_declared_application_from_a_file(tmp_path):
    version_file = tmp_path / 'VERSION'
    version_file.write_text('myapp release 5.2.0 (abc123)\n')
    app = declared_application({'name': 'myapp', 'version_file': str(version_file), 'ecosystem': None}, None, None)
    assert app == {'name': 'myapp', 'version': '5.2.0', 'ecosystem': 'generic', 'path': str(version_file),
                   'source': 'declared'}
    missing = declared_application({'name': 'myapp', 'version_file': str(tmp_path / 'nope')}, None, None)
    assert missing['version'] is None
    assert missing['error'] == 'cannot read version_file %s: No such file or directory' % (tmp_path / 'nope')


def test_find_declared_applications_reports_each_failure():
    run, _calls = _runner({'/usr/sbin/nginx': (0, 'nginx/1.26.0', '')})
    found, problems = find_declared_applications(
        [{'name': 'nginx', 'version_command': 'nginx -v'}, {'name': 'ghost', 'version_command': 'ghost'}], run, _which)
    assert [(app['name'], app['version']) for app in found] == [('nginx', '1.26.0'), ('ghost', None)]
    assert problems == ['applications: ghost: version_command: ghost not found in PATH']


@pytest.mark.parametrize('entry, message', [
    ({'name': 'a', 'version_command': 'a', 'version_regex': '(unclosed'},
     'applications[0] (a): version_regex is not a valid regular expression'),
    ({'name': 'a', 'version_command': "a 'unbalanced"}, 'applications[0] (a): version_command cannot be split'),
    ({'name': 'a', 'version_command': '   '}, 'applications[0] (a): version_command is empty'),
])
def test_compile_declared_rejects_bad_entries(entry, message):
    assert compile_declared([entry]).startswith(message)


def test_compile_declared_accepts_good_entries():
    assert compile_declared([{'name': 'a', 'version_command': 'a --version', 'version_regex': r'v(\S+)'},
                             {'name': 'b', 'version_file': '/x'}]) is None


def test_application_summary_is_unique_and_small():
    apps = [
        {'name': 'debug', 'version': '4.3.4', 'ecosystem': 'npm', 'path': '/a', 'source': 'npm'},
        {'name': 'debug', 'version': '4.3.4', 'ecosystem': 'npm', 'path': '/b', 'source': 'npm'},
        {'name': 'jinja2', 'version': '3.1.4', 'ecosystem': 'PyPI', 'path': '/c', 'source': 'python'},
        {'name': 'ghost', 'version': None, 'ecosystem': 'generic', 'path': None, 'source': 'declared', 'error': 'x'},
    ]
    assert application_summary(apps) == [
        {'name': 'jinja2', 'version': '3.1.4', 'ecosystem': 'PyPI'},
        {'name': 'ghost', 'version': None, 'ecosystem': 'generic'},
        {'name': 'debug', 'version': '4.3.4', 'ecosystem': 'npm'},
    ]

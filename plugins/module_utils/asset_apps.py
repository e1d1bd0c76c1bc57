# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Applications on a managed host: Python distributions, npm packages, declared applications.

Each finder returns ``(applications, problems)``: applications in the asset
record's form ``{name, version, ecosystem, path, source}`` and human-readable
problems (a path that is missing, a METADATA without a Version) that the module
turns into warnings, so one broken package never hides the others.

Python and npm packages are read from their metadata files, never through pip
or npm: those may be missing on the host, slow, or a different interpreter.
"""

from __future__ import annotations

import email.parser
import glob
import json
import os
import re
import shlex

# A dotted number with an optional suffix: 1.22.1, 3.0.15, 18.19.0-rc.1, 2.36-9+deb12u4.
# It must not follow a digit or dot, so "v18.19.0" gives 18.19.0 and a date's day is not taken.
DEFAULT_VERSION_REGEX = r'(?<![0-9.])(\d+(?:\.\d+)+(?:[-+~][0-9A-Za-z]+(?:[-+~.][0-9A-Za-z]+)*)?)'

# Version files and command output larger than this are not version files.
_MAX_READ = 1024 * 1024


def normalize_pypi_name(name):
    """PEP 503 normalised project name: lower case, runs of ``-``, ``_`` and ``.`` as one ``-``."""
    return re.sub(r'[-_.]+', '-', name).lower()


def parse_core_metadata(text):
    """(Name, Version) from a METADATA / PKG-INFO text (email header format); None where absent."""
    headers = email.parser.HeaderParser().parsestr(text, headersonly=True)
    name = (headers.get('Name') or '').strip() or None
    version = (headers.get('Version') or '').strip() or None
    return name, version


def site_packages_dirs(path):
    """The site-packages directories of ``path``: a virtualenv's, or ``path`` itself."""
    found = []
    for pattern in ('lib/python*/site-packages', 'lib64/python*/site-packages', 'lib/pypy*/site-packages'):
        found.extend(sorted(glob.glob(os.path.join(glob.escape(path), pattern))))
    if not found:
        return [path]
    # lib64 is usually a symlink to lib in a virtualenv: list each directory once.
    unique, seen = [], set()
    for directory in found:
        real = os.path.realpath(directory)
        if real not in seen:
            seen.add(real)
            unique.append(directory)
    return unique


def _read_text(path):
    with open(path, encoding='utf-8', errors='replace') as handle:
        return handle.read(_MAX_READ)


def _metadata_file(site_dir, entry):
    """The core metadata file of one site-packages entry, or None when the entry is no distribution."""
    full = os.path.join(site_dir, entry)
    if entry.endswith('.dist-info') and os.path.isdir(full):
        return os.path.join(full, 'METADATA')
    if entry.endswith('.egg-info'):
        # setuptools writes either a directory with PKG-INFO or a single PKG-INFO-format file.
        return os.path.join(full, 'PKG-INFO') if os.path.isdir(full) else full
    if entry.endswith('.egg') and os.path.isdir(full):
        return os.path.join(full, 'EGG-INFO', 'PKG-INFO')
    return None


def python_distributions(site_dir):
    """Python distributions installed in one site-packages directory."""
    try:
        entries = sorted(os.listdir(site_dir))
    except OSError as exc:
        return [], ['python_paths: cannot list %s: %s' % (site_dir, exc.strerror or exc)]
    applications, problems = [], []
    for entry in entries:
        metadata = _metadata_file(site_dir, entry)
        if metadata is None:
            continue
        try:
            name, version = parse_core_metadata(_read_text(metadata))
        except OSError as exc:
            problems.append('python_paths: cannot read %s: %s' % (metadata, exc.strerror or exc))
            continue
        if not name or not version:
            problems.append('python_paths: %s has no %s header; distribution skipped'
                            % (metadata, 'Name' if not name else 'Version'))
            continue
        applications.append({'name': normalize_pypi_name(name), 'version': version, 'ecosystem': 'PyPI',
                             'path': os.path.join(site_dir, entry), 'source': 'python'})
    return applications, problems


def find_python_applications(paths):
    """Python distributions under each path (a virtualenv or a site-packages directory)."""
    applications, problems = [], []
    for path in paths:
        if not os.path.isdir(path):
            problems.append('python_paths: %s is not a directory' % path)
            continue
        before = len(applications)
        for site_dir in site_packages_dirs(path):
            found, trouble = python_distributions(site_dir)
            applications.extend(found)
            problems.extend(trouble)
        if len(applications) == before:
            problems.append('python_paths: no Python distributions (*.dist-info, *.egg-info) found in %s' % path)
    return applications, problems


def _npm_package(package_dir, fallback_name):
    """One npm package from its package.json: (application or None, problem or None)."""
    manifest = os.path.join(package_dir, 'package.json')
    try:
        data = json.loads(_read_text(manifest))
    except OSError as exc:
        return None, 'node_modules_paths: cannot read %s: %s' % (manifest, exc.strerror or exc)
    except ValueError as exc:
        return None, 'node_modules_paths: %s is not valid JSON: %s' % (manifest, exc)
    if not isinstance(data, dict):
        return None, 'node_modules_paths: %s is not a JSON object' % manifest
    version = data.get('version')
    if not isinstance(version, str) or not version:
        return None, 'node_modules_paths: %s has no version; package skipped' % manifest
    name = data.get('name') if isinstance(data.get('name'), str) and data.get('name') else fallback_name
    return {'name': name, 'version': version, 'ecosystem': 'npm', 'path': package_dir, 'source': 'npm'}, None


def _package_dirs(node_modules):
    """(directory, name from the directory layout) of each package directly in one node_modules."""
    try:
        entries = sorted(os.listdir(node_modules))
    except OSError:
        return []
    found = []
    for entry in entries:
        # .bin holds launchers, .pnpm and .package-lock.json are package manager state.
        if entry.startswith('.'):
            continue
        full = os.path.join(node_modules, entry)
        if entry.startswith('@') and os.path.isdir(full):
            try:
                scoped = sorted(os.listdir(full))
            except OSError:
                continue
            found.extend((os.path.join(full, inner), '%s/%s' % (entry, inner)) for inner in scoped
                         if not inner.startswith('.') and os.path.isdir(os.path.join(full, inner)))
        elif os.path.isdir(full):
            found.append((full, entry))
    return found


def node_packages(node_modules, visited=None):
    """npm packages in one node_modules directory, including the nested node_modules of each package.

    npm installs a second version of a dependency in the nested node_modules of the package
    that needs it; that copy is as exposed as the top-level one, so it is listed with its own path.
    Symbolic links (npm link, workspaces, pnpm) are followed once each.
    """
    visited = set() if visited is None else visited
    real = os.path.realpath(node_modules)
    if real in visited:
        return [], []
    visited.add(real)
    applications, problems = [], []
    for package_dir, dir_name in _package_dirs(node_modules):
        if not os.path.isfile(os.path.join(package_dir, 'package.json')):
            continue
        application, problem = _npm_package(package_dir, dir_name)
        if application:
            applications.append(application)
        if problem:
            problems.append(problem)
        nested = os.path.join(package_dir, 'node_modules')
        if os.path.isdir(nested):
            found, trouble = node_packages(nested, visited)
            applications.extend(found)
            problems.extend(trouble)
    return applications, problems


def find_node_applications(paths):
    """npm packages in each node_modules directory."""
    applications, problems = [], []
    visited = set()
    for path in paths:
        if not os.path.isdir(path):
            problems.append('node_modules_paths: %s is not a directory' % path)
            continue
        found, trouble = node_packages(path, visited)
        applications.extend(found)
        problems.extend(trouble)
    return applications, problems


def extract_version(text, pattern):
    """The version in ``text``: the first group of ``pattern`` (or its whole match), or None."""
    match = re.search(pattern, text, re.MULTILINE)
    if not match:
        return None
    version = match.group(1) if match.re.groups else match.group(0)
    return version.strip() if version and version.strip() else None


def compile_declared(declared):
    """Check the declared applications before anything runs; return the error message or None."""
    for index, entry in enumerate(declared):
        label = 'applications[%d] (%s)' % (index, entry.get('name'))
        if entry.get('version_regex'):
            try:
                re.compile(entry['version_regex'])
            except re.error as exc:
                return '%s: version_regex is not a valid regular expression: %s' % (label, exc)
        if entry.get('version_command'):
            try:
                if not shlex.split(entry['version_command']):
                    return '%s: version_command is empty' % label
            except ValueError as exc:
                return '%s: version_command cannot be split into arguments: %s' % (label, exc)
    return None


def declared_application(entry, run, which):
    """One declared application: its version from ``version_command`` or ``version_file``.

    ``run(argv)`` returns (rc, stdout, stderr) or raises OSError; ``which(name)`` returns the
    executable's path or None.  A failure gives the entry ``version: None`` and an ``error``
    saying why, so the application stays in the record and the failure is visible.
    """
    application = {'name': entry['name'], 'version': None, 'ecosystem': entry.get('ecosystem') or 'generic',
                   'path': None, 'source': 'declared'}
    pattern = entry.get('version_regex') or DEFAULT_VERSION_REGEX
    if entry.get('version_file'):
        path = entry['version_file']
        application['path'] = path
        try:
            texts = [_read_text(path)]
        except OSError as exc:
            application['error'] = 'cannot read version_file %s: %s' % (path, exc.strerror or exc)
            return application
        where = 'version_file %s' % path
    else:
        argv = shlex.split(entry['version_command'])
        executable = argv[0] if os.sep in argv[0] else which(argv[0])
        if not executable:
            application['error'] = 'version_command: %s not found in PATH' % argv[0]
            return application
        argv[0] = executable
        application['path'] = executable
        try:
            rc, out, err = run(argv)
        except OSError as exc:
            application['error'] = 'version_command %s cannot run: %s' % (executable, exc.strerror or exc)
            return application
        if rc != 0:
            detail = (err or out or '').strip().splitlines()
            application['error'] = 'version_command failed (rc=%d)%s' % (rc, ': %s' % detail[0][:200] if detail else '')
            return application
        # Many tools (java -version, older Pythons) print their version on stderr.
        texts = [out[:_MAX_READ], err[:_MAX_READ]]
        where = 'the output of version_command'
    for text in texts:
        version = extract_version(text, pattern)
        if version:
            application['version'] = version
            return application
    application['error'] = 'no version matching %s in %s' % (pattern, where)
    return application


def find_declared_applications(declared, run, which):
    """Declared applications, with a problem message for each that has no version."""
    applications, problems = [], []
    for entry in declared:
        application = declared_application(entry, run, which)
        applications.append(application)
        if application.get('error'):
            problems.append('applications: %s: %s' % (application['name'], application['error']))
    return applications, problems


def application_summary(applications):
    """The short form kept in host facts: unique {name, version, ecosystem}, sorted."""
    seen = {(app['ecosystem'], app['name'], app['version']) for app in applications}
    return [{'name': name, 'version': version, 'ecosystem': ecosystem}
            for ecosystem, name, version in sorted(seen, key=lambda key: (key[0], key[1], key[2] or ''))]

"""Pending updates read with python3-apt equal what apt-get -s dist-upgrade reports.

The machine running the unit tests is a Debian host (make setup installs
python3-apt for Debian's own /usr/bin/python3), so both paths of asset_facts'
pending-update discovery are compared on its real package lists.
"""

from __future__ import annotations

import json
import os
import subprocess

from ansible_collections.patchwise.patching.plugins.module_utils.asset_runtime import parse_apt_simulation
from ansible_collections.patchwise.patching.tests.unit.controller.dpkg_lock import machine_packages_held

# tests/unit/controller -> the folder holding ansible_collections/
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 6)))
DEBIAN_PYTHON = '/usr/bin/python3'
READ = ('import json, sys; sys.path.insert(0, sys.argv[1]); '
        'from ansible_collections.patchwise.patching.plugins.module_utils import apt_pending; '
        'print(json.dumps(apt_pending.pending_updates()))')


def test_python_apt_equals_apt_get_simulation():
    # Another test installing a throwaway package leaves dpkg's state half-written while it runs.
    with machine_packages_held():
        process = subprocess.run([DEBIAN_PYTHON, '-c', READ, COLLECTIONS_ROOT], capture_output=True, text=True, check=True)
        simulated = subprocess.run(['apt-get', '-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'], capture_output=True, text=True,
                                   check=True, env=dict(os.environ, LC_ALL='C'))
    ours = json.loads(process.stdout)
    assert ours is not None, '%s cannot import apt_pkg: install python3-apt' % DEBIAN_PYTHON
    theirs = sorted(parse_apt_simulation(simulated.stdout), key=lambda update: update['name'])
    assert ours == theirs


def test_without_python_apt_there_is_no_answer(monkeypatch):
    from ansible_collections.patchwise.patching.plugins.module_utils import apt_pending

    monkeypatch.setattr(apt_pending, 'apt_pkg', None)
    assert apt_pending.pending_updates() is None


OFFERED = ('import json, sys; sys.path.insert(0, sys.argv[1]); '
           'from ansible_collections.patchwise.patching.plugins.module_utils import apt_pending; '
           'print(json.dumps(apt_pending.available_versions(sys.argv[2:])))')


def test_python_apt_offers_the_same_versions_as_apt_cache_madison():
    from ansible_collections.patchwise.patching.plugins.module_utils.apt_update import parse_madison

    names = ['bash', 'coreutils', 'dpkg', 'no-such-package-pw']
    with machine_packages_held():
        process = subprocess.run([DEBIAN_PYTHON, '-c', OFFERED, COLLECTIONS_ROOT, *names], capture_output=True, text=True, check=True)
        madison = subprocess.run(['apt-cache', 'madison', *names], capture_output=True, text=True, check=False, env=dict(os.environ, LC_ALL='C'))
    ours = json.loads(process.stdout)
    theirs = parse_madison(madison.stdout)
    assert {name: sorted(versions) for name, versions in ours.items() if versions} == {
        name: sorted(versions) for name, versions in theirs.items()}
    assert ours['bash'], 'the machine offers bash from its sources'
    assert 'no-such-package-pw' not in ours


def test_without_python_apt_there_are_no_offered_versions(monkeypatch):
    from ansible_collections.patchwise.patching.plugins.module_utils import apt_pending

    monkeypatch.setattr(apt_pending, 'apt_pkg', None)
    assert apt_pending.available_versions(['bash']) is None

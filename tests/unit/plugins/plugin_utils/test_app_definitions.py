# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.app_definitions import AppDefinitionError, validate_applications

SHA = 'ab' * 32
GOOD = [
    {'name': 'demo', 'version': '2.0.0', 'artifact': {'path': '/srv/demo-2.0.0.tar.gz', 'sha256': SHA},
     'health_checks': [{'type': 'http', 'url': 'http://127.0.0.1:8080/health'}], 'service': {'name': 'demo.service'}},
    {'name': 'pwdemo', 'version': '1.1.0', 'strategy': 'virtualenv',
     'artifact': {'url': 'https://repo.example.org/pwdemo-1.1.0.whl', 'sha256': SHA, 'url_password': 'hunter2',
                  'signature': 'https://repo.example.org/pwdemo-1.1.0.whl.asc', 'keyring': '/etc/patchwise/keys.gpg'}},
    {'name': 'pw-demo-normal', 'version': '1.1-1', 'strategy': 'package'},
]


def _with(index, **changes):
    apps = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            apps[index].pop(key)
        else:
            apps[index][key] = value
    return apps


def test_valid_definitions_pass_and_are_not_modified():
    apps = copy.deepcopy(GOOD)
    assert validate_applications(apps) == 3
    assert apps == GOOD


@pytest.mark.parametrize(('apps', 'message'), [
    (_with(0, version=None), r'missing required arguments: version'),
    (_with(0, colour='blue'), r'app_patch_applications\.colour'),
    (_with(0, strategy='rpm'), r'strategy must be one of: release_dir, virtualenv, package, got: rpm'),
    (_with(0, health_checks=[{'type': 'ftp'}]), r'type must be one of: http, tcp, command, got: ftp'),
    (_with(0, artifact={'path': '/srv/a.tgz'}), r'missing required arguments: sha256'),
    (_with(0, artifact=None), r'app_patch_applications\[0\] \(demo\): strategy release_dir needs an artifact'),
    (_with(1, artifact={'path': '/srv/a.whl', 'url': 'https://x/a.whl', 'sha256': SHA}),
     r'\[1\] \(pwdemo\): artifact needs exactly one of url and path, has url and path'),
    (_with(0, artifact={'sha256': SHA}), r'\[0\] \(demo\): artifact needs exactly one of url and path, has neither'),
    (_with(0, artifact={'path': '/srv/a.tgz', 'sha256': 'abc'}), r'\[0\] \(demo\): artifact.sha256 must be 64 hexadecimal digits'),
    (_with(0, artifact={'path': '/srv/a.tgz', 'sha256': SHA, 'signature': '/srv/a.tgz.asc'}),
     r'\[0\] \(demo\): artifact.signature needs artifact.keyring'),
    ([*GOOD, dict(GOOD[2], version='1.2-1')], r'app_patch_applications\[3\]: application pw-demo-normal is defined twice'),
])
def test_invalid_definitions_name_the_entry_and_key(apps, message):
    with pytest.raises(AppDefinitionError, match=message):
        validate_applications(apps)


def test_not_a_list_is_refused():
    with pytest.raises(AppDefinitionError, match='expected a list of application definitions, got dict'):
        validate_applications({'name': 'demo'})


def test_package_strategy_needs_no_artifact():
    assert validate_applications([{'name': 'nginx', 'version': '1.22.1-9', 'strategy': 'package'}]) == 1

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Validation of application definitions (``app_patch_applications``) on the controller.

The shape (keys, types, choices, required keys) is the app_patch role's own argument
specification, read from the collection, so the role and this check can never disagree; the
rules a specification cannot say (an artifact for the strategies that unpack one, exactly one
of url and path, a 64-digit SHA-256, a keyring for a signature, unique names) follow.
"""

from __future__ import annotations

import os
import re

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROLE_SPEC = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'app_patch', 'meta', 'argument_specs.yml')
OPTION = 'app_patch_applications'
_SHA256 = re.compile(r'^[0-9a-fA-F]{64}$')
_UNPACKED = ('release_dir', 'virtualenv')


class AppDefinitionError(ValueError):
    """An application definition is invalid; the message names the entry and the key."""


def _application_spec():
    try:
        with open(ROLE_SPEC, encoding='utf-8') as handle:
            spec = yaml.safe_load(handle)
        return {OPTION: spec['argument_specs']['main']['options'][OPTION]}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise AppDefinitionError('cannot read the app_patch argument specification %s: %s' % (ROLE_SPEC, exc)) from exc


def _entry_rules(index, entry):
    where = '%s[%d] (%s)' % (OPTION, index, entry.get('name'))
    artifact = entry.get('artifact')
    if entry.get('strategy', 'release_dir') in _UNPACKED and not isinstance(artifact, dict):
        raise AppDefinitionError('%s: strategy %s needs an artifact' % (where, entry.get('strategy', 'release_dir')))
    if not isinstance(artifact, dict):
        return
    sources = [key for key in ('url', 'path') if artifact.get(key)]
    if len(sources) != 1:
        raise AppDefinitionError('%s: artifact needs exactly one of url and path, has %s' % (where, ' and '.join(sources) or 'neither'))
    if not _SHA256.match(str(artifact.get('sha256') or '')):
        raise AppDefinitionError('%s: artifact.sha256 must be 64 hexadecimal digits' % where)
    if artifact.get('signature') and not artifact.get('keyring'):
        raise AppDefinitionError('%s: artifact.signature needs artifact.keyring (the keys it must be made with)' % where)


def validate_applications(applications):
    """Raise AppDefinitionError for the first invalid definition; return the number checked."""
    if not isinstance(applications, list):
        raise AppDefinitionError('%s: expected a list of application definitions, got %s' % (OPTION, type(applications).__name__))
    result = ArgumentSpecValidator(_application_spec()).validate({OPTION: applications})
    if result.error_messages:
        raise AppDefinitionError('; '.join(result.error_messages))
    seen = set()
    for index, entry in enumerate(applications):
        _entry_rules(index, entry)
        if entry['name'] in seen:
            raise AppDefinitionError('%s[%d]: application %s is defined twice' % (OPTION, index, entry['name']))
        seen.add(entry['name'])
    return len(applications)

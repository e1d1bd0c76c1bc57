# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""YAML for the files people write by hand (policy, register): a key given twice is an error, not "last one wins".

PyYAML keeps the last of two equal keys without a word, so a policy that sets
``holds`` twice silently loses the first list.  ``load`` refuses it, naming
the key and both lines.
"""

from __future__ import annotations

import yaml


class DuplicateKeyError(yaml.YAMLError):
    """A mapping gives the same key twice."""


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader whose mappings refuse duplicate keys."""


def _mapping(loader, node, deep=False):
    seen = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: let PyYAML say so
            continue
        if first is not None:
            raise DuplicateKeyError('key %r is given twice (lines %d and %d); remove one' % (key, first + 1, key_node.start_mark.line + 1))
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(text):
    """The YAML document in ``text``; raises yaml.YAMLError (DuplicateKeyError for a key given twice)."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SSVC decision tables (schemaVersion 2.0.0): loading, validation and outcome look-up.

A table names its decision points by id (``namespace:key:version``, e.g.
``cisa:KEV:1.0.0``); one of them is the outcome. Every mapping row gives a value
key for each input point and the outcome. A table is only accepted when its
mapping covers every combination of input values exactly once, so a look-up can
never fall through.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os

from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import canonical

SCHEMA_VERSION = '2.0.0'
TABLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ssvc_tables')
PRESETS = {
    'bod-26-04': 'cisa_bod_26_04_1_0_0.json',
    'ssvc-deployer': 'deployer_patch_application_priority_1_0_0.json',
    'cisa-coordinator': 'cisa_coordinator_2_0_3.json',
}


class SSVCError(ValueError):
    """A decision table is unreadable, malformed or incomplete."""


class DecisionTable:
    """A validated decision table; ``outcome_for`` maps input values to the outcome key."""

    def __init__(self, source, document):
        self.source = source
        # What the table decides, whatever its file is called: a table edited in place is a different table.
        self.digest = hashlib.sha256(canonical(document)).hexdigest()
        self.key = document.get('key')
        self.name = document.get('name')
        self.version = document.get('version')
        points = document.get('decision_points')
        if document.get('schemaVersion') != SCHEMA_VERSION:
            raise SSVCError('%s: schemaVersion %r is not supported (expected %s)' % (source, document.get('schemaVersion'), SCHEMA_VERSION))
        if not isinstance(points, dict) or not points:
            raise SSVCError('%s: decision_points must be a non-empty object' % source)
        self.outcome_point = document.get('outcome')
        if self.outcome_point not in points:
            raise SSVCError('%s: outcome %r is not one of the decision points' % (source, self.outcome_point))
        self.point_names = {}
        self.point_values = {}
        for point_id, point in points.items():
            values = [value.get('key') for value in point.get('values') or [] if isinstance(value, dict)]
            if not values or None in values:
                raise SSVCError('%s: decision point %s has no value keys' % (source, point_id))
            self.point_values[point_id] = values
            self.point_names[point_id] = point.get('name', point_id)
        self.inputs = [point_id for point_id in points if point_id != self.outcome_point]
        self.outcomes = self.point_values[self.outcome_point]
        self._mapping = self._build_mapping(document.get('mapping'))

    def _build_mapping(self, rows):
        if not isinstance(rows, list):
            raise SSVCError('%s: mapping must be a list of rows' % self.source)
        mapping = {}
        for number, row in enumerate(rows, 1):
            if not isinstance(row, dict) or set(row) != set(self.inputs) | {self.outcome_point}:
                raise SSVCError('%s: mapping row %d must name exactly the decision points %s' % (
                    self.source, number, ', '.join([*self.inputs, self.outcome_point])))
            for point_id, value in row.items():
                if value not in self.point_values[point_id]:
                    raise SSVCError('%s: mapping row %d: %r is not a value of %s' % (self.source, number, value, point_id))
            combination = tuple(row[point_id] for point_id in self.inputs)
            if combination in mapping and mapping[combination] != row[self.outcome_point]:
                raise SSVCError('%s: mapping row %d contradicts an earlier row for %s' % (
                    self.source, number, self.describe(combination)))
            mapping[combination] = row[self.outcome_point]
        for combination in itertools.product(*(self.point_values[point_id] for point_id in self.inputs)):
            if combination not in mapping:
                raise SSVCError('%s: mapping has no row for %s' % (self.source, self.describe(combination)))
        return mapping

    def describe(self, combination):
        return ', '.join('%s=%s' % (point_id, value) for point_id, value in zip(self.inputs, combination))

    def outcome_for(self, values):
        """Return the outcome key for ``values`` ({point id: value key}) of every input point."""
        missing = [point_id for point_id in self.inputs if point_id not in values]
        if missing:
            raise SSVCError('%s: no value for decision point(s) %s' % (self.source, ', '.join(missing)))
        for point_id in self.inputs:
            if values[point_id] not in self.point_values[point_id]:
                raise SSVCError('%s: %r is not a value of %s (one of %s)' % (
                    self.source, values[point_id], point_id, ', '.join(self.point_values[point_id])))
        return self._mapping[tuple(values[point_id] for point_id in self.inputs)]

    def check_suppliable(self, supplied_points, defaults):
        """Fail when an input point is neither derivable from the data nor defaulted by policy."""
        unknown = [point_id for point_id in self.inputs if point_id not in supplied_points and point_id not in (defaults or {})]
        if unknown:
            raise SSVCError('%s: decision point(s) %s cannot be derived from the data and the policy sets no default' % (
                self.source, ', '.join(unknown)))
        for point_id, value in (defaults or {}).items():
            if point_id in self.point_values and value not in self.point_values[point_id]:
                raise SSVCError('%s: policy default %r is not a value of %s' % (self.source, value, point_id))


def load_table(path):
    """Load and validate a decision table file."""
    try:
        with open(path, encoding='utf-8') as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise SSVCError('%s: cannot read decision table: %s' % (path, exc)) from exc
    if not isinstance(document, dict):
        raise SSVCError('%s: a decision table must be a JSON object' % path)
    return DecisionTable(path, document)


def resolve_table(name_or_path):
    """A preset name (``bod-26-04``, ``ssvc-deployer``, ``cisa-coordinator``) or a file path."""
    if name_or_path in PRESETS:
        return load_table(os.path.join(TABLE_DIR, PRESETS[name_or_path]))
    if not os.path.isfile(name_or_path):
        raise SSVCError('%s: neither a preset (%s) nor a readable file' % (name_or_path, ', '.join(sorted(PRESETS))))
    return load_table(name_or_path)

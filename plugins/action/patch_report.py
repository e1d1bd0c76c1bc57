# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStoreError, asset_db_exists
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_inputs import policy_with_fingerprint
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_csv import TABLES, write_table
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import (
    FORMATS,
    ReportError,
    collect,
    previous_digest,
    write_json,
)
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_files import OutputFiles
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_html import write_html

_ARGUMENT_SPEC = {
    'asset_db': {'type': 'path', 'required': True},
    'dest': {'type': 'path', 'required': True},
    'formats': {'type': 'list', 'elements': 'str', 'choices': list(FORMATS), 'default': list(FORMATS)},
    'basename': {'type': 'str', 'default': 'patch-report'},
    'policy': {'type': 'raw', 'default': {}},
    'audit_log': {'type': 'path'},
    'hmac_key': {'type': 'str', 'no_log': True},
    'expected_head': {'type': 'raw'},
    'groups': {'type': 'list', 'elements': 'str', 'default': []},
    'hosts': {'type': 'list', 'elements': 'str', 'default': []},
    'since': {'type': 'str'},
    'until': {'type': 'str'},
    'as_of': {'type': 'str'},
    'stale_after_days': {'type': 'int', 'default': 14},
    'trend_runs': {'type': 'int', 'default': 10},
    'top': {'type': 'int', 'default': 100},
}


def _instant(value, name, end_of_day=False):
    """``value`` (a date or an ISO 8601 UTC time) as ``YYYY-MM-DDTHH:MM:SSZ``; None stays None."""
    if value is None or value == '':
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            return '%sT%s' % (day.isoformat(), '23:59:59Z' if end_of_day else '00:00:00Z')
        moment = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        raise AnsibleActionFail('%s: %r is not a date (YYYY-MM-DD) or an ISO 8601 time' % (name, text)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _group_hosts(groups, inventory_groups):
    """The inventory hosts of ``groups``; refuses a group the inventory does not have, naming it."""
    unknown = [group for group in groups if group not in inventory_groups]
    if unknown:
        known = sorted(inventory_groups)
        raise AnsibleActionFail('unknown inventory group%s %s (the inventory has %s%s); no report was written'
                                % ('s' if len(unknown) > 1 else '', ', '.join(unknown), ', '.join(known[:20]),
                                   ', ...' if len(known) > 20 else ''))
    return {host for group in groups for host in inventory_groups[group]}


class ActionModule(ActionBase):
    """The compliance report of the asset database, written on the controller."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        for name in ('stale_after_days', 'trend_runs', 'top'):
            if args[name] < 0 or (name != 'stale_after_days' and args[name] == 0):
                raise AnsibleActionFail('%s must be %s, got %d' % (name, 'zero or more' if name == 'stale_after_days' else 'at least 1', args[name]))
        if not args['formats']:
            raise AnsibleActionFail('formats: choose at least one of %s' % ', '.join(FORMATS))
        if os.sep in args['basename'] or args['basename'].startswith('.'):
            raise AnsibleActionFail('basename must be a file name without a directory, got %r' % args['basename'])
        since, until = _instant(args['since'], 'since'), _instant(args['until'], 'until', end_of_day=True)
        as_of = _instant(args['as_of'], 'as_of')
        hosts = _group_hosts(args['groups'], task_vars.get('groups') or {}) if args['groups'] else None
        if self._task.check_mode and not self._exists(args['asset_db']):
            # A check run on a fresh environment: the discovery before it stored nothing, so there is nothing to
            # report on yet; a real run after a real discovery writes the report.
            result.update(changed=True, content_changed=True, files=[], audit={'checked': False, 'reason': 'check mode'},
                          msg='check mode: %s does not exist yet (a check run of discovery stores nothing); '
                              'a real run writes the report to %s' % (args['asset_db'], args['dest']))
            return result
        outputs = None
        try:
            policy, fingerprint = policy_with_fingerprint(args['policy'])
            # Checked before the database is read: an unwritable directory fails at once. Check mode writes nothing.
            outputs = None if self._task.check_mode else OutputFiles(args['dest'])
            names = self._names(args)

            def write_overdue_apart(report):
                # Every overdue finding of every host (millions of rows on a large fleet): written by a second
                # process on a connection of its own from the moment the report can stream it, while this one
                # reads the figures and writes the other files.
                if outputs is not None and 'csv:overdue' in names:
                    outputs.add(names['csv:overdue'], lambda handle: write_table(report, 'overdue', handle), apart=report.reconnect)

            with collect(args['asset_db'], policy=policy, policy_fingerprint=fingerprint, audit_log=args['audit_log'],
                         audit_key=args['hmac_key'], expected_head=args['expected_head'], hosts=hosts, patterns=args['hosts'], since=since,
                         until=until, now=as_of, stale_after_days=args['stale_after_days'], trend_runs=args['trend_runs'], top=args['top'],
                         filters={'groups': args['groups'], 'patterns': args['hosts']}, streams_ready=write_overdue_apart) as report:
                result['changed'] = result['content_changed'] = self._changed(report, args)
                files = self._write(report, outputs, names) if outputs else []
        except (ConfigError, PolicyError, ReportError) as exc:
            raise AnsibleActionFail(str(exc)) from exc
        finally:
            if outputs is not None:
                outputs.discard()
        document = report.document
        summary = document['findings_summary']
        result.update(
            files=files, schema=document['schema'], content_digest=document['content_digest'], audit=document['audit'],
            run_id=document['run_id'], generated_at=document['generated_at'],
            summary={'hosts': document['fleet']['hosts'], 'compliant': document['fleet']['compliant'],
                     'non_compliant': document['fleet']['non_compliant'], 'stale': document['fleet']['stale'],
                     'open': summary['open'], 'overdue': summary['overdue'], 'kev_overdue': summary['kev_overdue'],
                     'accepted': summary['accepted']},
            msg='%d hosts, %d compliant; %d open findings, %d overdue (%d KEV)%s' % (
                document['fleet']['hosts'], document['fleet']['compliant'], summary['open'], summary['overdue'], summary['kev_overdue'],
                '' if self._task.check_mode else '; written to %s' % args['dest']))
        if document['audit']['checked'] and not document['audit']['valid']:
            result['warnings'] = ['the audit trail %s fails verification: %s' % (document['audit']['path'], document['audit']['reason'])]
        return result

    @staticmethod
    def _exists(asset_db):
        try:
            return asset_db_exists(asset_db)
        except AssetStoreError as exc:
            raise AnsibleActionFail(str(exc)) from exc

    @staticmethod
    def _names(args):
        base = args['basename']
        names = {}
        if 'html' in args['formats']:
            names['html'] = base + '.html'
        if 'json' in args['formats']:
            names['json'] = base + '.json'
        if 'csv' in args['formats']:
            names.update(('csv:' + table, '%s-%s.csv' % (base, table)) for table in TABLES)
        return names

    def _changed(self, report, args):
        """True unless every file exists and an earlier HTML or JSON report says the same (see ``content_digest``)."""
        names = self._names(args)
        paths = [os.path.join(args['dest'], name) for name in names.values()]
        if not all(os.path.exists(path) for path in paths):
            return True
        recorded = [previous_digest(os.path.join(args['dest'], names[kind])) for kind in ('html', 'json') if kind in names]
        return not recorded or any(digest != report.document['content_digest'] for digest in recorded)

    @staticmethod
    def _write(report, outputs, names):
        """Write the files other than the overdue table (being written apart already) and move them all into place."""
        if 'html' in names:
            outputs.add(names['html'], lambda handle: write_html(report, handle))
        if 'json' in names:
            outputs.add(names['json'], lambda handle: write_json(report, handle))
        for table in TABLES:
            if 'csv:' + table in names and table != 'overdue':
                outputs.add(names['csv:' + table], lambda handle, table=table: write_table(report, table, handle))
        return outputs.commit()

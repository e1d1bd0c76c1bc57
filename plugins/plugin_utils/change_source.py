# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Change approvals: a change reference resolved in a change source, and whether that change approves a host now.

A change source is a change file (YAML or JSON, docs/changes.md) or a ServiceNow-style Table API. Both are
normalised to one change: ``{id, approved, approval, approvers, hosts, groups, start, end, emergency, source}``.
``check_change()`` then applies the rules in this order, the first one broken being the refusal:

- the change exists (``unknown_id``) and is approved (``not_approved``);
- it is open at the moment checked, start <= moment < end (``not_started``, ``expired``);
- it covers the host, by name or shell pattern in its ``hosts`` or by one of its ``groups`` (``wrong_host``);
- the host has approvers in the asset register (``no_approvers``): an approval nobody is entitled to give is
  not an approval;
- the approver the source records is one of them (``approver_not_allowed``); an approver named by the operator
  in the change reference is only a claim;
- an emergency run needs a change flagged emergency (``not_emergency``).

A refusal raises ChangeRefused. A source that cannot be read or holds invalid data raises ChangeSourceError
naming the file and field, or the URL and what was wrong with the answer; neither ever carries a credential.
"""

from __future__ import annotations

import datetime
import fnmatch
import http.client
import json
import os
import re
import socket
import urllib.error
import urllib.parse

import yaml
from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_register import RegisterError
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore, AssetStoreError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_fingerprint import ConfigError
from ansible_collections.patchwise.patching.plugins.plugin_utils.config_inputs import register_with_fingerprint

REFUSAL_CODES = ('unknown_id', 'not_approved', 'not_started', 'expired', 'wrong_host', 'no_approvers',
                 'approver_not_allowed', 'not_emergency')
SOURCE_ERROR = 'source_error'

CHANGE_KEYS = ('id', 'approver', 'hosts', 'groups', 'start', 'end', 'emergency', 'description')
SOURCE_KEYS = ('url', 'user', 'password', 'token', 'validate_certs', 'timeout', 'table', 'fields')
# Fields of ServiceNow's change_request table. The approver is not a field of the change: ServiceNow records
# each approval in sysapproval_approver (state "approved", approver a reference to sys_user); "table:field"
# reads it from there, a plain field name from the change record itself.
DEFAULT_FIELDS = {
    'number': 'number',
    'approval': 'approval',
    'start': 'start_date',
    'end': 'end_date',
    'type': 'type',
    'hosts': 'cmdb_ci.name',
    'groups': '',
    'approver': 'sysapproval_approver:approver.email',
}
DEFAULT_TABLE = 'change_request'
DEFAULT_TIMEOUT = 30
ENV_USER = 'PATCHWISE_CHANGE_API_USER'
ENV_PASSWORD = 'PATCHWISE_CHANGE_API_PASSWORD'  # noqa: S105 - the name of the variable, not a password
ENV_TOKEN = 'PATCHWISE_CHANGE_API_TOKEN'  # noqa: S105 - the name of the variable, not a token

_UTC = datetime.timezone.utc
_ISO_TIME = re.compile(r'^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(?P<zone>Z|[+-]\d{2}:?\d{2})?$')
_SERVICENOW_TIME = re.compile(r'^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$')
_FIELD_NAME = re.compile(r'^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$')
_TABLE_NAME = re.compile(r'^[A-Za-z0-9_]+$')
_SYS_ID = re.compile(r'^[A-Za-z0-9]+$')


class ChangeSourceError(Exception):
    """The change source (or the asset register) cannot be read, or holds invalid data."""

    code = SOURCE_ERROR


class ChangeRefused(Exception):
    """The change does not approve this host now: ``code`` names the rule, ``reason`` says why in plain words."""

    def __init__(self, code, reason, change=None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.change = change


# -- times --------------------------------------------------------------------------------------


def utc_text(moment):
    return moment.astimezone(_UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_time(value):
    """The aware datetime of an ISO 8601 time with a time zone; ValueError saying what is wrong otherwise."""
    match = _ISO_TIME.match(value) if isinstance(value, str) else None
    if match and not match.group('zone'):
        raise ValueError('%r is not an ISO 8601 time with a time zone: it has none (add Z for UTC or an offset such as +02:00)'
                         % (value,))
    if match:
        text = value[:-1] + '+00:00' if value.endswith('Z') else value
        if re.search(r'[+-]\d{4}$', text):
            text = text[:-2] + ':' + text[-2:]
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError('%r is not an ISO 8601 time with a time zone' % (value,))


def _servicenow_time(value):
    # Without display values ServiceNow gives date-times in UTC as "YYYY-MM-DD HH:MM:SS"; an API that answers
    # in ISO 8601 with a zone is read as that.
    if isinstance(value, str) and _SERVICENOW_TIME.match(value):
        try:
            return datetime.datetime.strptime(value, '%Y-%m-%d %H:%M:%S').replace(tzinfo=_UTC)
        except ValueError:
            pass
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError('%r is neither a ServiceNow UTC time (YYYY-MM-DD HH:MM:SS) nor an ISO 8601 time with a time zone'
                         % (value,)) from None


# -- the change reference -----------------------------------------------------------------------


def change_reference(value):
    """``(change id, approver claimed by the operator or None)`` of ``change_ref``; ValueError when unusable."""
    claimed = None
    if isinstance(value, dict):
        unknown = sorted(str(key) for key in value if key not in ('id', 'approver'))
        if unknown:
            raise ValueError('change_ref: unknown key(s) %s; known: id, approver' % ', '.join(unknown))
        claimed = value.get('approver')
        if claimed is not None and not isinstance(claimed, str):
            raise ValueError('change_ref.approver must be a string')
        value = value.get('id')
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise ValueError('change_ref: give the change id, or a mapping with its id (and optionally the approver)')
    return str(value).strip(), (claimed or '').strip() or None


# -- the change file ----------------------------------------------------------------------------


class _NoTimestampLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: every time stays the text the file holds, so it is validated (and
    named in errors) as written, and a time without a zone is not silently taken for UTC."""


_NoTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != 'tag:yaml.org,2002:timestamp']
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _string_list(where, value):
    if value is None:
        return []
    if not (isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)):
        raise ChangeSourceError('%s: must be a list of names, got %r' % (where, value))
    return [item.strip() for item in value]


def _file_change(path, index, entry):
    where = '%s: changes[%d]' % (path, index)
    if not isinstance(entry, dict):
        raise ChangeSourceError('%s: expected a mapping of change keys, got %s' % (where, type(entry).__name__))
    unknown = sorted(str(key) for key in entry if key not in CHANGE_KEYS)
    if unknown:
        raise ChangeSourceError('%s: unknown key(s) %s; known keys: %s' % (where, ', '.join(unknown), ', '.join(CHANGE_KEYS)))
    change_id = entry.get('id')
    if isinstance(change_id, bool) or not isinstance(change_id, (str, int)) or not str(change_id).strip():
        raise ChangeSourceError('%s.id: every change needs an id (text), got %r' % (where, change_id))
    approver = entry.get('approver')
    if approver is not None and not isinstance(approver, str):
        raise ChangeSourceError('%s.approver: must be the approver as text, got %r' % (where, approver))
    emergency = entry.get('emergency')
    if emergency is not None and not isinstance(emergency, bool):
        raise ChangeSourceError('%s.emergency: must be true or false, got %r' % (where, emergency))
    description = entry.get('description')
    if description is not None and not isinstance(description, str):
        raise ChangeSourceError('%s.description: must be text, got %r' % (where, description))
    hosts = _string_list('%s.hosts' % where, entry.get('hosts'))
    groups = _string_list('%s.groups' % where, entry.get('groups'))
    if not hosts and not groups:
        raise ChangeSourceError('%s: names no hosts and no groups, so it covers nothing' % where)
    times = {}
    for key in ('start', 'end'):
        if entry.get(key) is None:
            raise ChangeSourceError('%s.%s: missing; every change needs a start and an end' % (where, key))
        try:
            times[key] = parse_time(entry[key])
        except ValueError as exc:
            raise ChangeSourceError('%s.%s: %s' % (where, key, exc)) from None
    if times['end'] <= times['start']:
        raise ChangeSourceError('%s.end: %s is not after start %s' % (where, entry['end'], entry['start']))
    approver = (approver or '').strip()
    return {
        'id': str(change_id).strip(), 'approved': bool(approver),
        'approval': 'approved by %s' % approver if approver else 'it records no approver',
        'approvers': [approver] if approver else [], 'hosts': hosts, 'groups': groups,
        'start': times['start'], 'end': times['end'], 'emergency': bool(emergency), 'description': description or '',
        'source': path,
    }


def load_change_file(path):
    """``{id: change}`` of the change file ``path``, every entry validated; ChangeSourceError naming the field."""
    try:
        with open(os.path.expanduser(path), encoding='utf-8') as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChangeSourceError('%s: cannot read the change file: %s' % (path, getattr(exc, 'strerror', None) or exc)) from None
    if path.lower().endswith('.json'):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ChangeSourceError('%s: not valid JSON: %s' % (path, exc)) from None
    else:
        try:
            data = yaml.load(text, Loader=_NoTimestampLoader)  # noqa: S506 - a SafeLoader without timestamps
        except yaml.YAMLError as exc:
            raise ChangeSourceError('%s: not valid YAML: %s' % (path, exc)) from None
    if isinstance(data, dict):
        unknown = sorted(str(key) for key in data if key != 'changes')
        if unknown:
            raise ChangeSourceError('%s: unknown top-level key(s) %s; known: changes' % (path, ', '.join(unknown)))
        data = data.get('changes')
    if not isinstance(data, list):
        raise ChangeSourceError('%s: expected a list of changes, or a mapping with a "changes" list' % path)
    changes, first_index = {}, {}
    for index, entry in enumerate(data):
        change = _file_change(path, index, entry)
        if change['id'] in changes:
            raise ChangeSourceError('%s: changes[%d].id: %s is listed twice (first as changes[%d])'
                                    % (path, index, change['id'], first_index[change['id']]))
        changes[change['id']] = change
        first_index[change['id']] = index
    return changes


class ChangeFile:
    """A change file: read whole and validated on each lookup, so an error anywhere in it is never ignored."""

    def __init__(self, path):
        self.path = path
        self.description = path

    def lookup(self, change_id):
        return load_change_file(self.path).get(change_id)


# -- the Table API ------------------------------------------------------------------------------


def _api_config(source, env):
    """The API settings of a URL or a source mapping, credentials from the mapping or else the environment."""
    if isinstance(source, str):
        source = {'url': source}
    unknown = sorted(str(key) for key in source if key not in SOURCE_KEYS)
    if unknown:
        raise ChangeSourceError('change source: unknown key(s) %s; known: %s' % (', '.join(unknown), ', '.join(SOURCE_KEYS)))
    url = source.get('url')
    if not isinstance(url, str) or not url.startswith(('http://', 'https://')):
        raise ChangeSourceError('change source: url must be an http:// or https:// URL')
    try:
        parts = urllib.parse.urlsplit(url)
        credentials_in_url = parts.username is not None or parts.password is not None
    except ValueError:
        raise ChangeSourceError('change source: url is not a valid URL') from None
    # Checked before anything echoes the URL: credentials in it would end up in messages and logs.
    if credentials_in_url:
        raise ChangeSourceError('change source: url must not carry credentials; give user and password or token '
                                '(or %s, %s, %s)' % (ENV_USER, ENV_PASSWORD, ENV_TOKEN))
    if parts.query or parts.fragment or not parts.hostname:
        raise ChangeSourceError('change source: url must be the base URL of the instance, without a query or fragment')
    credentials = {key: source.get(key) for key in ('user', 'password', 'token')}
    for key, value in credentials.items():
        if value is not None and not isinstance(value, str):
            raise ChangeSourceError('change source: %s must be a string' % key)
    if not any(credentials.values()):
        credentials = {'user': env.get(ENV_USER), 'password': env.get(ENV_PASSWORD), 'token': env.get(ENV_TOKEN)}
    if credentials['token'] and (credentials['user'] or credentials['password']):
        raise ChangeSourceError('change source: give either user and password or a token, not both')
    if bool(credentials['user']) != bool(credentials['password']):
        raise ChangeSourceError('change source: user and password go together; one of them is missing')
    validate_certs = source.get('validate_certs', True)
    if not isinstance(validate_certs, bool):
        raise ChangeSourceError('change source: validate_certs must be true or false, got %r' % (validate_certs,))
    timeout = source.get('timeout', DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ChangeSourceError('change source: timeout must be a number of seconds above 0, got %r' % (timeout,))
    table = source.get('table', DEFAULT_TABLE)
    if not isinstance(table, str) or not _TABLE_NAME.match(table):
        raise ChangeSourceError('change source: table must be a table name (letters, digits, "_"), got %r' % (table,))
    return {'url': url.rstrip('/'), 'validate_certs': validate_certs, 'timeout': timeout, 'table': table,
            'fields': _field_mapping(source.get('fields')), **credentials}


def _field_mapping(overrides):
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise ChangeSourceError('change source: fields must be a mapping of %s to field names' % ', '.join(DEFAULT_FIELDS))
    unknown = sorted(str(key) for key in overrides if key not in DEFAULT_FIELDS)
    if unknown:
        raise ChangeSourceError('change source: fields: unknown key(s) %s; known: %s' % (', '.join(unknown), ', '.join(DEFAULT_FIELDS)))
    fields = dict(DEFAULT_FIELDS, **{key: value or '' for key, value in overrides.items()})
    for key, value in fields.items():
        table, _sep, field = value.rpartition(':') if isinstance(value, str) and key == 'approver' else ('', '', value)
        optional = key in ('groups', 'hosts')
        if not isinstance(field, str) or not (_FIELD_NAME.match(field) or (optional and not field)) or (table and not _TABLE_NAME.match(table)):
            raise ChangeSourceError('change source: fields.%s: %r is not a field name (letters, digits, "_", "." to follow a reference%s)'
                                    % (key, value, '; "table:field" reads approval records' if key == 'approver' else ''))
    return fields


def _field_text(shown, row, field):
    value = row.get(field, '')
    if isinstance(value, dict) and 'value' in value:
        value = value['value']
    if value is None:
        return ''
    if not isinstance(value, str):
        raise ChangeSourceError('GET %s: field %s is %r, not text' % (shown, field, value))
    return value.strip()


def _names(text):
    return [item.strip() for item in text.split(',') if item.strip()]


class ChangeTableAPI:
    """A ServiceNow-style Table API: ``GET <url>/api/now/table/<table>?number=<id>`` answering ``{"result": [...]}``."""

    def __init__(self, config):
        self.url = config['url']
        self.description = config['url']
        self.table = config['table']
        self.fields = config['fields']
        self._timeout = config['timeout']
        self._validate_certs = config['validate_certs']
        self._user = config['user'] or None
        self._password = config['password'] or None
        self._headers = {'Accept': 'application/json'}
        if config['token']:
            self._headers['Authorization'] = 'Bearer %s' % config['token']

    def _rows(self, shown, path, params):
        url = '%s/api/now/table/%s?%s' % (self.url, path, urllib.parse.urlencode(params))
        try:
            # Redirects are not followed: they would carry the credentials to wherever the answer points.
            with open_url(url, method='GET', headers=self._headers, url_username=self._user, url_password=self._password,
                          force_basic_auth=bool(self._user), use_netrc=False, follow_redirects='none',
                          validate_certs=self._validate_certs, timeout=self._timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            hint = {401: ' (the credentials were refused)', 403: ' (the credentials may not read this table)'}.get(exc.code, '')
            if 300 <= exc.code < 400:
                hint = ' (a redirect; redirects are not followed)'
            raise ChangeSourceError('GET %s: HTTP %d%s' % (shown, exc.code, hint)) from None
        except urllib.error.URLError as exc:
            raise ChangeSourceError('GET %s: cannot connect: %s' % (shown, exc.reason)) from None
        except (TimeoutError, socket.timeout):
            raise ChangeSourceError('GET %s: no answer within %s s' % (shown, self._timeout)) from None
        except (OSError, ValueError, http.client.HTTPException, UrlConnectionError) as exc:
            raise ChangeSourceError('GET %s: %s' % (shown, exc)) from None
        try:
            document = json.loads(body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            raise ChangeSourceError('GET %s: not JSON' % shown) from None
        if not isinstance(document, dict) or not isinstance(document.get('result'), list):
            raise ChangeSourceError('GET %s: no "result" list' % shown)
        for index, row in enumerate(document['result']):
            if not isinstance(row, dict):
                raise ChangeSourceError('GET %s: result[%d] is not an object' % (shown, index))
        return document['result']

    def lookup(self, change_id):
        fields = self.fields
        shown = '%s/api/now/table/%s?%s=%s' % (self.url, self.table, fields['number'], change_id)
        record_fields = ['sys_id'] + [fields[key] for key in ('number', 'approval', 'start', 'end', 'type', 'hosts', 'groups') if fields[key]]
        if ':' not in fields['approver']:
            record_fields.append(fields['approver'])
        rows = self._rows(shown, self.table, [
            (fields['number'], change_id), ('sysparm_fields', ','.join(record_fields)), ('sysparm_display_value', 'false'),
            ('sysparm_exclude_reference_link', 'true'), ('sysparm_limit', '2')])
        if not rows:
            return None
        if len(rows) > 1:
            raise ChangeSourceError('GET %s: more than one record has %s %s' % (shown, fields['number'], change_id))
        return self._change(shown, rows[0], change_id)

    def _change(self, shown, row, change_id):
        fields = self.fields
        text = {key: _field_text(shown, row, fields[key]) if fields[key] and ':' not in fields[key] else ''
                for key in ('number', 'approval', 'start', 'end', 'type', 'hosts', 'groups', 'approver')}
        times = {}
        for key in ('start', 'end'):
            if not text[key]:
                raise ChangeSourceError('GET %s: %s has no %s (the field is empty or missing)' % (shown, change_id, fields[key]))
            try:
                times[key] = _servicenow_time(text[key])
            except ValueError as exc:
                raise ChangeSourceError('GET %s: %s: %s' % (shown, fields[key], exc)) from None
        if times['end'] <= times['start']:
            raise ChangeSourceError('GET %s: %s %s is not after %s %s' % (shown, fields['end'], text['end'], fields['start'], text['start']))
        if ':' in fields['approver']:
            approvers = self._approval_records(row.get('sys_id'), shown)
        else:
            approvers = [text['approver']] if text['approver'] else []
        return {
            'id': text['number'] or change_id, 'approved': text['approval'].lower() == 'approved',
            'approval': '%s: %s' % (fields['approval'], text['approval'] or 'empty'), 'approvers': approvers,
            'hosts': _names(text['hosts']), 'groups': _names(text['groups']), 'start': times['start'], 'end': times['end'],
            # "emergency" is the ServiceNow change type; "true" lets a boolean field of a custom mapping say the same.
            'emergency': text['type'].lower() in ('emergency', 'true'), 'description': '', 'source': self.url,
        }

    def _approval_records(self, sys_id, shown_change):
        table, _sep, field = self.fields['approver'].rpartition(':')
        if not isinstance(sys_id, str) or not _SYS_ID.match(sys_id):
            raise ChangeSourceError('GET %s: the record has no sys_id to look its approvals up by' % shown_change)
        query = 'sysapproval=%s^state=approved' % sys_id
        shown = '%s/api/now/table/%s?sysparm_query=%s' % (self.url, table, query)
        rows = self._rows(shown, table, [('sysparm_query', query), ('sysparm_fields', field), ('sysparm_display_value', 'false'),
                                         ('sysparm_exclude_reference_link', 'true')])
        return sorted({_field_text(shown, row, field) for row in rows} - {''})


def open_source(source, env=None):
    """The reader of ``source``: a change file path, an http(s) base URL, or a mapping with ``url``."""
    env = os.environ if env is None else env
    if isinstance(source, str) and source.strip() and not source.startswith(('http://', 'https://')):
        return ChangeFile(source)
    if isinstance(source, (str, dict)) and source:
        return ChangeTableAPI(_api_config(source, env))
    raise ChangeSourceError('change source: give a change file path, an http(s) URL, or a mapping with url')


# -- the host's approvers -----------------------------------------------------------------------


def host_approvers(host, register=None, asset_db=None):
    """``(approvers or None, where they were looked up)`` for ``host`` from a register file, else an asset DB."""
    if register:
        try:
            entries = register_with_fingerprint(register)[0]
        except (ConfigError, RegisterError) as exc:
            raise ChangeSourceError(str(exc)) from None
        where = 'asset register %s' % register
    elif asset_db:
        try:
            with AssetStore(asset_db, readonly=True) as store:
                entries = store.register()
        except AssetStoreError as exc:
            raise ChangeSourceError(str(exc)) from None
        where = 'asset database %s' % asset_db
    else:
        return None, 'no asset register or asset database was given'
    if host not in entries:
        return None, '%s, which does not list the host' % where
    return list(entries[host].get('approvers') or []), where


# -- the decision -------------------------------------------------------------------------------


def change_summary(change):
    """The change as a task returns it: no credentials, times in UTC ISO 8601."""
    return {'id': change['id'], 'approver': change['approvers'][0] if change['approvers'] else None,
            'hosts': list(change['hosts']), 'groups': list(change['groups']), 'start': utc_text(change['start']),
            'end': utc_text(change['end']), 'emergency': change['emergency'], 'source': change['source']}


def _covers(change, host, groups):
    return any(fnmatch.fnmatchcase(host, pattern) for pattern in change['hosts']) or bool(set(change['groups']) & set(groups))


def decide(change, *, host, groups, approvers, approvers_where, emergency, at, claimed_approver=None):
    """``{approved, change, warnings}`` when the normalised ``change`` approves ``host`` at ``at``; raises ChangeRefused."""
    summary = change_summary(change)

    def refuse(code, reason):
        raise ChangeRefused(code, reason, summary)

    change_id = change['id']
    if not change['approved']:
        refuse('not_approved', 'change %s is not approved (%s), so it cannot approve host %s' % (change_id, change['approval'], host))
    if at < change['start']:
        refuse('not_started', 'change %s is not open yet for host %s: it starts at %s (checked at %s)'
               % (change_id, host, summary['start'], utc_text(at)))
    if at >= change['end']:
        refuse('expired', 'change %s has expired for host %s: it ended at %s (checked at %s)' % (change_id, host, summary['end'], utc_text(at)))
    if not _covers(change, host, groups):
        refuse('wrong_host', 'change %s does not cover host %s (hosts: %s; groups: %s)'
               % (change_id, host, ', '.join(change['hosts']) or 'none', ', '.join(change['groups']) or 'none'))
    if not approvers:
        refuse('no_approvers', 'no approvers are registered for host %s (%s), so nobody may approve change %s for it'
               % (host, approvers_where or 'approvers option', change_id))
    allowed = [name for name in change['approvers'] if name in approvers]
    if not allowed:
        recorded = ('was approved by %s' % ', '.join(change['approvers'])) if change['approvers'] else 'records no approver'
        refuse('approver_not_allowed', 'change %s %s, not by an approver of host %s (approvers: %s)'
               % (change_id, recorded, host, ', '.join(approvers)))
    if emergency and not change['emergency']:
        refuse('not_emergency', 'change %s is not flagged emergency, and the run on host %s is an emergency (outside its window)'
               % (change_id, host))
    summary['approver'] = allowed[0]
    warnings = []
    if claimed_approver and claimed_approver not in change['approvers']:
        warnings.append('change_ref names %s as approver, but change %s records %s; the recorded approver counts'
                        % (claimed_approver, change_id, ', '.join(change['approvers'])))
    return {'approved': True, 'change': summary, 'warnings': warnings}


def check_change(change_ref, source, *, host, groups=(), approvers=None, approvers_where='', emergency=False, at=None, env=None):
    """Resolve ``change_ref`` in ``source`` and decide for ``host``: ``{approved, change, warnings}``.

    Raises ValueError for an unusable change_ref, ChangeSourceError for a source that cannot be read or is
    invalid, ChangeRefused when the change does not approve the host at ``at`` (aware datetime; default now).
    """
    change_id, claimed = change_reference(change_ref)
    reader = open_source(source, env)
    change = reader.lookup(change_id)
    if change is None:
        raise ChangeRefused('unknown_id', 'there is no change %s in %s to approve host %s' % (change_id, reader.description, host))
    return decide(change, host=host, groups=list(groups or ()), approvers=list(approvers or ()), approvers_where=approvers_where,
                  emergency=emergency, at=at or datetime.datetime.now(_UTC), claimed_approver=claimed)

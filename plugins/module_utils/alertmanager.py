# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small client of Prometheus Alertmanager's v2 HTTP API: silences and alerts (standard library only)."""

from __future__ import annotations

import base64
import datetime
import json
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request

UTC = datetime.timezone.utc
# Silences in these states still act (or will act) on alerts; expired ones are history.
LIVE_STATES = ('active', 'pending')

_TIME = re.compile(
    r'^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?\s*(Z|[+-]\d\d:?\d\d)?$', re.IGNORECASE)
_DURATION_PART = re.compile(r'(\d+(?:\.\d+)?)\s*(w|d|h|m|s)', re.IGNORECASE)
_DURATION_UNITS = {'w': 604800, 'd': 86400, 'h': 3600, 'm': 60, 's': 1}
_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$')
_OPERATORS = {'=': (False, True), '!=': (False, False), '=~': (True, True), '!~': (True, False)}


class AlertmanagerError(Exception):
    """A failed API call (naming the method, URL and HTTP status) or a bad argument."""


def now():
    return datetime.datetime.now(UTC)


def parse_time(value):
    """An aware UTC datetime from RFC 3339 / ISO 8601 text (``Z`` or an offset; no zone means UTC), a datetime or
    a Unix timestamp. Alertmanager writes up to nanoseconds; they are cut to microseconds."""
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, UTC)
    match = _TIME.match(str(value).strip())
    if not match:
        raise AlertmanagerError('not a time (expected ISO 8601 such as 2026-11-29T02:00:00Z): %r' % (value,))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or '0')[:6].ljust(6, '0'))
    offset = datetime.timedelta(0)
    if zone and zone.upper() != 'Z':
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        offset = sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        stamp = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro,
                                  tzinfo=datetime.timezone(offset))
    except ValueError as exc:
        raise AlertmanagerError('not a time: %r (%s)' % (value, exc)) from exc
    return stamp.astimezone(UTC)


def format_time(stamp):
    """RFC 3339 in UTC with milliseconds, as Alertmanager stores and prints times."""
    stamp = parse_time(stamp)
    return stamp.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (stamp.microsecond // 1000)


def parse_duration(value):
    """A timedelta from seconds (int) or text such as ``90m``, ``2h``, ``1h30m``, ``1d`` or ``3600``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().replace(' ', '')
        if re.fullmatch(r'\d+(\.\d+)?', text):
            seconds = float(text)
        elif text and _DURATION_PART.sub('', text) == '':
            seconds = sum(float(number) * _DURATION_UNITS[unit.lower()] for number, unit in _DURATION_PART.findall(text))
        else:
            raise AlertmanagerError('not a duration (expected seconds or e.g. 90m, 2h, 1h30m, 1d): %r' % (value,))
    if seconds <= 0:
        raise AlertmanagerError('duration must be positive: %r' % (value,))
    return datetime.timedelta(seconds=seconds)


def matcher(name, value, is_regex=False, is_equal=True):
    """One matcher in the API's spelling."""
    return {'name': str(name), 'value': str(value), 'isRegex': bool(is_regex), 'isEqual': bool(is_equal)}


def parse_matcher(spec):
    """A matcher from a mapping (``name``, ``value``, ``is_regex``/``isRegex``, ``is_equal``/``isEqual``) or from
    PromQL-style text: ``instance=~"web1(:.*)?"``, ``job="node"``, ``env!=test``, ``team!~"db.*"``."""
    if isinstance(spec, dict):
        if not spec.get('name') or 'value' not in spec:
            raise AlertmanagerError('a matcher needs a name and a value: %r' % (spec,))
        return matcher(spec['name'], spec['value'], spec.get('is_regex', spec.get('isRegex', False)),
                       spec.get('is_equal', spec.get('isEqual', True)))
    match = _MATCHER.match(str(spec))
    if not match:
        raise AlertmanagerError('not a matcher (expected e.g. instance=~"web1(:.*)?"): %r' % (spec,))
    name, operator, value = match.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r'\\(.)', r'\1', value[1:-1])
    is_regex, is_equal = _OPERATORS[operator]
    return matcher(name, value, is_regex, is_equal)


def host_matcher(host, label='instance', pattern='{host}(:.*)?'):
    """The default host-scoped matcher: ``label`` matches ``pattern`` with ``{host}`` replaced by the host name
    (regex-escaped), so ``instance=~"web1(:.*)?"`` covers ``web1`` and ``web1:9100``."""
    if not host:
        raise AlertmanagerError('a host is needed for the default matcher (or give matchers)')
    return matcher(label, pattern.replace('{host}', re.escape(str(host))), is_regex=True)


def matcher_key(item):
    return (item['name'], item['value'], bool(item.get('isRegex')), bool(item.get('isEqual', True)))


def same_matchers(first, second):
    """Whether two matcher lists select the same alerts (same matchers, any order)."""
    return sorted(map(matcher_key, first)) == sorted(map(matcher_key, second))


def matcher_text(item):
    """A matcher in the label-matcher syntax the API's ``filter`` parameter takes."""
    operator = {(False, True): '=', (False, False): '!=', (True, True): '=~', (True, False): '!~'}[
        (bool(item.get('isRegex')), bool(item.get('isEqual', True)))]
    return '%s%s"%s"' % (item['name'], operator, item['value'].replace('\\', '\\\\').replace('"', '\\"'))


def silence_comment(comment, run_id=None, change_ref=None):
    """The comment stored with a silence: the text plus run id and change reference, which correlate it with the
    audit trail (and the run id makes it findable again)."""
    tags = []
    if run_id:
        tags.append('run_id=%s' % run_id)
    if change_ref:
        tags.append('change=%s' % change_ref)
    return '%s [%s]' % (comment, ' '.join(tags)) if tags else comment


def find_silences(silences, matchers, comment=None, marker=None, states=LIVE_STATES):
    """Silences in ``states`` with exactly these matchers whose comment contains ``marker`` (when given) or else
    equals ``comment``; newest end first."""
    found = []
    for silence in silences:
        if silence.get('status', {}).get('state') not in states:
            continue
        if not same_matchers(silence.get('matchers', []), matchers):
            continue
        text = silence.get('comment', '')
        if (marker in text) if marker else (comment is None or text == comment):
            found.append(silence)
    return sorted(found, key=lambda item: parse_time(item['endsAt']), reverse=True)


def fired_between(alerts, since, until, include_ongoing=False):
    """Alerts that started firing within [since, until]; with ``include_ongoing`` also those that started before
    ``since`` and were still firing then (endsAt after since). Oldest start first."""
    since, until = parse_time(since), parse_time(until)
    selected = []
    for alert in alerts:
        started = parse_time(alert['startsAt'])
        if started > until:
            continue
        if started >= since:
            selected.append(alert)
        elif include_ongoing and (not alert.get('endsAt') or parse_time(alert['endsAt']) >= since):
            selected.append(alert)
    return sorted(selected, key=lambda alert: (parse_time(alert['startsAt']), alert.get('fingerprint', '')))


def compact_alert(alert):
    """What a patch outcome keeps of an alert: labels, its summary, times, state and fingerprint."""
    annotations = alert.get('annotations') or {}
    status = alert.get('status') or {}
    return {
        'labels': dict(alert.get('labels') or {}),
        'summary': annotations.get('summary') or annotations.get('description') or '',
        'starts_at': alert.get('startsAt'),
        'ends_at': alert.get('endsAt'),
        'state': status.get('state'),
        'silenced_by': list(status.get('silencedBy') or []),
        'fingerprint': alert.get('fingerprint'),
    }


class Client:
    """Alertmanager v2 API at ``url`` (the base URL, with a path prefix when behind a proxy)."""

    def __init__(self, url, *, timeout=10, username=None, password=None, token=None, validate_certs=True,
                 ca_path=None):
        parsed = urllib.parse.urlsplit(url or '')
        if parsed.scheme not in ('http', 'https') or not parsed.netloc:
            raise AlertmanagerError('not an http(s) URL: %r' % (url,))
        self.base = url.rstrip('/') + '/api/v2'
        self.timeout = timeout
        self.headers = {'Accept': 'application/json'}
        if token:
            self.headers['Authorization'] = 'Bearer %s' % token
        elif username:
            credentials = ('%s:%s' % (username, password or '')).encode('utf-8')
            self.headers['Authorization'] = 'Basic %s' % base64.b64encode(credentials).decode('ascii')
        context = ssl.create_default_context(cafile=ca_path)
        if not validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))

    def request(self, method, path, query=None, body=None):
        """The decoded JSON answer (None when empty); AlertmanagerError names method, URL and HTTP status."""
        url = self.base + path
        if query:
            url += '?' + urllib.parse.urlencode(query, doseq=True)
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        # __init__ admitted only http and https URLs.
        req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with self._opener.open(req, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode('utf-8', 'replace').strip()
            suffix = ': ' + detail if detail else ''
            raise AlertmanagerError('%s %s: HTTP %d %s%s' % (method, url, exc.code, exc.reason, suffix)) from exc
        except urllib.error.URLError as exc:
            raise AlertmanagerError('%s %s: %s' % (method, url, exc.reason)) from exc
        except (socket.timeout, TimeoutError) as exc:
            raise AlertmanagerError('%s %s: no answer within %s s' % (method, url, self.timeout)) from exc
        except OSError as exc:
            raise AlertmanagerError('%s %s: %s' % (method, url, exc)) from exc
        if not payload.strip():
            return None
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise AlertmanagerError('%s %s: the answer is not JSON: %r' % (method, url, payload[:200])) from exc

    def silences(self):
        return self.request('GET', '/silences') or []

    def create_silence(self, matchers, starts_at, ends_at, *, created_by, comment, silence_id=None):
        """POST a silence (with ``silence_id``: update that one); the id Alertmanager answers with. Alertmanager
        keeps the id when only the end (or comment) of a live silence changes, else it expires the old one and
        answers with a new id."""
        body = {'matchers': matchers, 'startsAt': format_time(starts_at), 'endsAt': format_time(ends_at),
                'createdBy': created_by, 'comment': comment}
        if silence_id:
            body['id'] = silence_id
        answer = self.request('POST', '/silences', body=body)
        if not isinstance(answer, dict) or not answer.get('silenceID'):
            raise AlertmanagerError('POST %s/silences: no silenceID in the answer %r' % (self.base, answer))
        return answer['silenceID']

    def expire_silence(self, silence_id):
        self.request('DELETE', '/silence/%s' % urllib.parse.quote(silence_id, safe=''))

    def alerts(self, matchers=(), active=True, silenced=True, inhibited=True, unprocessed=True):
        """Current alerts matching ``matchers`` (Alertmanager drops resolved ones after its resolve timeout)."""
        query = [('filter', matcher_text(item)) for item in matchers]
        query += [(name, 'true' if flag else 'false') for name, flag in (
            ('active', active), ('silenced', silenced), ('inhibited', inhibited), ('unprocessed', unprocessed))]
        return self.request('GET', '/alerts', query=query) or []

    def post_alerts(self, alerts):
        self.request('POST', '/alerts', body=alerts)


def ensure_silence(client, matchers, starts_at, ends_at, *, created_by, comment, marker=None, tolerance=0,
                   check_mode=False):
    """Create the silence, or reuse a live one with the same matchers and comment (or ``marker``), moving its end
    when it differs by more than ``tolerance`` seconds (and taking the new comment when only the marker matched).

    Returns (action, silence ids, the silence as wanted):
    action is created, updated or unchanged; in check mode nothing is sent and a new silence has no id."""
    existing = find_silences(client.silences(), matchers, comment=comment, marker=marker)
    ends_at = parse_time(ends_at)
    if existing:
        current = existing[0]
        ids = [item['id'] for item in existing]
        drift = abs((parse_time(current['endsAt']) - ends_at).total_seconds())
        if drift <= max(tolerance, 0.001) and current.get('comment') == comment:
            return 'unchanged', ids, current
        wanted = dict(current, endsAt=format_time(ends_at), comment=comment)
        if not check_mode:
            # An active silence keeps its start: Alertmanager only updates it in place when startsAt is unchanged.
            new_id = client.create_silence(current['matchers'], current['startsAt'], ends_at,
                                           created_by=current.get('createdBy') or created_by, comment=comment,
                                           silence_id=current['id'])
            ids[0] = wanted['id'] = new_id
        return 'updated', ids, wanted
    wanted = {'id': None, 'matchers': matchers, 'startsAt': format_time(starts_at), 'endsAt': format_time(ends_at),
              'createdBy': created_by, 'comment': comment}
    if parse_time(starts_at) >= ends_at:
        raise AlertmanagerError('the silence would end (%s) before it starts (%s)' % (wanted['endsAt'], wanted['startsAt']))
    if not check_mode:
        wanted['id'] = client.create_silence(matchers, starts_at, ends_at, created_by=created_by, comment=comment)
    return 'created', [wanted['id']] if wanted['id'] else [], wanted


def expire_silences(client, matchers, comment=None, marker=None, check_mode=False):
    """Expire the live silences with these matchers and comment (or ``marker``); their ids."""
    found = find_silences(client.silences(), matchers, comment=comment, marker=marker)
    if not check_mode:
        for silence in found:
            client.expire_silence(silence['id'])
    return [silence['id'] for silence in found]


def connection_argument_spec():
    """Options both Alertmanager modules take: the server, its credentials and the alerts' host matchers."""
    return dict(
        url=dict(type='str', required=True),
        url_username=dict(type='str'),
        url_password=dict(type='str', no_log=True),
        bearer_token=dict(type='str', no_log=True),
        timeout=dict(type='int', default=10),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        host=dict(type='str'),
        host_label=dict(type='str', default='instance'),
        host_pattern=dict(type='str', default='{host}(:.*)?'),
        matchers=dict(type='list', elements='raw'),
    )


def client_from_params(params):
    return Client(params['url'], timeout=params['timeout'], username=params['url_username'],
                  password=params['url_password'], token=params['bearer_token'],
                  validate_certs=params['validate_certs'], ca_path=params['ca_path'])


def matchers_from_params(params):
    """The given matchers, else the host-scoped default one."""
    if params.get('matchers'):
        return [parse_matcher(item) for item in params['matchers']]
    return [host_matcher(params.get('host'), params['host_label'], params['host_pattern'])]

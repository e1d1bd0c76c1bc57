# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Syslog forwarding of audit events: RFC 5424 messages with structured data over the local socket, UDP, TCP or TLS.

TCP uses octet-counting framing (RFC 6587), TLS the same framing over a verified TLS connection (RFC 5425):
the receiver's certificate must chain to the given CA (or the system's trust store) and name the target host;
a client certificate is sent when one is given. Every socket operation has a timeout, and after a failure no
reconnect is tried for a back-off interval, so an unreachable receiver costs the play at most one timeout per
interval; messages that cannot be sent meanwhile are counted, not queued (the webhook sink is the at-least-once
channel).
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import time
from urllib.parse import urlsplit

# RFC 5612 documentation private enterprise number.
SD_ID = 'patchwise@32473'
LOCAL_SOCKET = '/dev/log'
FACILITIES = {
    'kern': 0, 'user': 1, 'mail': 2, 'daemon': 3, 'auth': 4, 'syslog': 5, 'lpr': 6, 'news': 7, 'uucp': 8,
    'cron': 9, 'authpriv': 10, 'ftp': 11, 'local0': 16, 'local1': 17, 'local2': 18, 'local3': 19, 'local4': 20,
    'local5': 21, 'local6': 22, 'local7': 23,
}
SEVERITY_WARNING = 4
SEVERITY_NOTICE = 5
SEVERITY_INFO = 6
_SD_PARAMS = ('run_id', 'event_id', 'seq', 'status', 'host', 'hash', 'records')
_NILVALUE = '-'
# Receivers must accept 480 octets and should accept 2048 (RFC 5424 6.1); rsyslog's default limit is 8 KiB.
MAX_MESSAGE = 8192
_BACKOFF_MIN = 1.0
_BACKOFF_MAX = 30.0


_DEFAULT_PORTS = {'udp': 514, 'tcp': 514, 'tls': 6514}


def parse_target(target):
    """(transport, address) of ``local``, ``unix:///path``, ``udp://host:port``, ``tcp://host:port`` or ``tls://host:port``."""
    if target == 'local':
        return 'unix', LOCAL_SOCKET
    parts = urlsplit(target)
    if parts.scheme == 'unix' and parts.path:
        return 'unix', parts.path
    if parts.scheme in _DEFAULT_PORTS and parts.hostname:
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError:
            port = None
        if port:
            return parts.scheme, (parts.hostname, port)
    raise ValueError("syslog_target %r: expected 'local', 'unix:///path', 'udp://host:port', 'tcp://host:port' or "
                     "'tls://host:port'" % (target,))


def tls_context(ca_file=None, client_cert=None, client_key=None):
    """A client TLS context that verifies the receiver: against ``ca_file``, else the system's trust store."""
    for option, path in (('syslog_ca_file', ca_file), ('syslog_client_cert', client_cert), ('syslog_client_key', client_key)):
        if path and not os.path.isfile(path):
            raise ValueError('%s %s: no such file' % (option, path))
    if client_key and not client_cert:
        raise ValueError('syslog_client_key is set without syslog_client_cert')
    try:
        context = ssl.create_default_context(cafile=ca_file or None)
        if client_cert:
            context.load_cert_chain(client_cert, client_key or None)
    except ssl.SSLError as exc:
        raise ValueError('syslog TLS settings: %s' % exc) from exc
    return context


def _sd_escape(value):
    # RFC 5424 6.3.3: '"', '\' and ']' are escaped inside PARAM-VALUE.
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace(']', '\\]')


def _header_field(value, limit):
    # HOSTNAME, APP-NAME and MSGID are printable US-ASCII without spaces, bounded in length.
    text = ''.join(ch for ch in str(value or '') if 33 <= ord(ch) <= 126)[:limit]
    return text or _NILVALUE


def severity_of(event):
    if event.get('status') in ('failed', 'unreachable'):
        return SEVERITY_WARNING
    if event.get('event') == 'chain_head':
        return SEVERITY_NOTICE
    return SEVERITY_INFO


def format_message(event, body, *, facility, app_name, hostname, procid):
    """One RFC 5424 message (bytes): header, the patchwise SD element and the JSON ``body`` as MSG."""
    params = ''.join(' %s="%s"' % (name, _sd_escape(event[name])) for name in _SD_PARAMS
                     if event.get(name) is not None)
    header = '<%d>1 %s %s %s %s %s [%s%s] ' % (
        facility * 8 + severity_of(event), event.get('ts') or _NILVALUE, _header_field(hostname, 255),
        _header_field(app_name, 48), _header_field(procid, 128), _header_field(event.get('event'), 32), SD_ID, params)
    message = header.encode('utf-8') + body
    if len(message) > MAX_MESSAGE:
        # Keep the structured data (the part receivers index) and mark the body as cut.
        message = header.encode('utf-8') + json.dumps({'truncated': True, 'event_id': event.get('event_id')}).encode()
    return message


class SyslogSink:
    """Sends each audit event as one RFC 5424 message; failures are counted and reported, never raised."""

    def __init__(self, target, facility='local0', app_name='patchwise', timeout=2.0, tls=None):
        """``tls``: {ca_file, client_cert, client_key} for a ``tls://`` target."""
        if facility not in FACILITIES:
            raise ValueError('syslog_facility %r: expected one of %s' % (facility, ', '.join(sorted(FACILITIES))))
        self.target = target
        self._transport, self._address = parse_target(target)
        self._tls = tls_context(**(tls or {})) if self._transport == 'tls' else None
        self._facility = FACILITIES[facility]
        self._app_name = app_name
        self._timeout = timeout
        self._hostname = socket.gethostname()
        self._procid = os.getpid()
        self._socket = None
        self._retry_at = 0.0
        self._backoff = _BACKOFF_MIN
        self.sent = 0
        self.dropped = 0
        self.last_error = None

    def send(self, event, body):
        """Send ``event`` (its SD fields) with ``body`` (JSON bytes) as the message text."""
        message = format_message(event, body, facility=self._facility, app_name=self._app_name,
                                 hostname=self._hostname, procid=self._procid)
        if self._socket is None and not self._connect():
            self.dropped += 1
            return False
        try:
            self._write(message)
        except OSError:
            # A TCP receiver that restarted shows up here: reconnect once at once, then back off.
            self._close()
            if not self._connect():
                self.dropped += 1
                return False
            try:
                self._write(message)
            except OSError as retry_exc:
                self._fail(retry_exc)
                self.dropped += 1
                return False
        self.sent += 1
        return True

    def _write(self, message):
        if self._transport in ('tcp', 'tls'):
            self._socket.sendall(b'%d ' % len(message) + message)
        elif self._transport == 'udp':
            self._socket.send(message)
        else:
            try:
                self._socket.send(message)
            except OSError:
                if self._socket.type != socket.SOCK_STREAM:
                    raise
                self._socket.sendall(message + b'\0')

    def _connect(self):
        if time.monotonic() < self._retry_at:
            return False
        try:
            if self._transport == 'unix':
                self._socket = self._unix_socket()
            else:
                host, port = self._address
                kind = socket.SOCK_DGRAM if self._transport == 'udp' else socket.SOCK_STREAM
                family, _kind, proto, _name, address = socket.getaddrinfo(host, port, 0, kind)[0]
                self._socket = socket.socket(family, kind, proto)
                self._socket.settimeout(self._timeout)
                self._socket.connect(address)
                if self._tls is not None:
                    # The handshake verifies the receiver's certificate and that it names ``host``.
                    self._socket = self._tls.wrap_socket(self._socket, server_hostname=host)
        except OSError as exc:
            self._close()
            self._fail(exc)
            return False
        self._backoff = _BACKOFF_MIN
        return True

    def _unix_socket(self):
        # /dev/log is a datagram socket on most systems; fall back to a stream socket as logging.handlers does.
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            sock = socket.socket(socket.AF_UNIX, kind)
            sock.settimeout(self._timeout)
            try:
                sock.connect(self._address)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error

    def _fail(self, exc):
        self.last_error = '%s: %s' % (self.target, exc)
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, _BACKOFF_MAX)

    def _close(self):
        if self._socket is not None:
            if isinstance(self._socket, ssl.SSLSocket):
                try:
                    # close_notify first: a receiver may drop what it read last from a TLS stream cut without it.
                    self._socket.unwrap()
                except (OSError, ValueError):
                    pass
            try:
                self._socket.close()
            except OSError:
                pass
            self._socket = None

    def close(self):
        self._close()

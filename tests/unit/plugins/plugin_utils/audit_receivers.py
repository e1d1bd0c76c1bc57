# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real receivers for the audit forwarding tests, on 127.0.0.1 with free ports: rsyslogd and an HTTP server."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

from ansible_collections.patchwise.patching.tests.unit.loopback import free_port, start_server, stop_server, wait_until_ready

RSYSLOGD = shutil.which('rsyslogd') or '/usr/sbin/rsyslogd'
# msgid, structured data, app name, facility, severity and the message, tab separated (the template below).
_RECEIVED_TEMPLATE = '%msgid%\\t%structured-data%\\t%app-name%\\t%syslogfacility-text%\\t%syslogseverity-text%\\t%msg%\\n'
_SD_PARAM = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_sd(structured_data):
    """{sd-id: {param: value}} of one RFC 5424 STRUCTURED-DATA field as rsyslog prints it."""
    elements = {}
    for element in re.findall(r'\[((?:[^\]\\]|\\.)*)\]', structured_data):
        sd_id, _sep, params = element.partition(' ')
        elements[sd_id] = {name: re.sub(r'\\(.)', r'\1', value) for name, value in _SD_PARAM.findall(params)}
    return elements


class Rsyslog:
    """rsyslogd -n with imtcp and imudp on loopback, writing every message it receives to a file."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.output = os.path.join(workdir, 'received.log')
        self.tcp_port = free_port()
        self.udp_port = free_port(socket.SOCK_DGRAM)
        # A local socket like /dev/log, in the work dir (the system's own /dev/log is left alone).
        self.unix_socket = os.path.join(workdir, 'log.sock')
        self.process = None

    def config(self):
        return '\n'.join([
            'global(workDirectory="%s" maxMessageSize="64k")' % self.workdir,
            'module(load="imtcp")',
            'module(load="imudp")',
            'module(load="imuxsock" SysSock.Use="off")',
            'template(name="received" type="string" string="%s")' % _RECEIVED_TEMPLATE,
            'ruleset(name="audit") {',
            '  action(type="omfile" file="%s" template="received" flushOnTXEnd="on" asyncWriting="off")' % self.output,
            '}',
            'input(type="imtcp" address="127.0.0.1" port="%d" ruleset="audit")' % self.tcp_port,
            'input(type="imudp" address="127.0.0.1" port="%d" ruleset="audit")' % self.udp_port,
            # The regular parser chain (RFC 5424 first), not imuxsock's special parser for local messages.
            'input(type="imuxsock" socket="%s" useSpecialParser="off" parseHostname="on" ruleset="audit")'
            % self.unix_socket,
            '',
        ])

    def start(self):
        conf = os.path.join(self.workdir, 'rsyslog.conf')
        with open(conf, 'w', encoding='utf-8') as handle:
            handle.write(self.config())
        self.process = start_server([RSYSLOGD, '-n', '-f', conf, '-i', os.path.join(self.workdir, 'rsyslogd.pid')],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_until_ready(self.process, self._listening, 20,
                         lambda: 'rsyslogd exited: %s' % self.process.stdout.read().decode(errors='replace'),
                         lambda: 'rsyslogd did not listen on tcp port %d' % self.tcp_port)
        return self

    def _listening(self):
        socket.create_connection(('127.0.0.1', self.tcp_port), timeout=1).close()
        return os.path.exists(self.unix_socket)

    def stop(self):
        stop_server(self.process)
        self.process = None

    def messages(self):
        """Received messages as dicts: msgid, sd (parsed), app_name, facility, severity, msg."""
        if not os.path.exists(self.output):
            return []
        out = []
        with open(self.output, encoding='utf-8') as handle:
            for line in handle:
                msgid, sd, app_name, facility, severity, msg = line.rstrip('\n').split('\t', 5)
                out.append({'msgid': msgid, 'sd': parse_sd(sd), 'app_name': app_name, 'facility': facility,
                            'severity': severity, 'msg': msg.strip()})
        return out

    def wait_for(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages()
            if predicate(messages):
                return messages
            time.sleep(0.1)
        return self.messages()


def make_certificates(directory):
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, signed by it (openssl CLI)."""
    def openssl(*args):
        subprocess.run(['openssl', *args], cwd=directory, check=True, capture_output=True)

    ec = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes')
    openssl('req', '-x509', *ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=patchwise test CA')
    for name, extension in (('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'), ('client', 'extendedKeyUsage=clientAuth')):
        openssl('req', *ec, '-keyout', name + '.key', '-out', name + '.csr', '-subj', '/CN=patchwise test ' + name)
        with open(os.path.join(directory, name + '.ext'), 'w', encoding='utf-8') as handle:
            handle.write(extension + '\n')
        openssl('x509', '-req', '-in', name + '.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
                '-out', name + '.pem', '-days', '2', '-extfile', name + '.ext')
    return {name: os.path.join(directory, name) for name in ('ca.pem', 'server.pem', 'server.key', 'client.pem', 'client.key')}


class RsyslogTLS(Rsyslog):
    """rsyslogd with one TLS input (the ossl stream driver) that requires a client certificate signed by the test CA."""

    def __init__(self, workdir):
        super().__init__(workdir)
        self.certificates = make_certificates(workdir)

    def config(self):
        certs = self.certificates
        return '\n'.join([
            'global(workDirectory="%s" maxMessageSize="64k" DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="%s" '
            'DefaultNetstreamDriverCertFile="%s" DefaultNetstreamDriverKeyFile="%s")'
            % (self.workdir, certs['ca.pem'], certs['server.pem'], certs['server.key']),
            'module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="x509/certvalid")',
            'template(name="received" type="string" string="%s")' % _RECEIVED_TEMPLATE,
            'ruleset(name="audit") {',
            '  action(type="omfile" file="%s" template="received" flushOnTXEnd="on" asyncWriting="off")' % self.output,
            '}',
            'input(type="imtcp" address="127.0.0.1" port="%d" ruleset="audit")' % self.tcp_port,
            '',
        ])

    def _listening(self):
        socket.create_connection(('127.0.0.1', self.tcp_port), timeout=1).close()
        return True


class WebhookReceiver:
    """http.server in a thread that records every POSTed JSON body; stop() and start() again on the same port.

    ``fail_next`` makes it read and record the next N requests but answer 503, as a receiver that stored an
    event and crashed before answering: the sender must retry, so the event arrives twice."""

    def __init__(self):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d/events' % self.port
        self.received = []
        self.headers = []
        self.fail_next = 0
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                with receiver._lock:
                    receiver.received.append(json.loads(body))
                    receiver.headers.append(dict(self.headers))
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= 1 if failing else 0
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def events(self):
        with self._lock:
            return list(self.received)

    def wait_for(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.events()):
                break
            time.sleep(0.05)
        return self.events()


def deduplicated(events):
    """Events in first-arrival order with repeats of an event_id dropped (what a receiver does)."""
    seen = set()
    out = []
    for event in events:
        if event['event_id'] not in seen:
            seen.add(event['event_id'])
            out.append(event)
    return out

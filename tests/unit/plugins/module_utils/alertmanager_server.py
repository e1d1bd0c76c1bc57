# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A real Prometheus Alertmanager (Debian package prometheus-alertmanager) on 127.0.0.1 with a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request

from ansible_collections.patchwise.patching.tests.unit.loopback import free_port, start_server, stop_server, wait_until_ready

ALERTMANAGER = shutil.which('prometheus-alertmanager') or shutil.which('alertmanager') or '/usr/bin/prometheus-alertmanager'
# Every alert goes to a receiver without integrations: the tests read alerts through the API only.
_CONFIG = "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n"


class Alertmanager:
    """``prometheus-alertmanager`` with its own config and storage in ``workdir``, clustering disabled."""

    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.process = None
        self.log_path = os.path.join(self.workdir, 'alertmanager.log')

    def start(self, timeout=30):
        if not os.path.exists(ALERTMANAGER):
            raise RuntimeError('%s not found: install the Debian package prometheus-alertmanager' % ALERTMANAGER)
        config = os.path.join(self.workdir, 'alertmanager.yml')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write(_CONFIG)
        with open(self.log_path, 'wb') as log:
            self.process = start_server(
                [ALERTMANAGER, '--config.file=%s' % config, '--storage.path=%s' % self.workdir,
                 '--web.listen-address=127.0.0.1:%d' % self.port, '--cluster.listen-address='],
                stdout=log, stderr=subprocess.STDOUT)
        wait_until_ready(self.process, self._ready, timeout,
                         lambda: 'alertmanager exited with %s: %s' % (self.process.returncode, self.log()),
                         lambda: 'alertmanager not ready within %d s: %s' % (timeout, self.log()))
        return self

    def _ready(self):
        with urllib.request.urlopen(self.url + '/-/ready', timeout=1) as answer:  # noqa: S310
            return answer.status == 200

    def stop(self):
        stop_server(self.process)
        self.process = None

    def log(self):
        with open(self.log_path, encoding='utf-8', errors='replace') as handle:
            return handle.read()[-2000:]

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real servers for the tests on 127.0.0.1: a free port, a server process waited for until it answers, and its stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import time


def free_port(kind=socket.SOCK_STREAM):
    """A port on 127.0.0.1 that is free now (``kind`` socket.SOCK_DGRAM for UDP)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_until_ready(process, ready, timeout, exited, not_ready):
    """Poll ``ready()`` until it is true; an OSError from it counts as not yet.

    Raises RuntimeError(``exited()``) when ``process`` ends first, and stops it and raises
    RuntimeError(``not_ready()``) when ``timeout`` seconds pass (the messages are built only then).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(exited())
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    stop_process(process)
    raise RuntimeError(not_ready())


def stop_process(process):
    """SIGTERM ``process`` (a subprocess.Popen or None) if it still runs, SIGKILL it after 10 s."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

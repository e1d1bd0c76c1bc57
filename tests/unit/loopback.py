# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real servers for the tests on 127.0.0.1: a free port, a server process waited for until it answers, and its stop.

A server must never outlive the test process that started it. Fixture teardown is not enough for that:
ansible-test runs every test in a fork that leaves with os._exit() (so a module-scoped fixture is never torn
down there), and a crashed or killed pytest worker runs no teardown at all. So each server is started in a
process group of its own, which stop_server() ends as a whole, and with a parent-death signal: the kernel
SIGKILLs the server when the thread that started it ends, however it ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

# Run by the interpreter between fork and the server's exec. PR_SET_PDEATHSIG survives execve, so the server
# keeps the pid start_server() returns and its own command line (what tests/tools/check-leftover-servers.sh
# reads). The parent pid check closes the window in which the test process died before prctl ran.
_EXEC_WITH_PARENT_DEATH_SIGNAL = '\n'.join([
    'import ctypes, os, signal, sys',
    'PR_SET_PDEATHSIG = 1',
    'if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:',
    '    sys.exit("prctl(PR_SET_PDEATHSIG): " + os.strerror(ctypes.get_errno()))',
    'if os.getppid() != int(sys.argv[1]):',
    '    sys.exit("the test process that started " + sys.argv[2] + " has gone")',
    'os.execv(sys.argv[2], sys.argv[2:])',
])


def free_port(kind=socket.SOCK_STREAM):
    """A port on 127.0.0.1 that is free now (``kind`` socket.SOCK_DGRAM for UDP)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start_server(argv, **popen_options):
    """subprocess.Popen of ``argv`` (absolute program path first) as leader of a new session and process group,
    killed by the kernel when the calling thread ends; stop it with stop_server()."""
    return subprocess.Popen([sys.executable, '-c', _EXEC_WITH_PARENT_DEATH_SIGNAL, str(os.getpid()), *argv],
                            start_new_session=True, **popen_options)


def wait_until_ready(process, ready, timeout, exited, not_ready):
    """Poll ``ready()`` until it is true; an OSError from it counts as not yet.

    Stops ``process`` (from start_server) and raises RuntimeError(``exited()``) when it ends first, or
    RuntimeError(``not_ready()``) when ``timeout`` seconds pass (the messages are built only then).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _has_exited(process):
            stop_server(process)
            raise RuntimeError(exited())
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    stop_server(process)
    raise RuntimeError(not_ready())


def stop_server(process, grace=10):
    """End the process group of ``process`` (from start_server, or None): SIGTERM, SIGKILL after ``grace`` s.

    The leader is reaped last: until then its pid, which is the group id, cannot be given to another process,
    so the final SIGKILL to the group reaches only what is left of the server (children that ignored SIGTERM).
    """
    if process is None or process.returncode is not None:
        return
    _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while not _has_exited(process) and time.monotonic() < deadline:
        time.sleep(0.05)
    _signal_group(process, signal.SIGKILL)
    process.wait()


def _signal_group(process, signum):
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def _has_exited(process):
    """True once ``process`` has ended, without reaping it (see stop_server)."""
    if process.returncode is not None:
        return True
    return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

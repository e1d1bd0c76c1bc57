# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A real PostgreSQL server for the tests: Debian's postgresql package, a cluster of its own in a temporary
directory, listening on 127.0.0.1 on a free port with password authentication, stopped with its test.

The server runs as the ``postgres`` user when the tests run as root (initdb refuses root), through setpriv,
which also sets the parent-death signal after the user change (a change of user clears it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from ansible_collections.patchwise.patching.tests.unit.loopback import free_port, start_server, stop_server, wait_until_ready

PASSWORD = 'pw-t3st-only'   # noqa: S105 - a throwaway cluster's password; tests check it never shows up anywhere
USER = 'patchwise'


def _bindir():
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/postgres'), key=lambda path: int(path.split('/')[4]))
    if not found:
        raise RuntimeError('PostgreSQL is not installed (Debian package postgresql; see tests/requirements/debian-packages.txt)')
    return os.path.dirname(found[-1])


_PREFIX = 'patchwise-pg-'


def remove_stale_clusters(now=None):
    """Remove the cluster directories of test processes that ended without their teardown.

    ansible-test runs each test in a fork that leaves with os._exit(), so a session-wide cluster's teardown may
    never run there; its server is gone (parent-death signal) but its directory stays.  A directory is stale
    when no server runs from it and it is older than a minute (a cluster being created has no server yet).
    """
    now = now or time.time()
    for directory in glob.glob(os.path.join(tempfile.gettempdir(), _PREFIX + '*')):
        pid_file = os.path.join(directory, 'data', 'postmaster.pid')
        try:
            with open(pid_file, encoding='ascii') as handle:
                os.kill(int(handle.readline()), 0)
            continue                        # its server still runs
        except (OSError, ValueError):
            pass
        try:
            if now - os.stat(directory).st_mtime > 60:
                shutil.rmtree(directory, ignore_errors=True)
        except OSError:
            continue


class PostgreSQL:
    """One cluster: ``start()``, ``database(name)`` for a fresh database's URL (no password in it), ``stop()``."""

    def __init__(self):
        remove_stale_clusters()
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix=_PREFIX)
        self.process = None
        self._as_postgres = []
        if os.geteuid() == 0:
            account = pwd.getpwnam('postgres')
            os.chown(self.directory, account.pw_uid, account.pw_gid)
            self._as_postgres = ['/usr/bin/setpriv', '--reuid', 'postgres', '--regid', 'postgres', '--init-groups', '--pdeathsig', 'SIGKILL', '--']

    def start(self):
        bindir = _bindir()
        password_file = os.path.join(self.directory, 'password')
        with open(password_file, 'w', encoding='utf-8') as handle:
            handle.write(PASSWORD + '\n')
        if self._as_postgres:
            account = pwd.getpwnam('postgres')
            os.chown(password_file, account.pw_uid, account.pw_gid)
        data = os.path.join(self.directory, 'data')
        subprocess.run([*self._as_postgres, os.path.join(bindir, 'initdb'), '-D', data, '-U', USER, '--auth-local=trust',
                        '--auth-host=scram-sha-256', '--pwfile', password_file, '-E', 'UTF8', '--locale=C.UTF-8'],
                       check=True, capture_output=True)
        os.unlink(password_file)
        # Durability settings off: a test cluster lives for one test run.
        self.process = start_server([*self._as_postgres, os.path.join(bindir, 'postgres'), '-D', data, '-p', str(self.port),
                                     '-k', self.directory, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
                                     '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_until_ready(self.process, self._ready, 30, lambda: 'postgres exited: %s' % self.process.stdout.read().decode(errors='replace'),
                         lambda: 'postgres did not accept connections on port %d' % self.port)
        return self

    def _connect(self, database='postgres'):
        import psycopg
        return psycopg.connect('postgresql://%s@127.0.0.1:%d/%s' % (USER, self.port, database), password=PASSWORD, autocommit=True,
                               connect_timeout=2)

    def _ready(self):
        import psycopg
        try:
            self._connect().close()
        except psycopg.OperationalError:
            return False
        return True

    def database(self, name):
        """A new, empty database ``name``; its URL, without the password (give it in PGPASSWORD)."""
        with self._connect() as connection:
            connection.execute('DROP DATABASE IF EXISTS "%s"' % name)
            connection.execute('CREATE DATABASE "%s"' % name)
        return 'postgresql://%s@127.0.0.1:%d/%s' % (USER, self.port, name)

    def query(self, database, sql, params=()):
        """Rows of ``sql`` run on ``database`` as the cluster's owner (for the tests' own checks)."""
        with self._connect(database) as connection:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def stop(self):
        stop_server(self.process)
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)

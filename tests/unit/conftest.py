# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures shared by tests in several folders."""

from __future__ import annotations

import itertools
import os

import pytest
from ansible_collections.patchwise.patching.tests.unit.plugins.module_utils.alertmanager_server import Alertmanager
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.audit_receivers import WebhookReceiver
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD, PostgreSQL

_DATABASES = itertools.count(1)


@pytest.fixture
def alertmanager_server(tmp_path_factory):
    """A real Alertmanager on loopback for one test, stopped after it.

    One per test, not per module: ansible-test runs each test in a fork of its own, which tears a wider-scoped
    fixture down only when the next test is in another module, so a "shared" server is started again by
    every test and left running by all but the module's last one.
    """
    instance = Alertmanager(tmp_path_factory.mktemp('alertmanager'))
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def webhook_receiver():
    """A local HTTP receiver for webhook events, stopped after the test."""
    instance = WebhookReceiver().start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope='session')
def postgresql_server():
    """A real PostgreSQL cluster on loopback, shared by the tests of a session (see postgresql_server.py)."""
    server = PostgreSQL().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=['sqlite', 'postgresql'])
def asset_db(request, tmp_path, monkeypatch):
    """Where a test's asset database lives: an SQLite file, then a fresh PostgreSQL database (password in PGPASSWORD)."""
    if request.param == 'sqlite':
        return str(tmp_path / 'assets.db')
    server = request.getfixturevalue('postgresql_server')
    monkeypatch.setenv('PGPASSWORD', PASSWORD)
    return server.database('assets_%d_%d' % (os.getpid(), next(_DATABASES)))

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures shared by tests in several folders."""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.tests.unit.plugins.module_utils.alertmanager_server import Alertmanager
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.audit_receivers import WebhookReceiver


@pytest.fixture(scope='module')
def alertmanager_server(tmp_path_factory):
    """A real Alertmanager on loopback, shared by the tests of one module."""
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

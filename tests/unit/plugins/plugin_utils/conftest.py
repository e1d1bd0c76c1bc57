"""Fixtures of the report's tests: the small fleet of report_fleet, in SQLite and in PostgreSQL."""

from __future__ import annotations

import os

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_db_copy import copy_database
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils import report_fleet
from ansible_collections.patchwise.patching.tests.unit.postgresql_server import PASSWORD


@pytest.fixture(scope='module')
def sqlite_fleet(tmp_path_factory):
    return report_fleet.build(str(tmp_path_factory.mktemp('fleet') / 'assets.db'))


@pytest.fixture(scope='module')
def postgresql_fleet(sqlite_fleet, request):
    """The same fleet in a PostgreSQL database (its password in PGPASSWORD, for the module's tests)."""
    server = request.getfixturevalue('postgresql_server')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('PGPASSWORD', PASSWORD)
        # One database per test module and process: two modules' fixtures never share one.
        url = server.database('report_fleet_%s_%d' % (request.module.__name__.rsplit('.', 1)[-1], os.getpid()))
        copy_database(sqlite_fleet, url)
        yield url


@pytest.fixture(scope='module', params=['sqlite', 'postgresql'])
def fleet_db(request):
    return request.getfixturevalue('%s_fleet' % request.param)

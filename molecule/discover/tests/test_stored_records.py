"""The asset database the converge step wrote holds each host's real state."""

import json
import os
import sqlite3

import pytest


def _database():
    directory = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if not directory:
        pytest.fail("MOLECULE_EPHEMERAL_DIRECTORY is not set: run this through `molecule verify`")
    return os.path.join(directory, "assets.db")


def _stored_record(name):
    with sqlite3.connect(_database()) as connection:
        row = connection.execute("SELECT record FROM hosts WHERE name = ?", (name,)).fetchone()
    assert row is not None, "%s is not in the asset database" % name
    return json.loads(row[0])


def _history_kinds(name):
    with sqlite3.connect(_database()) as connection:
        return [kind for (kind,) in connection.execute("SELECT kind FROM history WHERE host = ? ORDER BY id", (name,))]


def test_stored_packages_are_the_installed_ones(host):
    record = _stored_record(host.backend.name)
    installed = host.check_output("dpkg-query -W -f '${Package}=${Version}\\n'").splitlines()
    assert sorted("%s=%s" % (p["name"], p["version"]) for p in record["packages"]) == sorted(installed)


def test_stored_updates_are_flagged_security_or_not(host):
    updates = {u["name"]: u for u in _stored_record(host.backend.name)["updates"]}
    assert updates["pw-demo-security"]["security"] is True
    assert updates["pw-demo-security"]["available"] == "1.0-2"
    assert updates["pw-demo-normal"]["security"] is False
    assert updates["pw-demo-normal"]["available"] == "1.1-1"


def test_stored_restart_needs(host):
    restart = _stored_record(host.backend.name)["restart"]
    assert "pw-demod.service" in restart["services"]
    process = next(p for p in restart["processes"] if p["unit"] == "pw-demod.service")
    assert "/usr/lib/pw-libdemo/libpwdemo.so.1" in process["libraries"]


def test_history_starts_with_first_seen(host):
    assert _history_kinds(host.backend.name)[0] == "first_seen"


def _findings(name):
    with sqlite3.connect(_database()) as connection:
        return {(finding_id, package): status for finding_id, package, status in
                connection.execute("SELECT finding_id, package, status FROM findings WHERE host = ?", (name,))}


def test_fixture_advisory_matched_by_source_package(host):
    findings = _findings(host.backend.name)
    codename = host.system_info.codename
    if codename == "trixie":
        # The tracker says trixie was never affected (fixed_version 0): only the distribution's security update counts.
        assert ("CVE-2099-0001", "pw-demo-security") not in findings
        assert findings[("security-update:pw-demo-security", "pw-demo-security")] == "open"
    else:
        assert findings[("CVE-2099-0001", "pw-demo-security")] == "open"


def test_stored_plan_lists_exactly_the_security_packages(host):
    with sqlite3.connect(_database()) as connection:
        plan = json.loads(connection.execute("SELECT plan FROM plans WHERE host = ?", (host.backend.name,)).fetchone()[0])
    assert sorted(p["name"] for p in plan["system"]["packages"]) == ["pw-demo-held", "pw-demo-security", "pw-failing"]
    assert plan["applications"] == []

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The staleness gate: build age, each feed's own age per type, and dates in the future."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_freshness import check_advisory_age, stale_reasons
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import PolicyError, load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.risk import RiskError

NOW = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.timezone.utc)


def _database(built_at='2026-12-05T11:00:00Z', **dates):
    feeds = [{'type': kind, 'src': '/feeds/%s' % kind, 'data_date': date, 'date_source': 'test'} for kind, date in dates.items()]
    return SimpleNamespace(path='/state/advisories.db', built_at=built_at, feeds=feeds)


def test_fresh_database_and_feeds_pass():
    database = _database(kev='2026-11-30T10:00:00Z', epss='2026-12-05T00:00:00Z', osv='2026-12-01T00:00:00Z', debian='2026-12-05T11:00:00Z')
    assert stale_reasons(database, load_policy(), NOW) == []
    assert check_advisory_age(database, load_policy(), NOW, allow_stale=False) is None


@pytest.mark.parametrize(('kind', 'date', 'limit'), [
    ('epss', '2026-11-05T00:00:00Z', 72), ('kev', '2026-11-05T00:00:00Z', 336), ('osv', '2026-11-20T00:00:00Z', 168),
    ('debian', '2026-12-01T00:00:00Z', 72), ('cve5', '2026-11-01T00:00:00Z', 336),
])
def test_each_feed_type_has_its_own_limit(kind, date, limit):
    database = _database(**{kind: date})
    with pytest.raises(RiskError) as caught:
        check_advisory_age(database, load_policy(), NOW, allow_stale=False)
    assert 'the policy allows %d hours (max_feed_age_hours.%s)' % (limit, kind) in str(caught.value)
    assert '%s feed /feeds/%s is dated %s' % (kind, kind, date) in str(caught.value)
    note = check_advisory_age(database, load_policy(), NOW, allow_stale=True)
    assert note.endswith('assessed anyway (allow_stale_advisories)')
    relaxed = load_policy({'max_feed_age_hours': {kind: 24 * 60}})
    assert check_advisory_age(database, relaxed, NOW, allow_stale=False) is None


def test_an_old_build_and_an_old_feed_are_both_named():
    reasons = stale_reasons(_database('2026-12-01T00:00:00Z', epss='2026-11-01T00:00:00Z'), load_policy(), NOW)
    assert len(reasons) == 2 and 'max_advisory_age_hours' in reasons[0] and 'max_feed_age_hours.epss' in reasons[1]


@pytest.mark.parametrize(('database', 'named'), [
    (_database('2026-12-05T12:10:00Z'), 'says it was built at 2026-12-05T12:10:00Z, 0.2 hours after now'),
    (_database(kev='2026-12-07T00:00:00Z'), 'kev feed /feeds/kev is dated 2026-12-07T00:00:00Z (test), in the future'),
    (_database('not a time'), 'the build time in its meta table is unreadable'),
    (_database(None), 'records no build time'),
    (_database(epss='tomorrow'), 'epss feed /feeds/epss: the recorded feed date is unreadable'),
])
def test_future_and_unreadable_dates_are_refused_even_when_staleness_is_allowed(database, named):
    with pytest.raises(RiskError) as caught:
        check_advisory_age(database, load_policy(), NOW, allow_stale=True)
    assert named in str(caught.value)


def test_small_clock_differences_are_tolerated():
    assert stale_reasons(_database('2026-12-05T12:04:00Z', epss='2026-12-05T23:00:00Z'), load_policy(), NOW) == []


@pytest.mark.parametrize(('value', 'named'), [
    ({'max_feed_age_hours': {'kve': 10}}, 'max_feed_age_hours.kve: unknown key'),
    ({'max_feed_age_hours': {'kev': 0}}, 'max_feed_age_hours.kev: must be a whole number of hours >= 1'),
    ({'max_feed_age_hours': {'kev': '2w'}}, 'max_feed_age_hours.kev: must be a whole number of hours >= 1'),
    ({'max_feed_age_hours': [72]}, 'max_feed_age_hours: must be a mapping'),
])
def test_feed_age_policy_is_validated(value, named):
    with pytest.raises(PolicyError) as caught:
        load_policy(value)
    assert named in str(caught.value)

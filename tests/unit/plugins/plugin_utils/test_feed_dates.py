# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each feed's own date: parsed from the feed, kept by the build, refused when malformed."""

from __future__ import annotations

import datetime
import json
import os
import shutil

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.advisories import FeedError
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import AdvisoryDB, build
from ansible_collections.patchwise.patching.plugins.plugin_utils.feed_dates import fetched_time, format_time, parse_feed_time
from ansible_collections.patchwise.patching.plugins.plugin_utils.feed_files import read_feed

FEEDS = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
KEV_SNAPSHOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'playbooks', 'files', 'feeds', 'cisa_kev_2025-08-25.json')
UTC = datetime.timezone.utc


@pytest.mark.parametrize(('text', 'expected'), [
    ('2025-08-25T14:00:56.6218Z', datetime.datetime(2025, 8, 25, 14, 0, 56, tzinfo=UTC)),      # KEV dateReleased
    ('2026-11-01T12:55:00+0000', datetime.datetime(2026, 11, 1, 12, 55, tzinfo=UTC)),           # EPSS score_date
    ('2026-11-01T14:55:00+02:00', datetime.datetime(2026, 11, 1, 12, 55, tzinfo=UTC)),
    ('2026-11-20T00:00:00Z', datetime.datetime(2026, 11, 20, tzinfo=UTC)),                      # OSV modified
    ('2026-11-20', datetime.datetime(2026, 11, 20, tzinfo=UTC)),
    ('2026-11-20 08:30', datetime.datetime(2026, 11, 20, 8, 30, tzinfo=UTC)),
])
def test_feed_times_are_read_as_utc(text, expected):
    assert parse_feed_time(text) == expected


@pytest.mark.parametrize('text', ['', 'yesterday', '2026-13-01', '2026-02-30T00:00:00Z', '20261101', 1730000000, None, '2026-11-01T25:00:00Z'])
def test_malformed_feed_times_are_refused(text):
    with pytest.raises(ValueError):
        parse_feed_time(text)


def _kev(tmp_path, released):
    with open(KEV_SNAPSHOT, encoding='utf-8') as handle:
        catalog = json.load(handle)
    if released is None:
        del catalog['dateReleased']
    else:
        catalog['dateReleased'] = released
    path = tmp_path / 'kev.json'
    path.write_text(json.dumps(catalog), encoding='utf-8')
    return str(path)


def test_each_feed_type_is_dated_by_its_own_data(tmp_path):
    tracker = tmp_path / 'tracker.json'
    shutil.copyfile(os.path.join(FEEDS, 'debian-tracker.json'), tracker)
    os.utime(tracker, (1764000000, 1764000000))
    feeds = [{'type': 'kev', 'src': _kev(tmp_path, '2025-08-25T14:00:56.6218Z')},
             {'type': 'epss', 'src': os.path.join(FEEDS, 'epss.csv')},
             {'type': 'osv', 'src': os.path.join(FEEDS, 'osv')},
             {'type': 'debian', 'src': str(tracker)}]
    result = build(str(tmp_path / 'adv.db'), feeds)
    dates = {feed['type']: (feed['data_date'], feed['date_source']) for feed in result['feeds']}
    assert dates['kev'] == ('2025-08-25T14:00:56Z', 'dateReleased')
    assert dates['epss'] == ('2026-11-01T12:55:00Z', 'score_date')
    # The newest "modified" of the tree's records: PW-2099-0001.json says 2099-01-12, pypi/PW-2099-0002.yaml 2099-02-01.
    assert dates['osv'] == ('2099-02-01T00:00:00Z', 'newest modified')
    assert dates['debian'] == ('2025-11-24T16:00:00Z', 'fetched')
    database = AdvisoryDB(str(tmp_path / 'adv.db'))
    try:
        assert [feed['data_date'] for feed in database.feeds] == [result['feeds'][n]['data_date'] for n in range(4)]
    finally:
        database.close()


def test_a_kev_catalog_without_its_date_is_dated_by_its_fetch(tmp_path):
    path = _kev(tmp_path, None)
    os.utime(path, (1764000000, 1764000000))
    _kind, _catalog, stats = read_feed('kev', path)
    assert (format_time(stats['data_date']), stats['date_source']) == ('2025-11-24T16:00:00Z', 'fetched')
    assert fetched_time(path) == stats['data_date']


@pytest.mark.parametrize(('feed_type', 'make', 'named'), [
    ('kev', lambda tmp: _kev(tmp, 'last tuesday'), '"dateReleased": \'last tuesday\' is not an ISO 8601 date'),
    ('kev', lambda tmp: _kev(tmp, '2025-02-30T00:00:00Z'), '"dateReleased": \'2025-02-30T00:00:00Z\' is not a valid date'),
    ('epss', lambda tmp: _write(tmp / 'e.csv', '#model_version:v1,score_date:soon\ncve,epss,percentile\nCVE-2099-0001,0.1,0.2\n'),
     '"score_date": \'soon\' is not an ISO 8601 date'),
    ('osv', lambda tmp: _write(tmp / 'PW-1.json', json.dumps({'id': 'PW-1', 'modified': 'recently', 'affected': []})),
     'record PW-1: "modified": \'recently\' is not an ISO 8601 date'),
])
def test_a_malformed_feed_date_names_the_feed_and_field(tmp_path, feed_type, make, named):
    path = make(tmp_path)
    with pytest.raises(FeedError) as caught:
        _kind, payload, _stats = read_feed(feed_type, path)
        list(payload) if feed_type == 'osv' else None
    assert named in str(caught.value) and os.path.basename(path) in str(caught.value)


def _write(path, text):
    path.write_text(text, encoding='utf-8')
    return str(path)

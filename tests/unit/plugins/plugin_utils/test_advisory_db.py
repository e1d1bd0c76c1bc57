"""Building the advisory database and matching against it."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zipfile

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils.advisories import range_affects
from ansible_collections.patchwise.patching.plugins.module_utils.versions import version_key
from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import SCHEMA, AdvisoryDB, AdvisoryDBError, build

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
KEV_SNAPSHOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'playbooks', 'files', 'feeds', 'cisa_kev_2025-08-25.json')


def _feeds():
    return [
        {'type': 'osv', 'src': os.path.join(FIXTURES, 'osv')},
        {'type': 'debian', 'src': os.path.join(FIXTURES, 'debian-tracker.json')},
        {'type': 'kev', 'src': KEV_SNAPSHOT},
        {'type': 'epss', 'src': os.path.join(FIXTURES, 'epss.csv')},
    ]


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / 'advisories.db')


def test_build_counts_and_schema(db_path):
    result = build(db_path, _feeds())
    assert result['changed'] is True
    assert result['schema'] == SCHEMA
    # PW-2099-0001 and PW-2099-0002 (OSV), CVE-2099-0001, -0003 and -0004 (Debian tracker)
    assert result['advisories'] == 5
    by_type = {feed['type']: feed for feed in result['feeds']}
    assert by_type['osv']['records'] == 2
    assert by_type['osv']['skipped_git_ranges'] == 1
    assert by_type['kev']['records'] == 1404
    assert by_type['epss']['records'] == 3
    assert result['ecosystems']['Debian:12'] == 4
    assert result['ecosystems']['PyPI'] == 1


def test_unchanged_inputs_do_not_rebuild(db_path):
    build(db_path, _feeds())
    mtime = os.stat(db_path).st_mtime_ns
    again = build(db_path, _feeds())
    assert again['changed'] is False
    assert again['advisories'] == 5
    assert os.stat(db_path).st_mtime_ns == mtime


def test_check_mode_writes_nothing(db_path):
    result = build(db_path, _feeds(), check_mode=True)
    assert result['changed'] is True
    assert not os.path.exists(db_path)
    build(db_path, _feeds())
    assert build(db_path, _feeds(), check_mode=True)['changed'] is False


def test_broken_feed_leaves_previous_database_intact(db_path, tmp_path):
    build(db_path, _feeds())
    with open(db_path, 'rb') as handle:
        before = handle.read()
    broken = tmp_path / 'broken.json'
    broken.write_text('{"id": "X", "modified": ', encoding='utf-8')
    with pytest.raises(AdvisoryDBError, match=r'broken.json: not valid JSON'):
        build(db_path, [{'type': 'osv', 'src': str(broken)}])
    with open(db_path, 'rb') as handle:
        assert handle.read() == before
    assert sorted(os.listdir(tmp_path)) == ['advisories.db', 'broken.json']   # no temporary files left


def test_lenient_skips_and_reports(db_path, tmp_path):
    osv_dir = tmp_path / 'osv'
    shutil.copytree(os.path.join(FIXTURES, 'osv'), osv_dir)
    (osv_dir / 'bad.json').write_text('{"id": "BAD-1"}', encoding='utf-8')
    with pytest.raises(AdvisoryDBError, match='BAD-1: required field "modified"'):
        build(db_path, [{'type': 'osv', 'src': str(osv_dir)}])
    result = build(db_path, [{'type': 'osv', 'src': str(osv_dir)}], lenient=True)
    assert result['feeds'][0]['records'] == 2
    assert result['feeds'][0]['skipped'] == 1
    assert 'BAD-1' in result['feeds'][0]['errors'][0]


def _osv_feed(directory, events_by_id):
    """An OSV directory: one record per id, pw-range-demo in Debian:12 with the given range events."""
    directory.mkdir()
    for record_id, events in events_by_id.items():
        record = {'id': record_id, 'modified': '2099-01-01T00:00:00Z', 'affected': [{
            'package': {'ecosystem': 'Debian:12', 'name': 'pw-range-demo'},
            'ranges': [{'type': 'ECOSYSTEM', 'events': events}]}]}
        (directory / ('%s.json' % record_id)).write_text(json.dumps(record), encoding='utf-8')
    return directory


def test_an_event_with_two_kinds_fails_the_build_naming_feed_record_and_event(db_path, tmp_path):
    osv_dir = _osv_feed(tmp_path / 'osv', {'TWO-KINDS-1': [{'introduced': '0', 'fixed': '1.0-2'}]})
    with pytest.raises(AdvisoryDBError) as excinfo:
        build(db_path, [{'type': 'osv', 'src': str(osv_dir)}])
    assert str(excinfo.value) == (
        'osv feed %s: %s: record TWO-KINDS-1: affected[0].ranges[0].events[0]: an event must have exactly one of '
        'introduced, fixed, last_affected, limit; got fixed, introduced' % (osv_dir, osv_dir / 'TWO-KINDS-1.json'))
    assert not os.path.exists(db_path)


def test_lenient_skips_an_event_with_two_kinds_and_sql_keeps_the_fixed_version_unaffected(db_path, tmp_path):
    osv_dir = _osv_feed(tmp_path / 'osv', {'TWO-KINDS-1': [{'introduced': '0', 'fixed': '1.0-2'}],
                                           'ONE-KIND-1': [{'introduced': '0'}, {'fixed': '1.0-2'}]})
    result = build(db_path, [{'type': 'osv', 'src': str(osv_dir)}], lenient=True)
    feed = result['feeds'][0]
    assert (feed['records'], feed['skipped']) == (1, 1)
    assert 'record TWO-KINDS-1: affected[0].ranges[0].events[0]' in feed['errors'][0]
    # The well-formed record is a single interval: SQL alone decides it (simple = 1).
    with sqlite3.connect(db_path) as connection:
        assert connection.execute('SELECT advisory_id, simple FROM affected').fetchall() == [('ONE-KIND-1', 1)]
    matches = AdvisoryDB(db_path).match('Debian:12', [('pw-range-demo', '1.0-1'), ('pw-range-demo', '1.0-2')])
    assert [m['id'] for m in matches[('pw-range-demo', '1.0-1')]] == ['ONE-KIND-1']
    assert matches[('pw-range-demo', '1.0-2')] == []


def test_lenient_skips_only_the_bad_record_of_a_list_document(db_path, tmp_path):
    good = {'id': 'LISTED-1', 'modified': '2099-01-01T00:00:00Z', 'affected': [{
        'package': {'ecosystem': 'Debian:12', 'name': 'pw-range-demo'},
        'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}, {'fixed': '1.0-2'}]}]}]}
    bad = dict(good, id='LISTED-2', affected=[dict(good['affected'][0], ranges=[
        {'type': 'ECOSYSTEM', 'events': [{'introduced': '0', 'last_affected': '1.0-2'}]}])])
    listing = tmp_path / 'records.json'
    listing.write_text(json.dumps([bad, good]), encoding='utf-8')
    result = build(db_path, [{'type': 'osv', 'src': str(listing)}], lenient=True)
    feed = result['feeds'][0]
    assert (feed['records'], feed['skipped'], result['advisories']) == (1, 1, 1)
    assert feed['errors'] == ['%s: record LISTED-2: affected[0].ranges[0].events[0]: an event must have exactly one of '
                              'introduced, fixed, last_affected, limit; got introduced, last_affected' % listing]


def test_empty_feed_is_refused(db_path, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(AdvisoryDBError, match='no records found'):
        build(db_path, [{'type': 'osv', 'src': str(empty)}])


def test_zip_of_osv_records(db_path, tmp_path):
    archive = tmp_path / 'all.zip'
    with zipfile.ZipFile(archive, 'w') as out:
        out.write(os.path.join(FIXTURES, 'osv', 'PW-2099-0001.json'), 'PW-2099-0001.json')
    assert build(db_path, [{'type': 'osv', 'src': str(archive)}])['feeds'][0]['records'] == 1


def test_checksum_mismatch_is_refused(db_path):
    feed = {'type': 'epss', 'src': os.path.join(FIXTURES, 'epss.csv'), 'sha256': '0' * 64}
    with pytest.raises(AdvisoryDBError, match='SHA-256 mismatch'):
        build(db_path, [feed])


def test_download_by_url_is_verified(db_path):
    path = os.path.join(FIXTURES, 'epss.csv')
    import hashlib
    with open(path, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    result = build(db_path, [{'type': 'epss', 'src': 'file://' + os.path.abspath(path), 'sha256': digest}])
    assert result['feeds'][0]['records'] == 3


def test_plain_http_only_on_loopback(db_path):
    with pytest.raises(AdvisoryDBError, match=r'plain http:// is refused except on loopback'):
        build(db_path, [{'type': 'epss', 'src': 'http://feeds.example.org/epss.csv'}])
    assert not os.path.exists(db_path)


def test_download_from_loopback_http_server_checks_sha256(db_path):
    import functools
    import hashlib
    import http.server
    import threading
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=FIXTURES)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = 'http://127.0.0.1:%d/epss.csv' % server.server_address[1]
        with open(os.path.join(FIXTURES, 'epss.csv'), 'rb') as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        with pytest.raises(AdvisoryDBError, match='SHA-256 mismatch'):
            build(db_path, [{'type': 'epss', 'src': url, 'sha256': '0' * 64}])
        assert not os.path.exists(db_path)
        result = build(db_path, [{'type': 'epss', 'src': url, 'sha256': digest}])
        assert result['feeds'][0]['records'] == 3
    finally:
        server.shutdown()
        server.server_close()


def test_missing_file_and_corrupt_database(db_path, tmp_path):
    with pytest.raises(AdvisoryDBError, match='no such file'):
        build(db_path, [{'type': 'kev', 'src': str(tmp_path / 'nope.json')}])
    corrupt = tmp_path / 'corrupt.db'
    corrupt.write_bytes(b'not a database at all' * 100)
    with pytest.raises(AdvisoryDBError, match=r'corrupt.db: not a patchwise advisory database'):
        AdvisoryDB(str(corrupt))
    with pytest.raises(AdvisoryDBError, match='no advisory database'):
        AdvisoryDB(str(tmp_path / 'missing.db'))


def test_old_schema_is_refused(db_path):
    build(db_path, _feeds())
    connection = sqlite3.connect(db_path)
    connection.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    connection.commit()
    connection.close()
    with pytest.raises(AdvisoryDBError, match='schema 0'):
        AdvisoryDB(db_path)


def test_match_with_enrichment(db_path):
    build(db_path, _feeds())
    db = AdvisoryDB(db_path)
    packages = [('pw-demo-security', '1.0-1'), ('pw-demo-security', '1.0-2'), ('pw-libdemo', '1.0-1'),
                ('pw-failing', '1.0-1'), ('bash', '5.2.15-2+b2')]
    matches = db.match('Debian:12', packages)
    assert sorted(m['id'] for m in matches[('pw-demo-security', '1.0-1')]) == ['CVE-2099-0001', 'PW-2099-0001']
    osv_match = next(m for m in matches[('pw-demo-security', '1.0-1')] if m['id'] == 'PW-2099-0001')
    assert osv_match['fixed'] == ['1.0-2']
    assert osv_match['cvss']['score'] == 9.8
    assert osv_match['epss'] == {'cve': 'CVE-2099-0001', 'score': 0.93021, 'percentile': 0.99812}
    assert osv_match['kev'] is None
    assert matches[('pw-demo-security', '1.0-2')] == []
    unimportant = matches[('pw-libdemo', '1.0-1')][0]
    assert (unimportant['status'], unimportant['urgency'], unimportant['fixed']) == ('open', 'unimportant', [])
    assert matches[('pw-failing', '1.0-1')][0]['status'] == 'no-dsa'
    assert matches[('bash', '5.2.15-2+b2')] == []
    # Trixie was never affected (fixed_version 0).
    assert db.match('Debian:13', [('pw-demo-security', '1.0-1')])[('pw-demo-security', '1.0-1')] == []


def test_match_pypi_with_kev(db_path):
    build(db_path, _feeds())
    db = AdvisoryDB(db_path)
    matches = db.match('PyPI', [('pw-demo-lib', '1.4.1'), ('pw-demo-lib', '1.4.2'), ('pw-demo-lib', '2.1'), ('pw-demo-lib', '0.9.post1')])
    hit = matches[('pw-demo-lib', '1.4.1')][0]
    assert hit['kev'] == {'cve': 'CVE-2021-44228', 'added': '2021-12-10', 'due': '2021-12-24', 'ransomware': 'Known'}
    assert hit['cvss']['score'] == 10.0
    assert matches[('pw-demo-lib', '1.4.2')] == []
    assert len(matches[('pw-demo-lib', '2.1')]) == 1           # last_affected
    assert len(matches[('pw-demo-lib', '0.9.post1')]) == 1     # versions list


def test_match_is_memoised(db_path):
    build(db_path, _feeds())
    db = AdvisoryDB(db_path)
    first = db.match('Debian:12', [('pw-demo-security', '1.0-1')])
    db._connection.close()   # a second lookup of the same version must not touch the database
    assert db.match('Debian:12', [('pw-demo-security', '1.0-1')]) == first


def test_the_covering_ecosystems_come_from_the_build_summary_and_an_older_summary_falls_back_to_the_table(db_path):
    build(db_path, _feeds())
    db = AdvisoryDB(db_path)
    stored = sorted(row[0] for row in db._connection.execute('SELECT DISTINCT ecosystem FROM affected'))
    assert db._stored_ecosystems == stored      # no scan of the affected table per AdvisoryDB
    packages = [('pw-demo-security', '1.0-1'), ('pw-libdemo', '1.0-1'), ('pw-failing', '1.0-1')]
    expected = {ecosystem: db.match(ecosystem, packages) for ecosystem in ('Debian:12', 'Debian:13', 'Debian:11')}
    db.close()
    with sqlite3.connect(db_path) as connection:
        summary = json.loads(connection.execute("SELECT value FROM meta WHERE key = 'summary'").fetchone()[0])
        del summary['ecosystems']
        connection.execute("UPDATE meta SET value = ? WHERE key = 'summary'", (json.dumps(summary),))
    older = AdvisoryDB(db_path)
    assert older._stored_ecosystems is None
    assert {ecosystem: older.match(ecosystem, packages) for ecosystem in expected} == expected
    assert older.covering_ecosystems('Debian:12') == [name for name in stored if name in ('Debian', 'Debian:12')]
    older.close()


def test_single_interval_ranges_are_decided_in_sql(tmp_path):
    osv = tmp_path / 'osv'
    osv.mkdir()
    (osv / 'a.json').write_text(
        '{"id": "T-1", "modified": "2099-01-01T00:00:00Z", "affected": ['
        '{"package": {"ecosystem": "Debian:12", "name": "p"}, "ranges": [{"type": "ECOSYSTEM", '
        '"events": [{"introduced": "1.0-1"}, {"last_affected": "1.0-3"}]}]},'
        '{"package": {"ecosystem": "Debian:12", "name": "q"}, "ranges": [{"type": "ECOSYSTEM", '
        '"events": [{"introduced": "0"}, {"fixed": "2:1.0"}, {"introduced": "3:0"}]}]}]}', encoding='utf-8')
    path = str(tmp_path / 'db.sqlite')
    build(path, [{'type': 'osv', 'src': str(osv)}])
    connection = sqlite3.connect(path)
    stored = {package: (simple, lo_key, upper_key) for package, simple, lo_key, upper_key in
              connection.execute('SELECT package, simple, lo_key, upper_key FROM affected')}
    # p: from 1.0-1 up to and including 1.0-3; q: two intervals, which Python decides, so its keys span every version.
    assert stored == {'p': (1, version_key('1.0-1', 'deb'), version_key('1.0-3', 'deb') + '\x01'), 'q': (0, '', chr(0x10FFFF))}
    connection.close()
    db = AdvisoryDB(path)
    versions = [('p', '1.0-0'), ('p', '1.0-1'), ('p', '1.0-3'), ('p', '1.0-3+b1'), ('q', '1:9'), ('q', '2:1.0'), ('q', '3:1')]
    matches = db.match('Debian:12', versions)
    assert [bool(matches[v]) for v in versions] == [False, True, True, False, True, False, True]


# Versions around each boundary: revisions, rebuilds, epochs, pre-releases and '~' that sort before.
_BOUNDARY_VERSIONS = {
    ('Debian:12', 'deb'): ['0.9-1', '1.0~rc1-1', '1.0-1', '1.0-1+b1', '1.0-2', '1.0-3', '1.0-3+b1', '1.0-3.1', '1.0.1-1', '1:0.1-1'],
    ('AlmaLinux:9', 'rpm'): ['0.9-1', '1.0~rc1-1', '1.0-1', '1.0-1.el9', '1.0-2', '1.0-2.el9_1', '1.0^post-1', '1.0.1-1', '1:0.5-1'],
    ('npm', 'semver'): ['0.9.0', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.2.0', '2.0.0-alpha', '2.0.0', '10.0.0'],
}


@pytest.mark.parametrize('ecosystem, scheme', sorted(_BOUNDARY_VERSIONS))
def test_the_keys_stored_for_sql_decide_as_the_osv_evaluation_does(tmp_path, ecosystem, scheme):
    versions = _BOUNDARY_VERSIONS[(ecosystem, scheme)]
    entries = {}
    for introduced in ['0', *versions[::2]]:
        for limit in versions:
            for kind in ('fixed', 'last_affected'):
                entries['T-%d' % len(entries)] = [{'introduced': introduced}, {kind: limit}]
        entries['T-%d' % len(entries)] = [{'introduced': introduced}]
    osv = tmp_path / 'osv'
    osv.mkdir()
    for record_id, events in entries.items():
        (osv / (record_id + '.json')).write_text(json.dumps({
            'id': record_id, 'modified': '2099-01-01T00:00:00Z',
            'affected': [{'package': {'ecosystem': ecosystem, 'name': 'p'}, 'ranges': [{'type': 'ECOSYSTEM', 'events': events}]}],
        }), encoding='utf-8')
    path = str(tmp_path / 'db.sqlite')
    build(path, [{'type': 'osv', 'src': str(osv)}])
    with sqlite3.connect(path) as connection:
        assert connection.execute('SELECT min(simple) FROM affected').fetchone() == (1,)     # every entry decided in SQL
    db = AdvisoryDB(path)
    matches = db.match(ecosystem, [('p', version) for version in versions])
    db.close()
    for version in versions:
        expected = sorted(record_id for record_id, events in entries.items() if range_affects(events, version, scheme))
        assert sorted(hit['id'] for hit in matches[('p', version)]) == expected, version


def test_cve5_records_enrich_matches(tmp_path):
    path = str(tmp_path / 'adv.db')
    result = build(path, [{'type': 'debian', 'src': os.path.join(FIXTURES, 'debian-tracker.json')},
                          {'type': 'cve5', 'src': os.path.join(FIXTURES, 'cve5')}])
    assert {feed['type']: feed['records'] for feed in result['feeds']}['cve5'] == 3
    db = AdvisoryDB(path)
    try:
        matched = db.match('Debian:12', [('pw-demo-security', '1.0-1'), ('pw-libdemo', '1.0-2')])
    finally:
        db.close()
    security, = matched[('pw-demo-security', '1.0-1')]
    assert security['cvss'] == {'vector': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'score': 9.8}
    assert security['vulnrichment'] == {'exploitation': 'active', 'automatable': 'yes', 'technical impact': 'total'}
    libdemo, = matched[('pw-libdemo', '1.0-2')]
    assert libdemo['cvss']['score'] == 2.5 and libdemo['vulnrichment'] is None


def test_a_missing_directory_is_created_owner_only_and_check_mode_creates_nothing(tmp_path):
    target = tmp_path / 'state' / 'patchwise' / 'advisories.db'
    result = build(str(target), [{'type': 'kev', 'src': KEV_SNAPSHOT}], check_mode=True)
    assert result['changed'] is True and not (tmp_path / 'state').exists()
    with pytest.raises(AdvisoryDBError, match='no such file'):
        build(str(target), [{'type': 'kev', 'src': str(tmp_path / 'nope.json')}], check_mode=True)
    build(str(target), [{'type': 'kev', 'src': KEV_SNAPSHOT}])
    assert target.exists() and (target.parent.stat().st_mode & 0o777) == 0o700

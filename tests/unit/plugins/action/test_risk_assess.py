"""The risk_assess action plugin, run through ansible-playbook on localhost."""

from __future__ import annotations

import datetime
import os
import shutil
import sqlite3

from ansible_collections.patchwise.patching.plugins.plugin_utils.advisory_db import build
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.tests.unit.plugins.action.localhost_play import run_task
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

FEEDS = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'feeds')
PACKAGES = [{'name': 'pw-demo-security', 'version': '1.0-1', 'arch': 'all', 'source_name': 'pw-demo-security', 'source_version': '1.0-1'},
            {'name': 'pw-libdemo', 'version': '1.0-2', 'arch': 'all', 'source_name': 'pw-libdemo', 'source_version': '1.0-2'}]
UPDATES = [{'name': 'pw-demo-security', 'current': '1.0-1', 'available': '1.0-2', 'security': True, 'origin': 'Debian-Security:bookworm-security'}]


def _fresh_feeds(tmp_path, epss_date=None):
    """The fixture feeds as just fetched: the tracker file written now, the EPSS scores dated now (or ``epss_date``)."""
    tracker = tmp_path / 'debian-tracker.json'
    shutil.copyfile(os.path.join(FEEDS, 'debian-tracker.json'), tracker)
    with open(os.path.join(FEEDS, 'epss.csv'), encoding='utf-8') as handle:
        lines = handle.read().split('\n')
    date = epss_date or datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S+0000')
    lines[0] = '#model_version:v2025.03.14,score_date:%s' % date
    epss = tmp_path / 'epss.csv'
    epss.write_text('\n'.join(lines), encoding='utf-8')
    return [{'type': 'debian', 'src': str(tracker)}, {'type': 'epss', 'src': str(epss)}]


def _setup(tmp_path, asset_db=None):
    build(str(tmp_path / 'adv.db'), _fresh_feeds(tmp_path))
    with AssetStore(asset_db or str(tmp_path / 'assets.db')) as store:
        store.store_records({'web01': record(packages=PACKAGES, updates=UPDATES), 'db01': record('db01', packages=PACKAGES[1:], updates=[])})
        store.replace_register({'web01': {'exposure': 'internet', 'criticality': 'high'}, 'db01': {'exposure': 'isolated'}}, 'test')


def _play(tmp_path, options='', check=False, asset_db=None):
    task = ('    - patchwise.patching.risk_assess:\n'
            '        asset_db: "%s"\n'
            '        advisory_db: "%s"\n'
            '        hosts: [web01, db01, ghost01]\n'
            '%s'
            '      register: outcome\n' % (asset_db or tmp_path / 'assets.db', tmp_path / 'adv.db', options))
    return run_task(tmp_path, task, check)


def test_assess_stores_results_plans_and_is_idempotent(tmp_path, asset_db):
    _setup(tmp_path, asset_db)
    process, result = _play(tmp_path, check=True, asset_db=asset_db)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True
    with AssetStore(asset_db, readonly=True) as store:
        assert store.findings() == [], 'check mode must not write'

    process, result = _play(tmp_path, asset_db=asset_db)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is True and result['missing'] == ['ghost01']
    assert result['config']['policy']['source'] == 'inline' and len(result['config']['policy']['sha256']) == 64
    assert result['config']['register']['source'] == 'asset database'
    assert 'ghost01' in ' '.join(result['warnings'])
    web = result['hosts']['web01']
    assert web['tier'] in ('critical', 'high') and web['plan']['packages'] == ['pw-demo-security']
    assert result['ranked'][0]['host'] == 'web01' and result['ranked'][0]['id'] == 'CVE-2099-0001'
    assert result['hosts']['db01']['counts']['open'] == 1        # CVE-2099-0003, no fix yet
    assert result['hosts']['db01']['plan']['mode'] == 'none'
    with AssetStore(asset_db, readonly=True) as store:
        assert {f['id'] for f in store.findings(host='web01')} == {'CVE-2099-0001', 'CVE-2099-0003'}
        assert store.plan('web01')['system']['packages'] == [{'name': 'pw-demo-security', 'target': '1.0-2', 'findings': ['CVE-2099-0001']}]
        assert store.hosts()[1]['tier'] == web['tier']

    process, result = _play(tmp_path, asset_db=asset_db)
    assert result['changed'] is False, result
    # Nothing changed: both hosts keep their assessment, and report the same.
    assert result['unchanged'] == 2 and result['hosts']['web01'] == web
    process, result = _play(tmp_path, options='        force: true\n', asset_db=asset_db)
    assert process.returncode == 0 and result['unchanged'] == 0 and result['changed'] is False, result
    assert result['hosts']['web01'] == web


def test_invalid_policy_names_the_key(tmp_path):
    _setup(tmp_path)
    process, _result = _play(tmp_path, '        policy: {epss_threshold: 3}\n')
    assert process.returncode != 0
    assert 'patchwise_policy.epss_threshold: must be a probability between 0 and 1' in process.stdout


def test_stale_advisory_database_is_refused_unless_allowed(tmp_path):
    _setup(tmp_path)
    with sqlite3.connect(str(tmp_path / 'adv.db')) as connection:
        connection.execute("UPDATE meta SET value = '2020-01-01T00:00:00Z' WHERE key = 'built_at'")
    process, _result = _play(tmp_path)
    assert process.returncode != 0
    assert 'adv.db: it was built 2020-01-01T00:00:00Z' in process.stdout and 'allow_stale_advisories' in process.stdout
    process, result = _play(tmp_path, '        allow_stale_advisories: true\n')
    assert process.returncode == 0, process.stdout
    assert 'assessed anyway' in result['advisory_db']['stale']


def _rebuild_with_epss_dated(tmp_path, epss_date):
    (tmp_path / 'adv.db').unlink()
    build(str(tmp_path / 'adv.db'), _fresh_feeds(tmp_path, epss_date))


def test_a_month_old_feed_in_a_new_database_is_stale(tmp_path):
    _setup(tmp_path)
    month_ago = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)).strftime('%Y-%m-%dT%H:%M:%S+0000')
    _rebuild_with_epss_dated(tmp_path, month_ago)
    before = (tmp_path / 'assets.db').read_bytes()
    process, _result = _play(tmp_path)
    assert process.returncode != 0
    assert 'epss feed %s is dated' % (tmp_path / 'epss.csv') in process.stdout
    assert '(score_date), 720 hours ago; the policy allows 72 hours (max_feed_age_hours.epss)' in process.stdout
    assert (tmp_path / 'assets.db').read_bytes() == before
    # A policy that allows older EPSS data assesses; the tracker (fetched now) is fresh either way.
    process, result = _play(tmp_path, '        policy: {max_feed_age_hours: {epss: 800}}\n')
    assert process.returncode == 0, process.stdout
    assert result['advisory_db']['stale'] is None


def test_dates_in_the_future_are_refused_even_when_staleness_is_allowed(tmp_path):
    _setup(tmp_path)
    with sqlite3.connect(str(tmp_path / 'adv.db')) as connection:
        connection.execute("UPDATE meta SET value = '2099-01-01T00:00:00Z' WHERE key = 'built_at'")
    process, _result = _play(tmp_path, '        allow_stale_advisories: true\n')
    assert process.returncode != 0
    assert 'adv.db says it was built at 2099-01-01T00:00:00Z' in process.stdout and 'clock' in process.stdout
    _rebuild_with_epss_dated(tmp_path, '2099-02-01T12:55:00+0000')
    process, _result = _play(tmp_path, '        allow_stale_advisories: true\n')
    assert process.returncode != 0
    assert 'is dated 2099-02-01T12:55:00Z (score_date), in the future' in process.stdout


def test_missing_advisory_database_and_corrupt_asset_database(tmp_path):
    _setup(tmp_path)
    (tmp_path / 'adv.db').unlink()
    process, _result = _play(tmp_path)
    assert 'adv.db: no advisory database' in process.stdout
    _setup(tmp_path)
    (tmp_path / 'assets.db').write_bytes(b'garbage' * 500)
    process, _result = _play(tmp_path)
    assert process.returncode != 0 and 'assets.db: not a usable asset database' in process.stdout


def test_old_record_schema_is_reported_as_skipped(tmp_path):
    _setup(tmp_path)
    with sqlite3.connect(str(tmp_path / 'assets.db')) as connection:
        connection.execute("UPDATE hosts SET record = json_set(record, '$.schema', 0) WHERE name = 'db01'")
    process, result = _play(tmp_path)
    assert process.returncode == 0, process.stdout
    assert 'asset record schema 0' in result['skipped']['db01'][0]
    assert 'db01' not in result['hosts']


def test_a_mistyped_asset_database_fails_and_creates_nothing(tmp_path):
    _setup(tmp_path)
    (tmp_path / 'assets.db').rename(tmp_path / 'assets.db.real')
    process, _result = _play(tmp_path)
    assert process.returncode != 0 and 'assets.db: the asset database does not exist' in process.stdout + process.stderr
    assert not (tmp_path / 'assets.db').exists()


def test_check_mode_on_a_fresh_controller_assesses_nothing_and_creates_nothing(tmp_path):
    process, result = _play(tmp_path, check=True)
    assert process.returncode == 0, process.stdout + process.stderr
    assert result['changed'] is False and result['hosts'] == {} and 'does not exist yet' in result['msg']
    assert sorted(path.name for path in tmp_path.iterdir()) == ['play.yml']


def test_swapped_database_paths_are_named_and_nothing_changes(tmp_path):
    _setup(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in ('assets.db', 'adv.db')}
    task = ('    - patchwise.patching.risk_assess:\n'
            '        asset_db: "%s"\n'
            '        advisory_db: "%s"\n'
            '      register: outcome\n' % (tmp_path / 'adv.db', tmp_path / 'assets.db'))
    process, _result = run_task(tmp_path, task)
    output = process.stdout + process.stderr
    flat = ' '.join(output.split())
    assert process.returncode != 0 and 'asset_db and advisory_db look swapped' in flat
    assert 'adv.db is an advisory database and advisory_db' in flat and 'assets.db is an asset database' in flat
    assert {name: (tmp_path / name).read_bytes() for name in ('assets.db', 'adv.db')} == before

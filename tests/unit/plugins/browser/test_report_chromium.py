"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``) driven over the DevTools protocol.

The protocol runs over ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated JSON), so no
WebSocket client is needed.  The page must load without console errors or exceptions, draw its charts
(SVG element counts), and sort and page the host table; a screenshot goes to tests/output/report.png for
a person to look at.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.asset_store import AssetStore
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import collect
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_html import PAGE_SIZE, write_html
from ansible_collections.patchwise.patching.tests.unit.loopback import start_server, stop_server
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils import report_fleet
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils.asset_records import record

COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
OUTPUT = os.path.join(COLLECTION, 'tests', 'output', 'report.png')
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
EXTRA_HOSTS = 130


class DevTools:
    """One headless Chromium and its DevTools session over a pipe."""

    def __init__(self, profile):
        # The browser reads commands on its fd 3 and writes answers on its fd 4; bash puts the pipe ends there
        # (moved above 10 first, so the redirections cannot overwrite each other).
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_read, from_browser_write)]
        for fd in (to_browser_read, from_browser_write):
            os.close(fd)
        # Its own process group with a parent-death signal (loopback.start_server): under ansible-test a module
        # fixture is never torn down, and the browser must not outlive the test process.
        self.process = start_server(
            [shutil.which('bash'), '-c', 'exec "$@" 3<&%d 4>&%d' % tuple(ends), 'bash', CHROMIUM, '--headless=new', '--no-sandbox',
             '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions', '--user-data-dir=%s' % profile,
             '--remote-debugging-pipe', '--window-size=1400,1000'],
            pass_fds=ends, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in ends:
            os.close(fd)
        self._reader = os.fdopen(self._from_browser, 'rb', buffering=0)
        self._buffer = b''
        self._next_id = 0
        self.events = []
        self.session = None

    def close(self):
        stop_server(self.process)
        os.close(self._to_browser)
        self._reader.close()

    def _message(self, deadline):
        while b'\0' not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError('no answer from Chromium')
            chunk = self._reader.read(65536)
            if not chunk:
                raise RuntimeError('Chromium closed the DevTools pipe')
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b'\0', 1)
        return json.loads(message)

    def send(self, method, params=None, session=True, timeout=30):
        self._next_id += 1
        command = {'id': self._next_id, 'method': method, 'params': params or {}}
        if session and self.session:
            command['sessionId'] = self.session
        os.write(self._to_browser, json.dumps(command).encode() + b'\0')
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(deadline)
            if message.get('id') == self._next_id:
                if 'error' in message:
                    raise RuntimeError('%s: %s' % (method, message['error']))
                return message.get('result', {})
            self.events.append(message)

    def wait_for(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get('method') == method:
                return event
        while True:
            message = self._message(deadline)
            self.events.append(message)
            if message.get('method') == method:
                return message

    def evaluate(self, expression):
        answer = self.send('Runtime.evaluate', {'expression': expression, 'returnByValue': True, 'awaitPromise': True})
        if 'exceptionDetails' in answer:
            raise AssertionError('page script failed: %s' % answer['exceptionDetails'])
        return answer['result'].get('value')


def _bigger_fleet(path):
    """The report_fleet hosts plus EXTRA_HOSTS more, so the host table has several pages."""
    report_fleet.build(path)
    names = ['node%03d' % number for number in range(EXTRA_HOSTS)]
    with AssetStore(path) as store:
        store.store_records({name: record(name, collected_at=report_fleet.T2) for name in names}, run_id='run-2', now=report_fleet.T2)
        placed = {name: {'environment': ('production', 'staging')[number % 2], 'patch_group': 'group-%d' % (number % 5)}
                  for number, name in enumerate(names)}
        store.replace_register(dict(report_fleet.REGISTER, **placed), 'fixture', now=report_fleet.T2)
        results = {}
        for number, name in enumerate(names):
            findings = [{'id': 'CVE-2099-%04d' % (100 + (number + step) % 40), 'package': 'pkg%d' % ((number + step) % 40), 'kind': 'os',
                         'tier': ('critical', 'high', 'medium', 'low')[(number + step) % 4], 'due_class': ('3D', '14D', '60D', 'FSU')[step % 4],
                         'due': '2026-11-%02d' % (1 + (number * 7 + step) % 28), 'status': 'open', 'kev': None, 'reasons': []}
                        for step in range(number % 9)]
            counts = {tier: sum(1 for f in findings if f['tier'] == tier) for tier in ('critical', 'high', 'medium', 'low')}
            results[name] = {'tier': next((tier for tier, count in counts.items() if count), 'none'),
                             'due': min((f['due'] for f in findings), default=None), 'counts': dict(counts, open=len(findings)),
                             'findings': findings}
        store.store_risk_results(results, run_id='run-2', now=report_fleet.T2)
    return path


@pytest.fixture
def report_page():
    # One browser per test, torn down inside the test: ansible-test runs each test in a fork that never tears a
    # module fixture down, and a browser's helper processes left writing into a profile below pytest's base
    # temporary directory break the next test's set-up. The work directory is not below it either.
    if CHROMIUM is None:
        pytest.fail('Debian package chromium is not installed (tests/requirements/debian-packages.txt)')
    work = pathlib.Path(tempfile.mkdtemp(prefix='patchwise-browser-'))
    try:
        yield from _open_report(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _open_report(work):
    path = _bigger_fleet(str(work / 'assets.db'))
    with collect(path, now=report_fleet.NOW, policy=load_policy(report_fleet.POLICY)) as report:
        page = work / 'patch-report.html'
        with open(page, 'w', encoding='utf-8') as handle:
            write_html(report, handle)
        hosts = len(report.document['hosts'])
    browser = DevTools(str(work / 'profile'))
    try:
        target = browser.send('Target.createTarget', {'url': 'about:blank'}, session=False)
        browser.session = browser.send('Target.attachToTarget', {'targetId': target['targetId'], 'flatten': True}, session=False)['sessionId']
        for domain in ('Page', 'Runtime', 'Log'):
            browser.send(domain + '.enable')
        browser.send('Page.navigate', {'url': page.as_uri()})
        browser.wait_for('Page.loadEventFired')
        yield browser, hosts
    finally:
        browser.close()


def _column(browser, index):
    return browser.evaluate("Array.from(document.querySelectorAll('#hosts tbody tr')).map(r => r.cells[%d].textContent)" % index)


def test_no_console_errors(report_page):
    browser, _hosts = report_page
    browser.evaluate('1')  # let pending events arrive
    problems = [event for event in browser.events
                if event.get('method') == 'Runtime.exceptionThrown'
                or (event.get('method') == 'Runtime.consoleAPICalled' and event['params']['type'] in ('error', 'assert'))
                or (event.get('method') == 'Log.entryAdded' and event['params']['entry']['level'] == 'error')]
    assert problems == []


def test_charts_render(report_page):
    browser, _hosts = report_page
    counts = browser.evaluate("({svg: document.querySelectorAll('svg.chart').length, rect: document.querySelectorAll('svg.chart rect').length, "
                              "polyline: document.querySelectorAll('svg.chart polyline').length, "
                              "circle: document.querySelectorAll('svg.chart circle').length})")
    assert counts['svg'] == 5
    assert counts['polyline'] == 6, 'four tiers and two host lines'
    assert counts['circle'] == 6 * 2, 'one point per run (run-1, run-2) per line'
    assert counts['rect'] >= 20
    sizes = browser.evaluate("Array.from(document.querySelectorAll('svg.chart')).map(s => s.getBoundingClientRect().width)")
    assert all(width > 300 for width in sizes)


def test_host_table_sorts_and_pages(report_page):
    browser, hosts = report_page
    assert browser.evaluate("document.querySelectorAll('#hosts tbody tr').length") == PAGE_SIZE
    first = _column(browser, 0)
    browser.evaluate("document.querySelector('#hosts thead th').click()")
    ascending = _column(browser, 0)
    assert ascending == sorted(ascending) and ascending != first and ascending[0] == 'app01'
    assert browser.evaluate("document.querySelector('#hosts thead th').getAttribute('aria-sort')") == 'ascending'
    browser.evaluate("document.querySelector('#hosts thead th').click()")
    descending = _column(browser, 0)
    assert descending == sorted(descending, reverse=True) and descending[0] == 'web01'
    browser.evaluate("document.querySelectorAll('#hosts thead th')[6].click()")  # Open: numbers, largest first
    opened = [int(value) for value in _column(browser, 6)]
    assert opened == sorted(opened, reverse=True) and opened[0] == 8
    browser.evaluate("document.getElementById('host-next').click()")
    assert browser.evaluate("document.getElementById('host-page').textContent") == 'hosts %d-%d of %d' % (
        PAGE_SIZE + 1, min(2 * PAGE_SIZE, hosts), hosts)


def test_screenshot(report_page):
    browser, _hosts = report_page
    browser.evaluate("document.getElementById('host-prev').click(); document.querySelector('#hosts thead th').click(); "
                     "document.querySelectorAll('#hosts thead th')[9].click()")
    metrics = browser.send('Page.getLayoutMetrics')
    height = int(metrics['cssContentSize']['height'])
    shot = browser.send('Page.captureScreenshot', {'format': 'png', 'captureBeyondViewport': True,
                                                   'clip': {'x': 0, 'y': 0, 'width': 1400, 'height': min(height, 2400), 'scale': 1}})
    data = base64.b64decode(shot['data'])
    assert data.startswith(b'\x89PNG')
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, 'wb') as handle:
        handle.write(data)

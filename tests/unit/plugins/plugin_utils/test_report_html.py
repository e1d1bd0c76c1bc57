"""report_html: a self-contained page, escaped text, charts drawn, the host table's data complete."""

from __future__ import annotations

import html.parser
import io
import json
import re

import pytest
from ansible_collections.patchwise.patching.plugins.plugin_utils.policy import load_policy
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_data import collect
from ansible_collections.patchwise.patching.plugins.plugin_utils.report_html import HOST_COLUMNS, PAGE_SIZE, _scale, lines, stacked_bars, write_html
from ansible_collections.patchwise.patching.tests.unit.plugins.plugin_utils import report_fleet


class _Elements(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.attributes = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)


@pytest.fixture(scope='module')
def page(tmp_path_factory):
    path = report_fleet.build(str(tmp_path_factory.mktemp('fleet') / 'assets.db'))
    with collect(path, now=report_fleet.NOW, policy=load_policy(report_fleet.POLICY)) as report:
        handle = io.StringIO()
        write_html(report, handle)
        return handle.getvalue(), report.document


def test_self_contained(page):
    text, _document = page
    parser = _Elements()
    parser.feed(text)
    assert 'link' not in parser.tags and 'img' not in parser.tags and 'iframe' not in parser.tags
    assert not [value for name, value in parser.attributes if name in ('src', 'href') and value], 'nothing is loaded from elsewhere'
    assert "default-src 'none'" in text
    assert parser.tags.count('svg') == 5


def test_header_and_figures(page):
    text, document = page
    assert 'audit trail not checked' in text and 'run-2' in text
    assert 'CVE-2099-0002' in text and '<span class="kev">KEV</span>' in text
    assert 'expires soon' in text and 'window closed' in text
    assert 'content="%s"' % document['content_digest'] in text


def test_host_data_complete_and_script_safe(page):
    text, document = page
    data = json.loads(re.search(r'<script type="application/json" id="host-data">(.*?)</script>', text, re.S).group(1))
    assert len(data['rows']) == len(document['hosts']) and data['page_size'] == PAGE_SIZE
    assert len(data['rows'][0]) == len(HOST_COLUMNS) and data['rows'][0][0] == 'web01', 'most overdue first'


def test_text_is_escaped():
    svg = stacked_bars('<chart>', [('<script>alert(1)</script>', {'a': 1})], (('a', 'A & B', '#000'),))
    assert '<script>' not in svg and '&lt;script&gt;' in svg and 'A &amp; B' in svg
    svg = lines('t', ['2026-01-01', '2026-01-02'], [('n', '#000', [1, 3])])
    assert svg.count('<circle') == 2 and svg.count('<polyline') == 1


def test_axis_scale_is_round():
    assert [_scale(value) for value in (0, 3, 5, 24, 99, 101, 9998581)] == [4, 4, 8, 40, 100, 200, 10000000]

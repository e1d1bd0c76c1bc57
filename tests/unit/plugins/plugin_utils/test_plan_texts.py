"""plan_texts: plans as the asset database stores them, and the copies of one plan that hosts alike take."""

from __future__ import annotations

import datetime
import json

from ansible_collections.patchwise.patching.plugins.plugin_utils.plan_texts import PlanTexts, plan_text, with_run_id
from ansible_collections.patchwise.patching.plugins.plugin_utils.stored_json import dumps


def test_copies_of_a_plan_are_stored_as_each_plan_alone():
    """The copies of one plan that hosts alike take (risk_pass: the same parts under another host) get the text each
    would get encoded alone, whatever the host's name holds; other plans, and values that are not plans, too."""
    texts = PlanTexts()
    plan = {'schema': 1, 'host': 'web-1', 'run_id': 'r1', 'tier': 'high', 'due': '2026-12-01', 'incident': False,
            'system': {'mode': 'security', 'packages': [{'name': 'openssl', 'target': '3.0.15-1~deb12u1', 'findings': ['CVE-1']}],
                       'reasons': ['host "web-1" needs it']},
            'applications': [], 'application_baseline': {'rejected': [], 'waiting': [], 'not_approved': []}}
    hosts = ['web-2', 'db "primary"', 'ünïcode-host', 'back\\slash', 'web-1']
    for host in hosts:
        copy_of_plan = dict(plan, host=host, run_id='r2')
        assert texts.plan(copy_of_plan) == plan_text(copy_of_plan), host
    # Another plan with the same system part object but another tier is not a copy.
    other = dict(plan, host='web-9', tier='low')
    assert texts.plan(other) == plan_text(other)
    assert '"tier":"low"' in texts.plan(other)
    for value in ({'schema': 1, 'system': 'not a plan part'}, {'schema': 1, 'host': 'h'}, ['not', 'a', 'plan'], None):
        assert texts.plan(value) == plan_text(value)
    brief = {'mode': 'security', 'packages': ['openssl'], 'may_run_now': True}
    assert texts.brief(brief) == texts.brief(brief) == dumps(brief)
    assert texts.brief(None) is None


def test_a_plan_is_stored_without_its_run_id_and_read_with_its_rows():
    """The run id lives in the plan's row: a pass that keeps the plan moves it on without rewriting the plan."""
    plan = {'schema': 1, 'host': 'web-1', 'run_id': 'r1', 'tier': 'none', 'system': {'mode': 'none'}}
    text = plan_text(plan)
    assert 'run_id' not in json.loads(text)
    assert text == plan_text(dict(plan, run_id='r2'))
    assert with_run_id(text, 'r2') == dict(plan, run_id='r2')
    assert with_run_id(plan_text(['not', 'a', 'plan']), 'r2') == ['not', 'a', 'plan']


def test_the_stored_json_sorts_keys_keeps_text_and_writes_other_values_as_strings():
    """The same value is stored as the same text (digests and equality checks compare texts)."""
    assert dumps({'b': 1, 'a': ['ü', None]}) == '{"a":["ü",null],"b":1}'
    assert dumps({'when': datetime.date(2026, 12, 7)}) == '{"when":"2026-12-07"}'

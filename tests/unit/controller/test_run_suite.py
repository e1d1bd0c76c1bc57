"""tests/tools/run-suite.sh: every step's result reaches the timing summary and the exit status, lanes included.

`make test` is the suite's contract: a step that fails, or a lane killed midway, must fail it.  Each case runs the
script on a scratch tree of its own (a Makefile whose targets pass, fail, print or kill their lane) beside a copy of
the script, so nothing of the real suite runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

TOOLS = os.path.join(os.path.dirname(__file__), '..', '..', 'tools')

# Recipes start with a tab.  `lane_killer` kills the lane's subshell (make's parent) with SIGKILL, as the OOM killer or
# a user would: the lane then writes no result for its step.
MAKEFILE = '''\
setup:
\t@echo setup-ran; test -z "$$BREAK_SETUP"
quick:
\t@echo quick-ran
slow:
\t@sleep 1; echo slow-ran
fails:
\t@echo fails-ran; exit 2
after:
\t@echo after-ran
lane_killer:
\t@kill -9 $$(awk '{print $$4}' /proc/$$PPID/stat)
'''


@pytest.fixture
def suite(tmp_path):
    """Run the script in a scratch tree: ``suite(*steps, leftovers=True, broken_setup=False)`` -> (exit status, output)."""
    tools = tmp_path / 'tests' / 'tools'
    tools.mkdir(parents=True)
    shutil.copy(os.path.join(TOOLS, 'run-suite.sh'), tools / 'run-suite.sh')
    (tmp_path / 'Makefile').write_text(MAKEFILE)

    def run(*steps, leftovers=True, broken_setup=False):
        check = tools / 'check-leftover-servers.sh'
        check.write_text('echo leftovers-checked\nexit %d\n' % (0 if leftovers else 1))
        check.chmod(0o755)
        env = dict(os.environ, TMPDIR=str(tmp_path))
        env.pop('MAKEFLAGS', None)
        env.pop('MAKELEVEL', None)
        env.pop('BREAK_SETUP', None)
        if broken_setup:
            env['BREAK_SETUP'] = '1'
        process = subprocess.run(['bash', str(tools / 'run-suite.sh'), *steps], cwd=str(tmp_path), env=env,
                                 capture_output=True, text=True, timeout=120, check=False)
        return process.returncode, process.stdout + process.stderr

    return run


def summary(output):
    """The timing summary's rows: [(step, result)], total left out."""
    rows = output.split('=== timing summary\n', 1)[1].splitlines()
    parsed = [re.match(r'\s+(.+?)\s+\d+s(?:\s+(\S+))?$', row) for row in rows if row.strip()]
    return [(found.group(1), found.group(2)) for found in parsed if found and found.group(1) != 'total']


def test_steps_that_pass_pass_the_suite_each_named_in_order(suite):
    status, output = suite('setup', 'quick', 'slow')
    assert status == 0, output
    assert summary(output) == [('setup', 'ok'), ('quick', 'ok'), ('slow', 'ok'), ('leftovers', 'ok')]


def test_a_failing_step_fails_the_suite_and_later_steps_still_run(suite):
    status, output = suite('setup', 'fails', 'after')
    assert status == 1
    assert summary(output) == [('setup', 'ok'), ('fails', 'FAILED'), ('after', 'ok'), ('leftovers', 'ok')]
    assert 'after-ran' in output


def test_a_failed_setup_stops_the_suite(suite):
    # Without a working environment nothing later can pass: the later steps are not run, the leftover check still is.
    status, output = suite('setup', 'quick', 'slow | after', broken_setup=True)
    assert status == 1
    assert summary(output) == [('setup', 'FAILED'), ('leftovers', 'ok')]
    assert 'quick-ran' not in output


def test_a_test_server_left_running_fails_the_suite(suite):
    status, output = suite('quick', leftovers=False)
    assert status == 1
    assert summary(output) == [('quick', 'ok'), ('leftovers', 'FAILED')]


def test_lanes_run_each_step_and_name_the_side_lane_in_the_summary(suite):
    status, output = suite('setup', 'slow | quick after')
    assert status == 0, output
    assert summary(output) == [('setup', 'ok'), ('slow', 'ok'), ('quick (beside slow)', 'ok'), ('after (beside slow)', 'ok'),
                               ('leftovers', 'ok')]


def test_a_side_lane_prints_whole_after_the_first_lane_never_interleaved(suite):
    status, output = suite('slow | quick after')
    assert status == 0, output
    # The side lane's steps ran during the first one's sleep, yet their output comes after it, under its own heading.
    assert output.index('slow-ran') < output.index('=== lane quick after, run beside slow: its output') < output.index('quick-ran') \
        < output.index('after-ran')


def test_a_failing_step_in_a_side_lane_fails_the_suite_and_the_lane_goes_on(suite):
    status, output = suite('slow | fails after')
    assert status == 1
    assert summary(output) == [('slow', 'ok'), ('fails (beside slow)', 'FAILED'), ('after (beside slow)', 'ok'), ('leftovers', 'ok')]


def test_a_failing_step_in_the_first_lane_fails_the_suite(suite):
    status, output = suite('fails | quick')
    assert status == 1
    assert summary(output) == [('fails', 'FAILED'), ('quick (beside fails)', 'ok'), ('leftovers', 'ok')]


@pytest.mark.parametrize('spec, killed', [('slow | lane_killer after', 'lane_killer+after-lane-killed (beside slow)'),
                                          ('lane_killer | slow', 'lane_killer-lane-killed')])
def test_a_lane_killed_midway_fails_the_suite_named_in_the_summary(suite, spec, killed):
    status, output = suite(spec)
    assert status == 1, output
    rows = summary(output)
    assert (killed, 'FAILED') in rows
    # The step that was running writes no result and the lane's later steps never run.
    assert [name for name, _result in rows if name.split(' ')[0] in ('lane_killer', 'after')] == []
    assert 'after-ran' not in output

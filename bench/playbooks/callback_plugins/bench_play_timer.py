# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper: write each play's wall time to the JSON file named by $BENCH_PLAY_TIMES.

A play's time runs from its start to the next play's start (the last play's to
the end of the run), measured in the controller's main process.  Used by
bench/bench_fact_overhead.py to time one play of a run.  Not part of the
collection's content.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_play_timer
type: aggregate
short_description: Write each play's wall time to a JSON file (benchmark helper)
description:
  - Writes a JSON list with the name and wall time in seconds of each play to the file named by E(BENCH_PLAY_TIMES).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_play_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._starts = []

    def v2_playbook_on_play_start(self, play):
        self._starts.append((play.get_name(), time.perf_counter()))

    def v2_playbook_on_stats(self, stats):
        end = time.perf_counter()
        bounds = [start for _name, start in self._starts[1:]] + [end]
        plays = [{'play': name, 'seconds': stop - start} for (name, start), stop in zip(self._starts, bounds)]
        with open(os.environ['BENCH_PLAY_TIMES'], 'w', encoding='utf-8') as handle:
            json.dump(plays, handle)

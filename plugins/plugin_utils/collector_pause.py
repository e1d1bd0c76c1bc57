# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run work that makes millions of objects and no reference cycles without Python's cyclic garbage collector.

Reference counting frees such objects as soon as they are dropped; the cyclic collector
only looks for garbage that reference counting cannot free.  It starts a pass every few
hundred new containers and now and then walks every live one: over a fleet's risk pass
(about a million findings, their rows and details) those walks found nothing to free
and took a tenth to a quarter of the pass.
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def cyclic_collector_paused():
    """Pause the cyclic garbage collector for the block (or the decorated call) and leave it as it was after.

    Nested pauses keep it paused until the outermost ends; a collector someone else turned off stays off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One lock for the tests that install packages on the machine running them and the tests that list its packages.

Unit tests run in parallel workers: a test comparing two package listings of this machine must not see a
throwaway package appear or go between them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile

LOCK = os.path.join('/run/lock' if os.path.isdir('/run/lock') else tempfile.gettempdir(), 'patchwise-pw-backup-test.lock')


@contextlib.contextmanager
def machine_packages_held():
    """Hold the lock while the body installs packages, or reads the installed ones more than once."""
    with open(LOCK, 'w', encoding='ascii') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield

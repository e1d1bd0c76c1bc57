# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One call made in a forked process while this one goes on: its result, or a named failure, comes back through a pipe.

The report reads and writes its largest tables so, on the second core.  A forked child inherits the collection's
modules and open state as this process has them and sends back only its (small) result, pickled.  The 'fork'
context is explicit: it is what the call relies on (the function need not be picklable), and it stays so on
Python versions whose default start method is another.
"""

from __future__ import annotations

import multiprocessing


class ForkedCallFailed(Exception):
    """The call raised one of the failures it was started with (``exitcode`` None), or its process ended without a result."""

    def __init__(self, message, exitcode=None):
        super().__init__(message)
        self.exitcode = exitcode


class ForkedCall:
    """``function()`` run in a forked process; ``result()`` returns what it returned, ``stop()`` abandons it.

    ``failures``: the exception classes the function may raise as an expected outcome; their message comes back
    and ``result()`` raises it as ``ForkedCallFailed``.  Any other way of ending (an unexpected exception, a
    signal, ``os._exit``) is told by the process's exit code: "the process <doing> ended without a result".
    """

    def __init__(self, function, *, name, doing, failures=()):
        self.name, self.doing = name, doing
        context = multiprocessing.get_context('fork')
        self._results, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_call, args=(sender, function, tuple(failures)), name=name, daemon=True)
        self._process.start()
        sender.close()

    def result(self):
        """Wait for the call; its return value, or ``ForkedCallFailed``.  The process is gone when this returns or raises."""
        try:
            outcome, value = self._results.recv()
        except EOFError:
            outcome, value = None, None
        finally:
            self._results.close()
            self._process.join()
        if outcome == 'returned':
            return value
        if outcome == 'failed':
            raise ForkedCallFailed(value)
        raise ForkedCallFailed('the process %s ended without a result (exit code %s)' % (self.doing, self._process.exitcode),
                               exitcode=self._process.exitcode)

    def stop(self):
        """End the process without waiting for its result (the work it does is abandoned)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._results.close()


def _call(sender, function, failures):
    try:
        sender.send(('returned', function()))
    except failures as exc:
        sender.send(('failed', str(exc).strip()))
    finally:
        sender.close()

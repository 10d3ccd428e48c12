"""A process that stops within seconds of SIGINT/SIGTERM (README "Stopping").

The first signal asks the work to stop (``on_first``: running jobs stop at their next frame or
stage and hand their leases back) and arms a hard exit ``grace`` seconds later, so a thread busy
in native code that has no frame to stop at (a transcription) cannot hold the exit up; its job's
lease is already back and its writes are fenced. A second signal exits at once. Once the
orderly stop is done (``stopped``: jobs handed back, connections closed), the process exits
without the interpreter's teardown, which would wait for every thread and unload every library
(about a second with the renderer and the speech models loaded).
"""

from __future__ import annotations

import contextvars
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger("knightvision")

GRACE_SECONDS = 2.5  # first signal to forced exit: under the 3 s operators are promised
THREADS_SECONDS = 0.5  # after the stop, for a job's thread to clean up after its last frame


class StopSignals:
    def __init__(self, on_first: Callable[[], None], grace: float = GRACE_SECONDS) -> None:
        self._on_first = on_first
        self._grace = grace
        self.received = 0

    def __call__(self, signum: int) -> None:
        """The handler for each signal (call it from the event loop's thread)."""
        self.received += 1
        if self.received > 1:
            _exit_now(f"second signal ({signum}): exiting at once", 128 + signum)
        # A signal lands inside whatever code runs, perhaps a request's: log outside its context,
        # or the line would carry that request's id.
        contextvars.Context().run(
            log.info, "signal %d: stopping; a second signal exits at once", signum
        )
        timer = threading.Timer(
            self._grace, _exit_now, (f"still stopping after {self._grace:.1f} s: exiting", 1)
        )
        timer.daemon = True
        timer.start()
        self._on_first()

    def stopped(self) -> None:
        """The orderly stop is over: after a signal, exit now (without a signal, return)."""
        if not self.received:
            return
        for signum in (signal.SIGINT, signal.SIGTERM):  # the loop no longer runs to see them
            signal.signal(signum, lambda received, _frame: self(received))
        deadline = time.monotonic() + THREADS_SECONDS
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join(max(0.0, deadline - time.monotonic()))
        _exit_now("stopped", 0)


def _exit_now(why: str, code: int) -> None:
    log.log(logging.INFO if code == 0 else logging.WARNING, why)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)  # no interpreter teardown: it would wait for the threads still running

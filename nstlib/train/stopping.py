"""Ctrl-C during a long run: finish the step, save, stop; never die half-way through writing a checkpoint.

Inside ``StopRequests`` a SIGINT (Ctrl-C, a notebook's stop button) or SIGTERM (torchrun shutting its
workers down, a cluster's scheduler) only sets ``requested``; the training loop looks at it at every step
boundary, where all processes agree to stop together. In a single process a second Ctrl-C stops at once
(KeyboardInterrupt). The previous handlers come back on exit.
"""

from __future__ import annotations

import signal
import sys
import threading


class StopRequests:
    def __init__(self, force_on_second: bool = True):
        self.force_on_second = force_on_second
        self.requested: str | None = None
        self._previous = {}

    def _handle(self, signum, frame):
        name = signal.Signals(signum).name
        if self.requested is not None:
            if self.force_on_second and signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.requested = name
        print(f"\n{name}: stopping after this step (a checkpoint is written if one was asked for)"
              + ("; Ctrl-C again stops at once" if self.force_on_second else ""), file=sys.stderr, flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        return False

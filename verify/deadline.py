"""A wall-clock limit around an optimizer run, so a hanging ``step()`` ends with a message.

The limit is a ``SIGALRM`` timer (``setitimer``): the signal handler raises :class:`RunTimeout`
in the main thread, between two Python bytecodes. So a hang in Python code (a loop, a
``time.sleep``) is interrupted; a hang inside one long C call (a torch kernel, a lock wait)
is interrupted only when that call returns to Python, which may be never. Outside the main
thread, or where the platform has no ``setitimer``, no limit applies.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class RunTimeout(BaseException):
    """The run exceeded its limit. A ``BaseException``, so an optimizer's own ``except Exception``
    cannot swallow it."""


def _can_arm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def deadline(seconds: float | None):
    """Raise :class:`RunTimeout` inside the block once ``seconds`` have passed (None: no limit)."""
    if seconds is None or not _can_arm():
        yield
        return

    def expire(signum, frame):
        raise RunTimeout(f"no result within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

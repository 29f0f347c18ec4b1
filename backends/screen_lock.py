"""The lock of an in-process teammate's screen that may be fed lazily (see :mod:`backends.pty_host`).

A screen nobody shows or waits on is fed in batches, behind its program's output. Whoever takes
its :class:`ScreenLock` (the state judge reading the screen, the view showing it, a resize) first
brings it up to date, under the lock, so it is never read behind. :data:`QUERY` finds the
questions a program waits an answer to, which are fed at once, shown or not.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

QUERY = re.compile(
    rb"\x1b\[[?>=]?[\d;]*[nc]"  # device status (cursor position), primary/secondary attributes
    rb"|\x1b\[\??[\d;]*\$p"  # a mode's state (DECRQM)
    rb"|\x1b\[[\d;]*t"  # window size and title reports
    rb"|\x1b\[[?>][\d;]*[uq]"  # the keyboard protocol's flags, the terminal's name (XTVERSION)
    rb"|\x1b\][^\x07\x1b]*\?"  # a colour (OSC 10/11/4 ... ?)
    rb"|\x1bP[+$]q"  # terminfo capabilities, a setting (XTGETTCAP, DECRQSS)
)
"""Queries a program waits an answer to; a chunk split inside one is found by searching the
backlog's last bytes with it."""


class ScreenLock:
    """A lock (``with``, ``acquire``/``release``, usable by ``threading.Condition``) that, when
    taken while the screen is not ``eager()``, calls ``catch_up()`` before handing it over.
    ``raw`` is the plain lock underneath, for the feeder that feeds the screen itself."""

    def __init__(self, eager: Callable[[], bool], catch_up: Callable[[], None]) -> None:
        self.raw = threading.Lock()
        self._eager = eager
        self._catch_up = catch_up

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self.raw.acquire(blocking, timeout)
        if got and not self._eager():
            self._catch_up()
        return got

    def release(self) -> None:
        self.raw.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.raw.release()

"""The emulated screen of an in-process teammate: libghostty-vt where it is installed, else pyte.

:func:`new_screen` picks the emulator: :class:`backends.ghostty_screen.GhosttyScreen` (native,
~50 MB/s) when pyghostty imports, else :class:`backends.pyte_screen.TerminalScreen` (pyte, ~0.2 MB/s;
also chosen by ``CREWMUX_SCREEN=pyte``), each imported only when chosen. Both offer ``feed``,
``take_replies``, ``has_mode`` and pyte's ``columns``/``lines``/``cursor``/``display``/``dirty``/
``mode``/``resize``, plus ``text_lines``, ``scrollback_lines`` and ``in_alternate``.
:class:`Listeners` are the callbacks a screen wakes after each feed.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

_log = logging.getLogger(__name__)


def new_screen(columns: int, lines: int) -> Any:
    """A screen for an in-process teammate: Ghostty's when pyghostty imports (and
    ``$CREWMUX_SCREEN`` is not ``pyte``), else pyte's :class:`TerminalScreen`."""
    if os.environ.get("CREWMUX_SCREEN") != "pyte":
        try:
            from backends.ghostty_screen import GhosttyScreen
        except (ImportError, OSError) as exc:  # no wheel for this platform, or its library did not load
            _log.debug("pyghostty unavailable, using pyte: %s", exc)
        else:
            return GhosttyScreen(columns, lines)
    from backends.pyte_screen import TerminalScreen

    return TerminalScreen(columns, lines)


class Listeners:
    """The callbacks an emulated screen wakes after each feed (an in-process pty's, a followed tmux
    pane's): added and removed from any thread, called outside every lock, in the order added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def add(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def remove(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback`` (no error when it was not added)."""
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def __bool__(self) -> bool:
        """True while any callback is added."""
        return bool(self._callbacks)

    def notify(self) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

"""A screen that draws a key's answer at once.

Textual draws a screen's changes on its update timer, a fixed 1/60 s grid: a change made just
after a tick waits up to a frame, and under load (8 busy teammates) a further frame when the
screen is idle only after the next tick. ``paint_now()`` asks for the next idle with something
to draw to draw it then; Shift+Down/Up use it, so the newly selected teammate shows as soon as
its screen is ready. Every other change keeps the timer's pace.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from textual import events

PAINT_WITHIN = 0.1
"""Seconds a ``paint_now()`` request waits for its changes to arrive; later, the timer draws them."""


class PaintNowScreen(Screen[None]):
    """``paint_now()``: the next idle that finds something to draw draws it at once."""

    _paint_by: float = 0.0

    def paint_now(self) -> None:
        self._paint_by = time.monotonic() + PAINT_WITHIN

    async def _on_idle(self, event: events.Idle) -> None:
        """Runs before Screen's own idle handler (the MRO dispatch), which then finds nothing left."""
        if not self._paint_by:
            return
        if time.monotonic() > self._paint_by:
            self._paint_by = 0.0
        elif self.is_current and not self.app._batch_count and self._has_changes():
            self._paint_by = 0.0
            self._on_timer_update()

    def _has_changes(self) -> bool:
        return bool(self._dirty_widgets or self._layout_required or self._repaint_required or self._scroll_required)

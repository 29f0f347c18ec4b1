"""The key bar: Textual's Footer, recomposed once per refresh however many binding updates came first.

Textual's Footer rebuilds all its keys after every ``bindings_updated`` signal (a focus change, a
screen pushed, a widget with bindings mounted), each rebuild queued on its own: the console's start
sent five before its first frame, ~90 ms of CPU with 100 teammates (of ~0.8 s to the first frame).
Here a rebuild already queued takes the later updates too; it reads the bindings when it runs, so
the keys shown are the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer as TextualFooter

if TYPE_CHECKING:
    from textual.screen import Screen


class Footer(TextualFooter):
    """Textual's :class:`~textual.widgets.Footer` with its rebuilds coalesced."""

    _rebuild_queued = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not (self.is_attached and screen is self.screen):
            return
        if not self._rebuild_queued:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_queued = False
        await self.recompose()

"""An invisible widget that mirrors a tmux / iTerm2 teammate's pane text while it is selected.

``follow(name)`` starts one exclusive thread worker that reads the pane every
:data:`MIRROR_INTERVAL_S` and posts :class:`ScreenUpdated` (coalesced) when the text changed;
``follow(None)`` or another name ends it. A pane the backend can size (:class:`backends.base.FitsView`,
tmux) is made the size of the console's view first, and again when the view is resized.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work
from textual.widget import Widget
from textual.worker import get_current_worker

from app.console import ops
from app.console.messages import ScreenUpdated
from app.core.errors import CrewmuxError
from backends.base import FitsView

if TYPE_CHECKING:
    from app.console.ops import TeamContext

MIRROR_INTERVAL_S = 0.1


class PaneMirror(Widget):
    """Mirrors the pane of ``target`` (None: nobody)."""

    DEFAULT_CSS = "PaneMirror { display: none; }"

    def __init__(self, ctx: TeamContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.target: str | None = None

    def follow(self, name: str | None) -> None:
        self.target = name
        if name is not None:
            self._mirror(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="mirror", description="mirror a pane")
    def _mirror(self, name: str) -> None:
        worker = get_current_worker()
        try:
            member = self.ctx.teams.member(self.ctx.team, name)
            backend = self.ctx.backend_for(member.backend_type or "tmux")
            handle = ops.handle_of(member)
        except CrewmuxError as exc:
            self.post_message(ScreenUpdated(name, [f"cannot mirror {name}: {exc}"]))
            return
        last: list[str] = []
        fitted: tuple[int, int] | None = None
        while not worker.is_cancelled and self.target == name:
            try:
                size = self.ctx.view_size
                if size is not None and size != fitted and isinstance(backend, FitsView):
                    backend.fit(handle, *size)  # the pane and the view are the same size (as tmux allows)
                    fitted = size
                lines = backend.screen(handle).lines
            except CrewmuxError as exc:
                self.post_message(ScreenUpdated(name, [f"{name}: the pane is gone ({exc})"]))
                return
            if lines != last:
                last = lines
                self.post_message(ScreenUpdated(name, lines))
            time.sleep(MIRROR_INTERVAL_S)

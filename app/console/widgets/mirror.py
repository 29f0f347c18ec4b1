"""An invisible widget that puts the selected teammate's screen in the terminal view.

:meth:`PaneMirror.show` decides what the view shows for the selected row: an in-process
teammate's own terminal; a tmux teammate's pane followed through the team's one control-mode
client (:class:`backends.tmux_view.TeamFollower`, started on first use: tmux streams only the shown
pane's output, and nothing is polled); an iTerm2 teammate's text, read by one exclusive thread
worker every :data:`MIRROR_INTERVAL_S` (iTerm2 has no output stream here) and posted as
:class:`ScreenUpdated` when it changed. A followed pane that dies, or a tmux server that exits, is
reported as a notice; the view keeps its screen as last seen (the last output: why it ended), and
showing that teammate again, while it stays dead, shows that screen.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.worker import get_current_worker

from app.console import ops
from app.console.messages import Notice, ScreenUpdated
from app.console.widgets.terminal import PANE_WATCH_FRAME_RATE
from app.core.errors import BackendUnavailable, CrewmuxError
from backends.base import FitsView, TerminalHost

if TYPE_CHECKING:
    from app.console.model import TeammateRow
    from app.console.ops import TeamContext
    from app.console.widgets.terminal import TerminalView
    from backends.tmux_view import FollowedPane, FollowEvent, TeamFollower

MIRROR_INTERVAL_S = 0.1


class _PaneEnded(Message):
    """A followed pane ended (posted from the follower's thread): ``screen`` is its last screen."""

    def __init__(self, name: str, screen: FollowedPane) -> None:
        super().__init__()
        self.name = name
        self.screen = screen


class PaneMirror(Widget):
    """Shows the selected teammate in ``view``; mirrors an iTerm2 pane while it is selected."""

    DEFAULT_CSS = "PaneMirror { display: none; }"

    def __init__(self, ctx: TeamContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.target: str | None = None
        self.view: TerminalView | None = None
        self.follower: TeamFollower | None = None
        """The follower of the server whose pane is shown (or was last)."""
        self._followers: dict[tuple[str | None, str | None], TeamFollower] = {}  # one per tmux server
        self._followed: dict[str, str] = {}  # tmux pane id -> teammate name, for the reports
        self._ended: dict[str, FollowedPane] = {}  # teammate -> its pane's last screen (one each)
        self.shown_name: str | None = None
        """The teammate whose row :meth:`show` was last given."""

    def on_unmount(self) -> None:
        for follower in self._followers.values():
            follower.close()

    def show(self, row: TeammateRow | None, view: TerminalView) -> None:
        """Put ``row``'s screen (or why there is none) in ``view``."""
        self.view = view
        self.shown_name = row.name if row is not None else None
        self.follow(None)
        if row is None or row.backend != "tmux":
            for follower in self._followers.values():
                follower.show(None)
        if row is None or row.is_lead:
            view.show_lines([])
            return
        if row.backend == "in-process":
            try:
                backend = self.ctx.backend_for("in-process")
                if not isinstance(backend, TerminalHost):
                    raise BackendUnavailable(f"the {backend.name} backend hosts no terminals here")
                member = self.ctx.teams.member(self.ctx.team, row.name)
                view.attach(backend.terminal(ops.handle_of(member)))
            except (CrewmuxError, KeyError) as exc:
                view.show_lines([f"{row.name}: its in-process screen is not available: {exc}"])
            return
        if not row.pane_id:
            view.show_lines([f"{row.name} has no pane recorded (it joined the team without one)"])
            return
        last = self._ended.get(row.name)
        if last is not None and last.pane_id == row.pane_id:  # a pane id is never reused by its server
            view.attach(last)  # its screen as it ended: the last output says why
            return
        if row.state in ("dead", "stopped"):
            view.show_lines([f"{row.name} is {row.state}; it has no live pane to show"])
            return
        if row.backend == "tmux":
            self._show_tmux(row.name, row.pane_id, view)
            return
        view.show_lines([f"{row.name} runs in {row.backend} pane {row.pane_id}; mirroring…"])
        self.follow(row.name)

    def _show_tmux(self, name: str, pane_id: str, view: TerminalView) -> None:
        """Follow ``name``'s pane through a control client of the server it lives on (its locator's:
        a teammate the CLI started elsewhere is never the console server's pane of the same id)."""
        try:
            backend: Any = self.ctx.backend_for("tmux")
            server = backend.server_for(ops.handle_of(self.ctx.teams.member(self.ctx.team, name)))
        except (CrewmuxError, KeyError) as exc:
            view.show_lines([f"cannot follow {name}: {exc}"])
            return
        key = (server.socket_name, server.socket_path)
        follower = self._followers.get(key)
        if follower is None:
            from backends.tmux_view import TeamFollower  # imported on first use: not for the first frame

            if server != backend.server:
                backend = type(backend)(server)
            follower = self._followers[key] = TeamFollower(backend, self.ctx.team, self._follow_event)
        for other in self._followers.values():
            if other is not follower:
                other.show(None)
        self.follower = follower
        self._followed[pane_id] = name
        pane = follower.show(pane_id)
        if pane is not None:
            view.attach(pane, watch_fps=PANE_WATCH_FRAME_RATE)  # tmux shows the pane itself live

    def _follow_event(self, event: FollowEvent) -> None:
        """From the follower's threads: a pane ended, or the tmux server exited."""
        name = self._followed.get(event.pane or "", None)
        text = f"{name}: {event.text}" if name else f"following the team's tmux panes stopped: {event.text}"
        self.post_message(Notice(text, "warning", key=f"follow:{name or ''}"))
        if name is not None and event.screen is not None:
            self.post_message(_PaneEnded(name, event.screen))  # the view keeps drawing it as it ended

    @on(_PaneEnded)
    def _pane_ended(self, event: _PaneEnded) -> None:
        self._ended[event.name] = event.screen
        if self.view is not None and self.shown_name == event.name:
            self.view.attach(event.screen)  # shown already, or told "dead" before this event came

    @on(ScreenUpdated)
    def _screen(self, event: ScreenUpdated) -> None:
        if self.view is not None and event.name == self.target_name():
            event.stop()
            self.view.show_screen(event.lines)

    def target_name(self) -> str | None:
        """The teammate shown now (mirrored or followed)."""
        if self.target is not None:
            return self.target
        shown = self.follower.shown if self.follower is not None else None
        return self._followed.get(shown.pane_id) if shown is not None else None

    # -- iTerm2: its text, polled while selected -----------------------------------------------
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

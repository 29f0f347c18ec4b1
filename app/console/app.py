"""The console App: themes, settings, the main screen, the problem sink. Kept small on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding

from app.console.messages import Notice, SeatTaken, TeamShown
from app.console.model import PsutilProbe
from app.console.ops import TeamContext, ensure_team
from app.console.screens.main import MainScreen
from app.console.themes import ConsoleSettings, load_settings, load_themes, save_settings
from app.console.widgets.tasks import TaskPanel
from app.console.widgets.terminal import TerminalView
from app.core.atomic import add_problem_sink
from app.core.team import TeamStore
from backends.console_link import ConsoleLinkServer, inprocess_handler

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from textual.screen import Screen

    from app.console.model import Probe
    from app.core.atomic import Problem
    from backends.base import Layout, PaneBackend


class CrewmuxApp(App[None]):
    """The lead's seat. Build it with :func:`make_app`."""

    TITLE = "crewmux"
    ENABLE_COMMAND_PALETTE = True
    # Textual runs every thread worker on the loop's default executor, which asyncio sizes at
    # cpu_count + 4 (6 threads on 2 cores). The console keeps six long-lived workers (three
    # directory watchers, liveness, delivery, the pane mirror): with a tmux teammate mirrored the
    # pool was full and a key's operation (F3, F4) queued until the next key changed the selection.
    WORKER_THREADS = 64

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # ctrl+q and ctrl+p belong to the program while a teammate's screen has focus (ctrl+] leaves)
        return not (isinstance(self.focused, TerminalView) and action in TerminalView.PROGRAM_KEYS_ACTIONS)

    def __init__(
        self,
        ctx: TeamContext,
        settings: ConsoleSettings,
        *,
        probe: Probe | None = None,
        tick: float = 2.0,
        shutdown_grace: float = 10.0,
        remember: bool = True,
        life: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.settings = settings
        self.remember = remember
        self._main = MainScreen(ctx, probe or PsutilProbe(), tick=tick, shutdown_grace=shutdown_grace, life=life)
        self._unsubscribe: Callable[[], None] | None = None
        self._link: Any = None
        for theme in load_themes():
            self.register_theme(theme)
        self.theme = settings.theme if settings.theme in self.available_themes else "crewmux-dark"

    def on_load(self) -> None:
        """Before any worker starts: a thread pool the long-lived workers cannot fill."""
        pool = ThreadPoolExecutor(max_workers=self.WORKER_THREADS, thread_name_prefix="crewmux-worker")
        asyncio.get_running_loop().set_default_executor(pool)

    def on_mount(self) -> None:
        self._unsubscribe = add_problem_sink(self._problem)
        self.push_screen(self._main)
        if self.ctx.seat.try_take():  # a viewer leaves the shell's link to the owning console
            self._start_console_link()

    def on_team_shown(self, message: TeamShown) -> None:
        """After the first frame (what it needs only, before it): a frozen heap."""
        # Everything built so far lives as long as the app: move it out of the collector's view,
        # so full collections stay short while teammates stream output (measured: worst pause
        # ~100 ms -> ~33 ms, busy p99 114 -> 77 ms, in bench/bench_console.py).
        gc.collect()
        gc.freeze()

    async def on_event(self, event: events.Event) -> None:
        """A printable key the focused widget would take as a command goes where text goes.

        Decided here, before Textual forwards the key, so the focus has moved before the next key
        of a burst (a paste, tmux send-keys) is forwarded: no letter of a message runs a command.
        """
        if isinstance(event, events.Key) and not event.is_forwarded and self.screen is self._main:
            target = self._main.typing_target(event)
            if target is not None and target is not self.focused:
                self._main.set_focus(target)
        await super().on_event(event)

    def on_seat_taken(self, message: SeatTaken) -> None:
        """A viewer became the owner (the owning console quit): it answers the shell now."""
        if self._link is None:
            self._start_console_link()

    def _start_console_link(self) -> None:
        """Let ``crewmux spawn --backend in-process`` reach this console."""
        try:
            self._link = ConsoleLinkServer(self.ctx.paths, inprocess_handler(self.ctx.backend_for("in-process")))
        except Exception as exc:  # the console works without it; say why
            self._main.post_message(Notice(f"in-process spawns from the shell are off: {exc}", "warning"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands (themes among them) plus every main-screen binding, for the palette."""
        yield from super().get_system_commands(screen)
        main = self._main
        for binding in MainScreen.BINDINGS:
            if isinstance(binding, Binding) and not binding.action.startswith("app.") and binding.description:
                help_text = f"{binding.key_display or binding.key} — {binding.tooltip or 'on the selected teammate'}"
                yield SystemCommand(binding.description, help_text, partial(main.run_action, binding.action))
        panel = main.query_one(TaskPanel)
        for binding in TaskPanel.BINDINGS:
            if isinstance(binding, Binding) and binding.action.startswith("act("):
                what = f"Task: {binding.description.removesuffix('…')}"
                yield SystemCommand(
                    what,
                    f"{binding.key} in the task panel — {binding.tooltip}",
                    partial(panel.run_action, binding.action),
                )

    def _problem(self, problem: Problem) -> None:
        """Called from any thread: a corrupt file or a restored team file."""
        self._main.post_message(Notice(f"⚠ {problem.message}", "error"))

    def watch_theme(self, theme: str) -> None:
        if self.remember and theme != self.settings.theme:
            self.settings.theme = theme
            with contextlib.suppress(Exception):
                save_settings(self.ctx.home, self.settings)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._link is not None:
            with contextlib.suppress(Exception):
                self._link.close()
        self.ctx.close()


def make_app(
    home: Path,
    team: str,
    backend: PaneBackend | None = None,
    settings: ConsoleSettings | None = None,
    *,
    interop: bool = False,
    layout: Layout = "main-vertical",
    **options: Any,
) -> CrewmuxApp:
    """The console on ``team`` under ``home`` (created on first use). Used by the CLI and tests.

    ``options`` go to :class:`CrewmuxApp` (``probe``, ``tick``, ``shutdown_grace``, ``remember``,
    ``life``: resume the team on open, watch liveness, deliver messages to typed agents — default on).
    ``interop``: ``home`` is Claude Code's root and ``team`` a team it runs (``crewmux attach``):
    the team is not created, and every file is shared under Claude Code's locks too.
    ``layout``: inside tmux, how the console's window holds the tmux teammates beside it
    (``main-vertical``, ``tiled``) or ``windows`` (a window each).
    """
    if interop:
        TeamStore(home, interop=True).load(team)  # attach: the team must exist; TeamNotFound otherwise
    else:
        ensure_team(home, team)
    ctx = TeamContext(home=home, team=team, backend=backend, interop=interop, layout=layout)
    return CrewmuxApp(ctx, settings or load_settings(home), **options)

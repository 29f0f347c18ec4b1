"""The console App: themes, settings, the main screen, the problem sink. Kept small on purpose."""

from __future__ import annotations

import contextlib
import gc
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding

from app.console.messages import Notice
from app.console.model import PsutilProbe
from app.console.ops import TeamContext, ensure_team
from app.console.screens.main import MainScreen
from app.console.themes import ConsoleSettings, load_settings, load_themes, save_settings
from app.core.atomic import add_problem_sink
from app.core.team import TeamStore
from backends.console_link import ConsoleLinkServer, inprocess_handler

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from textual.screen import Screen

    from app.console.model import Probe
    from app.core.atomic import Problem
    from backends.base import PaneBackend


class CrewmuxApp(App[None]):
    """The lead's seat. Build it with :func:`make_app`."""

    TITLE = "crewmux"
    ENABLE_COMMAND_PALETTE = True

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

    def on_mount(self) -> None:
        self._unsubscribe = add_problem_sink(self._problem)
        self.push_screen(self._main)
        self._start_console_link()
        # Everything built so far lives as long as the app: move it out of the collector's view,
        # so full collections stay short while teammates stream output (measured: worst pause
        # ~100 ms -> ~33 ms, busy p99 114 -> 77 ms, in bench/bench_console.py).
        gc.collect()
        gc.freeze()

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
            if not isinstance(binding, Binding) or binding.action.startswith("app."):
                continue
            action = binding.action
            yield SystemCommand(
                binding.description,
                f"{binding.key} — on the selected teammate",
                partial(main.run_action, action),
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
    **options: Any,
) -> CrewmuxApp:
    """The console on ``team`` under ``home`` (created on first use). Used by the CLI and tests.

    ``options`` go to :class:`CrewmuxApp` (``probe``, ``tick``, ``shutdown_grace``, ``remember``,
    ``life``: resume the team on open, watch liveness, deliver messages to typed agents — default on).
    ``interop``: ``home`` is Claude Code's root and ``team`` a team it runs (``crewmux attach``):
    the team is not created, and every file is shared under Claude Code's locks too.
    """
    if interop:
        TeamStore(home, interop=True).load(team)  # attach: the team must exist; TeamNotFound otherwise
    else:
        ensure_team(home, team)
    ctx = TeamContext(home=home, team=team, backend=backend, interop=interop)
    return CrewmuxApp(ctx, settings or load_settings(home), **options)

"""Pilot tests with real in-process teammates: spawn form, live screen, typing, interrupt, shut down."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any

import pytest

from app.console.widgets.terminal import WATCH_FRAME_RATE, TerminalView
from app.core.heartbeat import read_heartbeat
from app.core.liveness import is_alive
from tests.agents.teammate_helpers import REPO
from tests.console.console_helpers import main_screen, noticed, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

inprocess = pytest.importorskip("backends.inprocess", reason="the in-process backend is not installed")

SIZE = (140, 44)


def _screen_text(pilot: Any) -> str:
    view = main_screen(pilot).query_one(TerminalView)
    return "\n".join("".join(seg.text for seg in row) for row in view._rows)


async def test_spawn_show_type_interrupt_jump_and_shut_down(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str, tmp_path: Path
) -> None:
    backend = inprocess.InProcessBackend()
    app = console_factory(team, backend=backend, tick=0.5, shutdown_grace=15.0)  # a worker answers at once
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await pilot.press("f2")
        await until(pilot, lambda: type(app.screen).__name__ == "SpawnForm")
        await pilot.press(*"echo1")
        form = app.screen
        # A line is read first (the typing below), then the real built-in worker takes the pane,
        # so the shutdown at the end is answered by a teammate that follows the protocol.
        worker = f"env PYTHONPATH={shlex.quote(str(REPO))} {shlex.quote(sys.executable)} -m app worker"
        command = f"echo READY-$CREWMUX_AGENT; head -n1; exec {worker}"
        form.query_one("#command").value = f"sh -c {shlex.quote(command)}"  # type: ignore[attr-defined]
        form.query_one("#cwd").value = str(tmp_path)  # type: ignore[attr-defined]
        form.query_one("#plan").value = True  # type: ignore[attr-defined]
        await pilot.click("#ok")
        await until(pilot, noticed(pilot, "spawn echo1: started"))
        member = teams.member(team, "echo1")
        assert member.backend_type == "in-process" and member.plan_mode_required is True
        assert member.crewmux is not None and member.crewmux.pid
        pid, started = member.crewmux.pid, member.crewmux.pid_create_time
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None and "echo1" in screen.snapshot.names())
        while screen.selected != "echo1":
            await pilot.press("shift+down")
        await until(pilot, lambda: "READY-echo1" in _screen_text(pilot))
        assert screen.query_one(TerminalView)._watch_fps == WATCH_FRAME_RATE, "its one live view: the watch rate"
        await pilot.press("enter")  # empty composer: open the view
        view = screen.query_one(TerminalView)
        assert view.has_focus
        await pilot.press(*"ping-42", "enter")
        await until(pilot, lambda: _screen_text(pilot).count("ping-42") >= 2)  # tty echo + head's copy
        await pilot.press("ctrl+right_square_bracket")  # ctrl+] leaves the view (Esc is the program's)
        assert not view.has_focus
        await pilot.press("f4")
        await until(pilot, noticed(pilot, "no pane to jump to"))
        await until(pilot, lambda: read_heartbeat(teams.paths(team), "echo1") is not None, timeout=20)  # worker up
        await pilot.press("f5")  # Escape to the teammate: the worker shrugs
        await pilot.press("f3")
        await until(pilot, lambda: type(app.screen).__name__ == "Confirm")
        await pilot.press("y")
        await until(pilot, noticed(pilot, "shut down echo1: approved"), timeout=20)
        assert not is_alive(pid, started)
        assert teams.load(team).member("echo1") is None  # shut down: removed from the team
        await until(pilot, lambda: screen.snapshot is not None and "echo1" not in screen.snapshot.names())
        assert screen.selected == "team-lead"


async def test_spawn_refusals_are_shown(console_factory: Callable[..., CrewmuxApp], team: str) -> None:
    app = console_factory(team, backend=inprocess.InProcessBackend())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await pilot.press("f2", *"team-lead", "enter", "enter")
        await until(pilot, noticed(pilot, "is the lead's name"))
        await pilot.press("f3")  # shutting down the lead
        await until(pilot, noticed(pilot, "shut down by quitting"))
        await pilot.press("f5")
        await until(pilot, noticed(pilot, "the lead is you"))

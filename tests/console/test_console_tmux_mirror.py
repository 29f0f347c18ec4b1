"""A tmux teammate: spawned from the form, mirrored live, jumped to, and re-attached after a restart."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import pytest

from app.console.widgets.terminal import TerminalView
from app.core.liveness import is_alive
from tests.console.console_helpers import main_screen, noticed, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]
tmux_mod = pytest.importorskip("backends.tmux", reason="the tmux backend is not installed")
SIZE = (140, 44)


@pytest.fixture
def tmux_backend(tmux_socket: str) -> Any:
    from backends.tmux_server import TmuxServer

    return tmux_mod.TmuxBackend(TmuxServer(socket_name=tmux_socket))


def _view_text(pilot: Any) -> str:
    view = main_screen(pilot).query_one(TerminalView)
    return "\n".join("".join(seg.text for seg in row) for row in view._rows)


async def _select(pilot: Any, name: str) -> None:
    screen = main_screen(pilot)
    await until(pilot, lambda: screen.snapshot is not None and name in screen.snapshot.names())
    while screen.selected != name:
        await pilot.press("shift+down")


async def test_tmux_teammate_is_mirrored_and_survives_the_console(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str, tmux_backend: Any, tmp_path: Path
) -> None:
    app = console_factory(team, backend=tmux_backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await pilot.press("f2")
        await until(pilot, lambda: type(app.screen).__name__ == "SpawnForm")
        form: Any = app.screen
        form.query_one("#name").value = "tm1"
        form.query_one("#command").value = "sh -c 'echo MIRROR-$CREWMUX_AGENT; exec cat'"
        form.query_one("#backend").value = "tmux"
        form.query_one("#cwd").value = str(tmp_path)
        await pilot.click("#ok")
        await until(pilot, noticed(pilot, "spawn tm1: started"), timeout=20)
        await _select(pilot, "tm1")
        await until(pilot, lambda: "MIRROR-tm1" in _view_text(pilot))
        # the mirrored pane (alone in a detached session) takes the view's size
        view, pane = main_screen(pilot).query_one(TerminalView), teams.member(team, "tm1").tmux_pane_id
        shown = f"{view.size.width}x{view.size.height}"
        fmt = "#{pane_width}x#{pane_height}"
        await until(pilot, lambda: tmux_backend.server.run("display-message", "-p", "-t", pane, fmt) == [shown])
        await pilot.press("f4")  # jump to the real pane: no refusal
        await pilot.press("enter")  # type through the backend into the real pane
        await pilot.press(*"via-tmux", "enter", "ctrl+right_square_bracket")
        await until(pilot, lambda: _view_text(pilot).count("via-tmux") >= 2)
        assert not any("refused" in line and "jump" in line for line in main_screen(pilot).query_one("#notices").lines)  # type: ignore[attr-defined]
    member = teams.member(team, "tm1")
    assert member.crewmux is not None
    assert is_alive(member.crewmux.pid, member.crewmux.pid_create_time), "a tmux teammate outlives the console"
    again = console_factory(team, backend=tmux_backend)
    async with again.run_test(size=SIZE) as pilot:
        await _select(pilot, "tm1")
        await until(pilot, lambda: "MIRROR-tm1" in _view_text(pilot))


async def test_a_key_acts_while_a_tmux_teammate_is_mirrored_and_the_team_is_watched(
    console_factory: Callable[..., CrewmuxApp], tmux_backend: Any, tmp_path: Path
) -> None:
    """Issue 15 (7): with every long-lived worker running (three directory watchers, liveness,
    delivery; the tmux teammate followed), F3 → y sends the shutdown request at once, with no other key —
    it used to wait in asyncio's 6-thread default pool until the next key changed the selection."""
    import asyncio

    from app.console import ops
    from app.console.screens.confirm import Confirm

    app = console_factory("t", backend=tmux_backend, life=True, shutdown_grace=2.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        req = ops.SpawnRequest(name="tm2", command="exec cat", backend="tmux", cwd=str(tmp_path))
        await asyncio.to_thread(ops.spawn, app.ctx, req)
        await _select(pilot, "tm2")
        view = main_screen(pilot).query_one(TerminalView)
        await until(pilot, lambda: getattr(view.terminal, "seeds", 0) > 0)  # followed (tmux -C), shown
        long_lived = [w for w in app.workers if w.is_running and w.group in ("watch", "life", "deliver")]
        assert len(long_lived) >= 5, long_lived  # with a key's operation: asyncio's default pool on 2 cores is 6
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        inbox = app.ctx.paths.inbox("tm2")
        await until(pilot, lambda: inbox.exists() and "shutdown_request" in inbox.read_text(), timeout=10)

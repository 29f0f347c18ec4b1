"""The living team with a real tmux teammate (private ``-L`` socket): delivery into its pane, stop the team."""

from __future__ import annotations

import asyncio
import shutil
from typing import TYPE_CHECKING, Any

import pytest

from app.console import ops
from app.core.liveness import is_alive
from app.core.paths import LEAD_NAME
from tests.console.console_helpers import main_screen, noticed, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]
tmux_mod = pytest.importorskip("backends.tmux", reason="the tmux backend is not installed")
inprocess = pytest.importorskip("backends.inprocess", reason="the in-process backend is not installed")
SIZE = (140, 44)
TEAM = "lifetmux"


@pytest.fixture
def tmux_backend(tmux_socket: str) -> Any:
    from backends.tmux_server import TmuxServer

    return tmux_mod.TmuxBackend(TmuxServer(socket_name=tmux_socket))


def _state(pilot: Any, name: str) -> str | None:
    snap = main_screen(pilot).snapshot
    row = next((r for r in snap.rows if r.name == name), None) if snap else None
    return row.state if row else None


async def test_tmux_shell_teammate_gets_messages_typed_and_stop_the_team_ends_all(
    console_factory: Callable[..., CrewmuxApp],
    teams: TeamStore,
    tmux_backend: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHELL", "/bin/sh")
    monkeypatch.setenv("PS1", "$ ")
    app = console_factory(TEAM, backend=tmux_backend, tick=0.5, life=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        spawn = ops.SpawnRequest(name="tsh", kind="shell", backend="tmux", cwd=str(tmp_path))
        tsh = await asyncio.to_thread(ops.spawn, app.ctx, spawn)
        other = ops.SpawnRequest(name="ip", command="sleep 600", backend="in-process", cwd=str(tmp_path))
        ip = await asyncio.to_thread(ops.spawn, app.ctx, other)
        await until(pilot, lambda: _state(pilot, "tsh") == "waiting", timeout=20)
        await asyncio.to_thread(ops.send_message, app.ctx, "tsh", "echo VIA-TMUX > tmux.txt")
        out = tmp_path / "tmux.txt"
        await until(pilot, lambda: out.exists() and "VIA-TMUX" in out.read_text(), timeout=20)
        await until(pilot, lambda: not app.ctx.mailbox.inbox("tsh", unread_only=True))
        await until(pilot, noticed(pilot, "typed a message into tsh"))
        await pilot.press("f10")
        await until(pilot, lambda: type(app.screen).__name__ == "Confirm")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, timeout=30)
    for m in (tsh, ip):
        assert m.crewmux is not None
        assert not is_alive(m.crewmux.pid, m.crewmux.pid_create_time)
    assert tmux_backend.list_panes(TEAM) == []
    assert [m.name for m in teams.load(TEAM).members] == [LEAD_NAME]

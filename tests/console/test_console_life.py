"""The team lives inside the console: liveness, resume on reopen, message delivery, stop the team.

Real in-process teammates on real ptys, a real SIGKILL, a real /bin/sh reading typed messages.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import TYPE_CHECKING, Any

import pytest

from app.console import ops
from app.core.liveness import is_alive
from app.core.paths import LEAD_NAME
from tests.console.console_helpers import main_screen, noticed, notices, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

inprocess = pytest.importorskip("backends.inprocess", reason="the in-process backend is not installed")

SIZE = (140, 44)
TEAM = "life"


def _state(pilot: Any, name: str) -> str | None:
    snap = main_screen(pilot).snapshot
    row = next((r for r in snap.rows if r.name == name), None) if snap else None
    return row.state if row else None


async def _spawn(app: CrewmuxApp, name: str, command: str, cwd: Path, kind: str = "shell") -> Any:
    req = ops.SpawnRequest(name=name, kind=kind, command=command, backend="in-process", cwd=str(cwd))
    return await asyncio.to_thread(ops.spawn, app.ctx, req)


async def test_sigkilled_teammate_is_shown_dead_and_its_task_released(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, tmp_path: Path
) -> None:
    app = console_factory(TEAM, backend=inprocess.InProcessBackend(), tick=0.5, life=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        member = await _spawn(app, "w1", "sleep 600", tmp_path)
        task = app.ctx.tasks.create("long job")
        app.ctx.tasks.claim(task.id, "w1")
        await until(pilot, lambda: _state(pilot, "w1") in ("starting", "working"))
        os.kill(member.crewmux.pid, signal.SIGKILL)
        await until(pilot, lambda: _state(pilot, "w1") == "dead")
        await until(pilot, noticed(pilot, "w1 is dead"))
        released = app.ctx.tasks.get(task.id)
        assert released.owner is None and released.status == "pending"
        assert teams.member(TEAM, "w1").is_active is False
        history = [m.text for m, _ in app.ctx.mailbox.history(LEAD_NAME)]
        assert any("teammate w1 is dead" in t and f"released task(s) {task.id}" in t for t in history)
        assert (
            sum("w1 is dead" in line for line in notices(pilot)) == 1
        )  # the monitor's word and the lead's mail: one line
        await pilot.press("f9")  # restart the dead: the same command, in the console's own backend
        await until(pilot, noticed(pilot, "restarted w1"))
        again = teams.member(TEAM, "w1")
        assert again.crewmux is not None and again.crewmux.pid != member.crewmux.pid and again.is_active
        await until(pilot, lambda: _state(pilot, "w1") in ("starting", "working"))


async def test_reopening_restarts_an_inprocess_teammate_with_its_task(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, tmp_path: Path
) -> None:
    first = console_factory(TEAM, backend=inprocess.InProcessBackend(), life=True)
    async with first.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        old = await _spawn(first, "echo1", "sh -c 'echo ALIVE-$CREWMUX_AGENT; exec cat'", tmp_path)
        task = first.ctx.tasks.create("keep me")
        first.ctx.tasks.claim(task.id, "echo1")
    assert not is_alive(old.crewmux.pid, old.crewmux.pid_create_time)  # in-process teammates die with the console

    backend = inprocess.InProcessBackend()
    second = console_factory(TEAM, backend=backend, tick=0.5, life=True)
    async with second.run_test(size=SIZE) as pilot:
        await until(pilot, noticed(pilot, "restarted echo1"))
        member = teams.member(TEAM, "echo1")
        assert member.crewmux is not None and member.crewmux.pid != old.crewmux.pid
        assert is_alive(member.crewmux.pid, member.crewmux.pid_create_time)
        assert [h.pid for h in backend.list_panes(TEAM)] == [member.crewmux.pid]  # in the console's own backend
        assert member.crewmux.argv == old.crewmux.argv and member.cwd == str(tmp_path)
        kept = second.ctx.tasks.get(task.id)
        assert kept.owner == "echo1"  # its task stayed its own
        screen = main_screen(pilot)
        while screen.selected != "echo1":
            await pilot.press("shift+down")
        await until(pilot, lambda: _state(pilot, "echo1") != "dead")
        term = backend.terminal(ops.handle_of(member))
        await until(pilot, lambda: any("ALIVE-echo1" in ln for ln in term.screen.text_lines()))


async def test_message_to_a_shell_teammate_is_typed_and_marked_read(
    console_factory: Callable[..., CrewmuxApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELL", "/bin/sh")
    monkeypatch.setenv("PS1", "$ ")
    app = console_factory(TEAM, backend=inprocess.InProcessBackend(), tick=0.5, life=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await _spawn(app, "sh1", "", tmp_path, kind="shell")
        await until(pilot, lambda: _state(pilot, "sh1") == "waiting")  # read off its screen: a prompt
        await asyncio.to_thread(ops.send_message, app.ctx, "sh1", "echo DELIVERED-7 > got.txt")
        out = tmp_path / "got.txt"
        await until(pilot, lambda: out.exists() and "DELIVERED-7" in out.read_text(), timeout=20)
        await until(pilot, lambda: not app.ctx.mailbox.inbox("sh1", unread_only=True))
        assert [m.read for m in app.ctx.mailbox.inbox("sh1")] in ([True], [])  # read, maybe archived
        await until(pilot, noticed(pilot, "typed a message into sh1"))


async def test_stop_the_team_ends_every_teammate_and_quits(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, tmp_path: Path
) -> None:
    app = console_factory(TEAM, backend=inprocess.InProcessBackend(), life=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        a = await _spawn(app, "a", "sleep 600", tmp_path)
        b = await _spawn(app, "b", "sh -c 'trap \"\" TERM; while :; do sleep 1; done'", tmp_path)
        task = app.ctx.tasks.create("b's job")
        app.ctx.tasks.claim(task.id, "b")
        await pilot.press("f10")
        await until(pilot, lambda: type(app.screen).__name__ == "Confirm")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, timeout=30)
    for m in (a, b):
        assert not is_alive(m.crewmux.pid, m.crewmux.pid_create_time)
    assert [m.name for m in teams.load(TEAM).members] == [LEAD_NAME]
    assert teams.exists(TEAM)  # the team itself stays; only its teammates are gone
    store = app.ctx.tasks
    assert store.get(task.id).owner is None

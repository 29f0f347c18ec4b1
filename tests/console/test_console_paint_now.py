"""Shift+Down/Up draws the newly selected teammate as soon as its screen is ready, not at the next
tick of Textual's update timer (a fixed 1/60 s grid that, under load, made the slowest presses wait
up to two frames). The timer is frozen here, and the keys are sent as a terminal sends them (Pilot's
own press and pause draw the screen themselves), so only the selection's own paint can draw."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import pytest
from rich.segment import Segment
from textual import events

from app.console.ops import SpawnRequest, spawn
from app.console.widgets.terminal import TerminalView
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp

inprocess = pytest.importorskip("backends.inprocess", reason="the in-process backend is not installed")


class FrozenTimer:
    """Stands in for the screen's update timer: it never ticks."""

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def stop(self) -> None:
        pass


async def _key_drawn(app: Any, key: str, drawn: list[str], needle: str) -> None:
    """Send ``key`` as the driver does, then let the loop run (no Pilot call) until a line holding
    ``needle`` is drawn; fail after a generous deadline."""
    drawn.clear()
    event = events.Key(key, None)
    event.set_sender(app)
    app._driver.send_message(event)
    deadline = time.monotonic() + 10
    while not any(needle in line for line in drawn):
        assert time.monotonic() < deadline, f"{needle} was not drawn after {key}: {drawn[-3:]}"
        await asyncio.sleep(0.01)


def _freeze_update_timer(screen: Any) -> None:
    screen._update_timer.stop()
    screen._Screen__update_timer = FrozenTimer()  # the private slot behind Screen._update_timer


async def test_shift_down_draws_the_new_teammate_without_a_timer_tick(
    console_factory: Callable[..., CrewmuxApp], team: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    original = TerminalView.render_line

    def recording_line(view: TerminalView, y: int) -> Any:
        strip = original(view, y)
        drawn.append("".join(seg.text for seg in strip if isinstance(seg, Segment)))
        return strip

    monkeypatch.setattr(TerminalView, "render_line", recording_line)
    app = console_factory(team, backend=inprocess.InProcessBackend(), tick=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        screen = main_screen(pilot)
        for name in ("pa", "pb"):
            req = SpawnRequest(name=name, command=f"echo MARK-{name}; exec sleep 600", cwd=str(tmp_path))
            await asyncio.to_thread(spawn, app.ctx, req)
        await until(pilot, lambda: screen.snapshot is not None and {"pa", "pb"} <= set(screen.snapshot.names()))
        while screen.selected != "pa":
            await pilot.press("shift+down")
        await until(pilot, lambda: any("MARK-pa" in line for line in drawn))
        await pilot.pause(0.2)  # what the timer still had to draw is drawn
        _freeze_update_timer(screen)
        await _key_drawn(app, "shift+down", drawn, "MARK-pb")
        assert screen.selected == "pb"
        await _key_drawn(app, "shift+up", drawn, "MARK-pa")
        assert screen.selected == "pa"
        assert not any("MARK-pb" in line for line in drawn)

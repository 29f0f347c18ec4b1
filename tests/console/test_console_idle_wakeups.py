"""An idle console's threads sleep until something happens: no timer per watch, per teammate or
per loop. The directory watches wait with no timeout (woken by a change, or to quit), the
deliverer has no timer while no typed-into agent lives, and quitting still ends every one of them."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest

from app.agents.wake import Waker
from app.core.atomic import atomic_write
from app.core.liveness import create_time
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.watch import DirWatcher
from app.lifecycle.inbox_delivery import DeliveryEvent, InboxDelivery
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import FrameType

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore
    from backends.base import PaneBackend


def test_a_watch_waits_unbounded_until_a_change_or_a_wake(tmp_path: Path) -> None:
    with DirWatcher(tmp_path, {"a.json"}) as watcher:
        threading.Timer(0.05, lambda: atomic_write(tmp_path / "a.json", "{}")).start()
        assert watcher.wait(None) is True, "a change ends an unbounded wait"
        threading.Timer(0.05, watcher.wake).start()
        assert watcher.wait(None) is False, "wake() ends it too, with nothing changed"
        assert watcher.wait(0.01) is False, "a wake is used up"


def _no_backend(kind: str) -> PaneBackend:
    raise AssertionError("no pane is looked at in a team with no typed-into agent")


def _turns(mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, turns: int) -> list[float | None]:
    """Run the deliverer for ``turns`` turns; the timeout each of its waits asked for."""
    asked: list[float | None] = []
    stop = threading.Event()

    def recorded(self: Waker, timeout: float | None) -> bool:
        asked.append(timeout)
        if len(asked) >= turns:
            stop.set()
        return True

    monkeypatch.setattr(Waker, "wait", recorded)
    events: list[DeliveryEvent] = []
    InboxDelivery(mailbox, _no_backend).run(stop, events.append, idle=1.0)
    assert events == []
    return asked


def test_the_deliverer_has_no_timer_without_a_typed_into_agent(
    teams: TeamStore, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = subprocess.Popen(["sleep", "300"])
    try:
        rt = MemberRuntime(pid=proc.pid, pid_create_time=create_time(proc.pid), agent_kind="command")
        teams.join(team, "m0", backend_type="tmux", pane_id="%1", runtime=rt)
        assert _turns(Mailbox(teams, team), monkeypatch, 2) == [None, None], "it waits for a file to change"
    finally:
        proc.kill()
        proc.wait()


def test_a_live_typed_into_agent_keeps_the_deliverers_timer(
    teams: TeamStore, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its screen is watched for permission questions: looked at every ``idle`` s, as before."""
    proc = subprocess.Popen(["sleep", "300"])
    try:
        rt = MemberRuntime(pid=proc.pid, pid_create_time=create_time(proc.pid), agent_kind="codex")
        teams.join(team, "cx", backend_type="tmux", pane_id="%1", runtime=rt)
        monkeypatch.setattr("app.lifecycle.permission_watch.PermissionWatch.check", lambda self: [])
        assert _turns(Mailbox(teams, team), monkeypatch, 1) == [1.0]
    finally:
        proc.kill()
        proc.wait()


async def test_quitting_ends_the_console_threads_that_sleep_until_a_change(
    console_factory: Callable[..., CrewmuxApp], team: str
) -> None:
    """The watches, the liveness monitor and the deliverer wait with no timeout; unmounting wakes them."""
    app = console_factory(team, life=True)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None)
        await until(pilot, lambda: len(_asleep()) == 7)  # 3 watches, the ledger's, liveness, deliverer + its waker
    deadline = time.monotonic() + 10
    while _asleep():
        assert time.monotonic() < deadline, f"still asleep after quitting: {_asleep()}"
        time.sleep(0.01)


def _asleep() -> list[str]:
    """The threads of this process sleeping in one of the console's unbounded waits."""
    waits = {"DirWatcher.wait", "ExitWatch.wait", "Waker.wait"}
    found = []
    for frame in sys._current_frames().values():
        f: FrameType | None = frame
        while f is not None:
            if f.f_code.co_qualname in waits:
                found.append(f.f_code.co_qualname)
                break
            f = f.f_back
    return found

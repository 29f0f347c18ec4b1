"""Deaths told by the kernel: an :class:`ExitWatch` wakes when a watched process ends (any parent),
not at a poll, and a monitor between checks waits on it with no timer while nothing is due."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import TYPE_CHECKING

import pytest

from app.core.exits import ExitWatch
from app.core.heartbeat import beat
from app.core.liveness import create_time
from app.core.models import MemberRuntime
from app.core.watch import DirWatcher
from app.lifecycle.monitor import LivenessMonitor

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from app.core.team import TeamStore

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="pidfds are Linux-only")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "300"])
    yield proc
    proc.kill()
    proc.wait()


def _timeouts_asked(monitor: LivenessMonitor) -> list[float | None]:
    """The timeouts ``monitor.wait`` (a 2 s check interval) asks of its watch, waiting on none of them."""
    timeouts: list[float | None] = []

    class Recording(ExitWatch):
        def wait(self, timeout: float | None) -> bool:
            timeouts.append(timeout)
            return False

    with Recording([]) as watch:
        monitor.wait(watch, interval=2.0)
    return timeouts


def test_the_watch_wakes_when_a_process_ends_and_not_before(sleeper: subprocess.Popen[bytes]) -> None:
    with ExitWatch([]) as watch:
        watch.track({"m": (sleeper.pid, create_time(sleeper.pid))})
        assert watch.event_driven
        assert watch.wait(0.05) is False, "a live process wakes nothing"
        sleeper.kill()
        assert watch.wait(30) is True
        assert watch.take_ended() == {"m"}


def test_a_process_already_gone_or_reused_counts_as_ended(sleeper: subprocess.Popen[bytes]) -> None:
    with ExitWatch([]) as watch:
        watch.track({"reused": (sleeper.pid, 12345.0)})  # a start time that is not this process's
        assert watch.wait(0) is True and watch.take_ended() == {"reused"}


def test_wake_interrupts_an_unbounded_wait() -> None:
    with ExitWatch([]) as watch:
        threading.Timer(0.05, watch.wake).start()
        assert watch.wait(None) is True


def _join(teams: TeamStore, team: str, name: str, pid: int, kind: str = "command") -> None:
    rt = MemberRuntime(pid=pid, pid_create_time=create_time(pid), agent_kind=kind)
    teams.join(team, name, backend_type="tmux", runtime=rt)


def test_an_idle_team_is_waited_on_with_no_timer(teams: TeamStore, sleeper: subprocess.Popen[bytes]) -> None:
    """Nothing periodic per teammate: between checks the monitor waits for an event only."""
    teams.create("w")
    _join(teams, "w", "m0", sleeper.pid)
    monitor = LivenessMonitor(teams, "w")
    assert monitor.check_once() == []
    timeouts = _timeouts_asked(monitor)
    assert timeouts == [None], "a team of live, budget-less teammates needs no timed check"


def test_a_heartbeat_is_checked_again_when_it_would_go_stale(teams: TeamStore) -> None:
    teams.create("h")
    _join(teams, "h", "w0", os.getpid(), kind="worker")
    beat(teams.paths("h"), "w0")
    monitor = LivenessMonitor(teams, "h", stale_after=5.0)
    assert monitor.check_once() == []
    timeouts = _timeouts_asked(monitor)
    assert timeouts[0] is not None and 4.0 < timeouts[0] <= 5.1


def test_a_death_is_noticed_at_once_not_at_the_next_tick(teams: TeamStore, sleeper: subprocess.Popen[bytes]) -> None:
    """The check interval is an hour: only the kernel's word can bring the death in time."""
    teams.create("d")
    _join(teams, "d", "m0", sleeper.pid)
    monitor = LivenessMonitor(teams, "d")
    thread, stop = monitor.start(interval=3600.0)
    try:
        deadline = time.monotonic() + 30
        while monitor._watch is None or not monitor.alive:  # the first check is done, its process watched
            assert time.monotonic() < deadline, "the monitor never made its first check"
            time.sleep(0.01)
        sleeper.kill()
        sleeper.wait()
        while not monitor.found:
            assert time.monotonic() < deadline, "the death was not noticed"
            time.sleep(0.01)
        assert [d.name for d in monitor.found] == ["m0"]
    finally:
        stop.set()  # wakes the monitor: it ends at once, though its interval is an hour
        thread.join(10)
    assert not thread.is_alive()


def test_closing_the_watch_closes_its_directory_watch(tmp_path: Path) -> None:
    """A monitor made and ended many times (a console opened again and again) leaks no inotify descriptor."""
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        with ExitWatch([DirWatcher(tmp_path, {"config.json"})]) as watch:
            assert watch.wait(0) is False
    deadline = time.monotonic() + 10
    while len(os.listdir("/proc/self/fd")) > before:  # inotify descriptors are closed on a helper thread
        assert time.monotonic() < deadline, f"{len(os.listdir('/proc/self/fd')) - before} descriptors left open"
        time.sleep(0.01)

"""Shutdown that always ends, and resume, with real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from app.core.liveness import create_time, is_alive
from app.core.models import MemberRuntime
from app.core.tasks import TaskStore
from app.lifecycle.resume import resume_team
from app.lifecycle.shutdown import shutdown_member, shutdown_team
from tests.agents.teammate_helpers import Workers, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.team import TeamStore


def test_idle_worker_approves_and_is_removed(teams: TeamStore, workers: Workers) -> None:
    teams.create("s")
    proc = workers.start("s", "w")
    wait_until(lambda: teams.load("s").member("w") is not None, 20, "worker joined")
    result = shutdown_member(teams, "s", "w", timeout=15)
    assert result.outcome == "approved" and result.removed
    assert proc.wait(10) == 0
    assert teams.load("s").member("w") is None


def test_mid_task_rejects_then_force_stops(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("m")
    store = TaskStore(teams.paths("m"))
    started = tmp_path / "started"
    task = store.create("long", metadata={"command": f"touch {started}; sleep 120"})
    proc = workers.start("m", "w")
    wait_until(started.exists, 20, "task started")
    result = shutdown_member(teams, "m", "w", timeout=15)
    assert result.outcome == "rejected" and f"task {task.id}" in result.reason
    assert not result.removed and proc.poll() is None
    forced = shutdown_member(teams, "m", "w", timeout=15, force=True)
    assert forced.outcome == "approved" and forced.removed
    assert proc.wait(10) == 0
    after = store.get(task.id)
    assert after.status == "pending" and after.owner is None
    store.close()


def test_teammate_that_ignores_everything_is_gone_within_bound(teams: TeamStore, tmp_path: Path) -> None:
    teams.create("deaf")
    code = (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\ntime.sleep(600)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
        teams.join("deaf", "stubborn", runtime=MemberRuntime(pid=proc.pid, pid_create_time=create_time(proc.pid)))
        store = TaskStore(teams.paths("deaf"))
        task = store.create("owned")
        store.claim(task.id, "stubborn")
        store.update(task.id, status="in_progress")
        timeout = 2.0
        t0 = time.monotonic()
        result = shutdown_member(teams, "deaf", "stubborn", timeout=timeout)
        elapsed = time.monotonic() - t0
        assert result.outcome == "timeout"
        proc.wait(5)  # (psutil may already have reaped it: the exit code is not ours to read)
        assert not is_alive(proc.pid)
        assert result.killed == [proc.pid]
        assert elapsed < timeout + 5, elapsed
        assert result.removed and result.released == [task.id]
        assert teams.load("deaf").member("stubborn") is None
        store.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_resume_restarts_dead_worker_with_its_task(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("r")
    store = TaskStore(teams.paths("r"))
    first, done = tmp_path / "first", tmp_path / "done"
    task = store.create(
        "resumable", metadata={"command": f"if [ -f {first} ]; then touch {done}; else touch {first}; sleep 120; fi"}
    )
    store.create("later", metadata={"command": "true"})
    victim = workers.start("r", "w1")
    wait_until(first.exists, 20, "first run started")
    assert store.get(task.id).owner == "w1"
    alive = workers.start("r", "w2")  # only now, so that w1 surely holds the slow task
    wait_until(lambda: store.get("2").status == "completed", 20, "w2 did the other task")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    report = {e.name: e for e in resume_team(teams, "r")}
    restarted_pid = teams.load("r").member("w1").crewmux.pid  # type: ignore[union-attr]
    try:
        assert report["w2"].action == "attached" and str(alive.pid) in report["w2"].detail
        assert report["w1"].action == "restarted"
        wait_until(lambda: store.get(task.id).status == "completed", 30, "restarted worker finished its task")
        assert done.exists() and (store.get(task.id).metadata or {}).get("completedBy") == "w1"
    finally:
        if restarted_pid and is_alive(restarted_pid):
            os.killpg(restarted_pid, signal.SIGKILL)
    store.close()


def test_shutdown_team_stops_everyone_in_parallel(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("all")
    code = (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\ntime.sleep(600)"
    )
    deaf = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True) for _ in range(2)
    ]
    try:
        for i, p in enumerate(deaf):
            assert p.stdout is not None and p.stdout.readline() == b"up\n"
            teams.join("all", f"deaf{i}", runtime=MemberRuntime(pid=p.pid, pid_create_time=create_time(p.pid)))
        workers.start("all", "w")
        wait_until(lambda: teams.load("all").member("w") is not None, 20, "worker joined")
        t0 = time.monotonic()
        results = {r.name: r for r in shutdown_team(teams, "all", timeout=2)}
        assert time.monotonic() - t0 < 2 + 5
        assert results["w"].outcome == "approved"
        assert results["deaf0"].outcome == results["deaf1"].outcome == "timeout"
        assert [m.name for m in teams.load("all").members] == ["team-lead"]
        assert not any(is_alive(p.pid) for p in deaf)
    finally:
        for p in deaf:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)

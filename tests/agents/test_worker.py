"""The built-in worker, end to end with real processes: a DAG, a SIGKILL mid-task, plan mode."""

from __future__ import annotations

import os
import random
import signal
from typing import TYPE_CHECKING

from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.protocol import (
    IdleNotification,
    PlanApprovalRequest,
    PlanApprovalResponse,
    TaskCompleted,
    parse_protocol,
    protocol_text,
)
from app.core.tasks import TaskStore
from app.lifecycle.monitor import LivenessMonitor
from tests.agents.teammate_helpers import Workers, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.team import TeamStore


def _lead_protocol(teams: TeamStore, team: str) -> list[object]:
    return [parse_protocol(m.text) for m in Mailbox(teams, team).inbox(LEAD_NAME)]


def test_three_workers_finish_a_30_task_dag(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("dag")
    store = TaskStore(teams.paths("dag"))
    out = tmp_path / "done"
    out.mkdir()
    rng = random.Random(7)
    deps: dict[str, list[str]] = {}
    for i in range(1, 31):
        blockers = sorted({str(rng.randint(1, i - 1)) for _ in range(rng.randint(0, 2))}, key=int) if i > 1 else []
        # Each command fails if any blocker's marker is missing: running out of order is caught.
        checks = "".join(f"test -f {out}/{b} && " for b in blockers)
        store.create(f"step {i}", blocked_by=blockers, metadata={"command": f"{checks}touch {out}/{i}"})
        deps[str(i)] = blockers
    for name in ("w1", "w2", "w3"):
        workers.start("dag", name)

    def all_done() -> bool:
        return all(t.status == "completed" for t in store.list_tasks())

    wait_until(all_done, 60, "all 30 tasks completed")
    tasks = store.list_tasks()
    assert sorted(int(p.name) for p in out.iterdir()) == list(range(1, 31))
    assert all((t.metadata or {}).get("failure") is None for t in tasks)
    by = {t.id: (t.metadata or {}).get("completedBy") for t in tasks}
    assert set(by.values()) <= {"w1", "w2", "w3"}

    def reported() -> list[int]:
        done = [p for p in _lead_protocol(teams, "dag") if isinstance(p, TaskCompleted) and p.status == "completed"]
        return sorted(int(c.task_id) for c in done)

    # The lead is told right after each task file is marked completed.
    wait_until(lambda: len(reported()) >= 30, 20, "30 task_completed messages")
    assert reported() == list(range(1, 31))
    store.close()


def test_failed_task_is_kept_and_the_lead_told(teams: TeamStore, workers: Workers) -> None:
    teams.create("f")
    store = TaskStore(teams.paths("f"))
    bad = store.create("fails", metadata={"command": "echo boom; exit 3"})
    workers.start("f", "w")
    wait_until(lambda: (store.get(bad.id).metadata or {}).get("failure"), 20, "failure recorded")
    task = store.get(bad.id)
    assert task.status == "pending" and task.owner == "w"
    assert task.metadata and task.metadata["failure"]["exitCode"] == 3
    msgs = wait_until(
        lambda: [
            p for p in _lead_protocol(teams, "f") if isinstance(p, IdleNotification) and p.idle_reason == "failed"
        ],
        20,
        "idle notification saying failed",
    )
    assert msgs
    assert "boom" in workers.log("w")
    store.close()


def test_idle_says_why(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("idle")
    store = TaskStore(teams.paths("idle"))
    gate = store.create("gate")  # no command, nobody can claim it once owned by the lead
    store.claim(gate.id, LEAD_NAME)
    store.create("waits", blocked_by=[gate.id], metadata={"command": "true"})
    workers.start("idle", "w")

    def blocked_note() -> list[IdleNotification]:
        return [
            p for p in _lead_protocol(teams, "idle") if isinstance(p, IdleNotification) and p.idle_reason == "blocked"
        ]

    notes = wait_until(blocked_note, 20, "blocked idle notification")
    assert isinstance(notes, list) and notes[0].blocked_by == [gate.id]
    store.update(gate.id, status="completed")
    wait_until(lambda: store.get("2").status == "completed", 20, "blocked task runs once unblocked")
    store.close()


def test_sigkill_mid_task_is_rerun_by_another(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("k")
    store = TaskStore(teams.paths("k"))
    first, done = tmp_path / "first-run", tmp_path / "done"
    cmd = f"if [ -f {first} ]; then touch {done}; else touch {first}; sleep 120; fi"
    task = store.create("slow", metadata={"command": cmd})
    victim = workers.start("k", "victim")
    wait_until(lambda: first.exists(), 20, "first run started")
    assert store.get(task.id).owner == "victim"
    monitor = LivenessMonitor(teams, "k", stale_after=5)
    thread, stop = monitor.start(interval=0.3)
    try:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        workers.start("k", "rescuer")
        wait_until(lambda: store.get(task.id).status == "completed", 30, "task re-run by the rescuer")
    finally:
        stop.set()
        thread.join(5)
    assert done.exists()
    assert (store.get(task.id).metadata or {}).get("completedBy") == "rescuer"
    assert [d.name for d in monitor.found] == ["victim"] and monitor.found[0].released == [task.id]
    notes = [m.text for m in Mailbox(teams, "k").inbox(LEAD_NAME) if "is dead" in m.text]
    assert notes and f"released task(s) {task.id}" in notes[0]
    store.close()


def test_plan_mode_waits_for_approval(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("p")
    store = TaskStore(teams.paths("p"))
    marker = tmp_path / "ran"
    task = store.create("planned", metadata={"command": f"touch {marker}"})
    workers.start("p", "w", "--plan")

    def request() -> list[PlanApprovalRequest]:
        return [p for p in _lead_protocol(teams, "p") if isinstance(p, PlanApprovalRequest)]

    reqs = wait_until(request, 20, "plan approval request")
    assert isinstance(reqs, list)
    assert f"touch {marker}" in reqs[0].plan_content
    assert not marker.exists() and store.get(task.id).status == "in_progress"
    answer = PlanApprovalResponse(request_id=reqs[0].request_id, approved=True, sender=LEAD_NAME)
    Mailbox(teams, "p").send("w", protocol_text(answer), sender=LEAD_NAME)
    wait_until(lambda: store.get(task.id).status == "completed", 20, "task run after approval")
    assert marker.exists()
    store.close()


def test_stopped_heartbeat_marks_dead_and_releases(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("hb")
    store = TaskStore(teams.paths("hb"))
    started = tmp_path / "started"
    task = store.create("hangs", metadata={"command": f"touch {started}; sleep 120"})
    frozen = workers.start("hb", "frozen")
    wait_until(started.exists, 20, "task started")
    os.killpg(frozen.pid, signal.SIGSTOP)  # alive, but no more heartbeats
    monitor = LivenessMonitor(teams, "hb", stale_after=1.5)
    dead = wait_until(monitor.check_once, 20, "stale heartbeat noticed")
    assert isinstance(dead, list) and dead[0].name == "frozen" and "no heartbeat" in dead[0].reason
    assert dead[0].released == [task.id]
    assert store.get(task.id).owner is None and store.get(task.id).status == "pending"
    assert teams.member("hb", "frozen").is_active is False
    wait_until(lambda: frozen.poll() is not None, 10, "the hung worker was ended")
    assert monitor.check_once() == []  # reported once, not on every check
    store.close()

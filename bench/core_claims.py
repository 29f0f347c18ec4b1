"""Claim throughput and claim cost: crewmux's TaskStore against the Claude Code baseline.

The task set has dependencies: chains of five (each task waits on the one before), and every
25th task also waits on the tails of the four chains before it (a fan-in). Both sides read the
same files, written once in the shared on-disk format by :func:`write_tasks`.

Each claimer is its own process. It claims the lowest available task, marks it completed, and
goes on until every task is completed; when nothing is available but work remains (everything
ready is held by others) it waits a millisecond and asks again.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from app.core.errors import ClaimRefused, LockTimeout
from app.core.models import Task
from app.core.paths import TeamPaths
from app.core.tasks import TaskStore
from bench.baseline_claude import BaselineTasks

TEAM = "bench"
CHAIN = 5
FAN_IN_EVERY = 25


def blockers_of(i: int) -> list[int]:
    """The ids task ``i`` waits on (1-based ids)."""
    out: list[int] = []
    if i % CHAIN != 1:
        out.append(i - 1)
    if i % FAN_IN_EVERY == 0:
        out.extend(i - k * CHAIN for k in range(1, 5) if i - k * CHAIN > 0)
    return out


def write_tasks(home: Path, n: int) -> TeamPaths:
    """Write ``n`` pending tasks with symmetric edges as crewmux stores them; returns the paths."""
    paths = TeamPaths(home=home, team=TEAM)
    paths.tasks_dir.mkdir(parents=True, exist_ok=True)
    blocks: dict[int, list[str]] = {i: [] for i in range(1, n + 1)}
    for i in range(1, n + 1):
        for b in blockers_of(i):
            blocks[b].append(str(i))
    for i in range(1, n + 1):
        task = Task(
            id=str(i),
            subject=f"task {i}",
            description="benchmark task",
            blocked_by=[str(b) for b in blockers_of(i)],
            blocks=blocks[i],
        )
        paths.task(str(i)).write_text(task.to_json())
    paths.highwatermark.write_text(str(n))
    return paths


def prepare_ours(paths: TeamPaths) -> None:
    """Build crewmux's ready index once, outside the timed part."""
    store = TaskStore(paths)
    store.rebuild_index()
    store.close()


@dataclass(frozen=True)
class ClaimRun:
    """The outcome of one throughput run."""

    kind: str
    procs: int
    tasks: int
    claimed: int
    seconds: float
    capped: bool
    lock_timeouts: int = 0  # claims given up after waiting the whole lock timeout

    @property
    def per_second(self) -> float:
        return self.claimed / self.seconds if self.seconds > 0 else 0.0


def _set_fsync(fsync: bool) -> None:
    os.environ["CREWMUX_FSYNC"] = "1" if fsync else "0"


def _claimer(
    kind: str,
    home: str,
    agent: str,
    total: int,
    fsync: bool,
    go: Any,
    done: Synchronized[int],
    stop_at: Synchronized[float],
    out: Any,
    starved: Synchronized[int],
) -> None:
    _set_fsync(fsync)
    paths = TeamPaths(home=Path(home), team=TEAM)
    store = TaskStore(paths) if kind == "crewmux" else None
    base = BaselineTasks(paths.tasks_dir) if kind == "baseline" else None
    mine: list[int] = []
    go.wait()  # a barrier: every claimer starts together
    while done.value < total and time.monotonic() < stop_at.value:
        task_id: str | None
        if store is not None:
            try:
                task_id = store.claim(None, agent).id
                store.update(task_id, status="completed")
            except ClaimRefused:
                task_id = None
            except LockTimeout:  # starved of the list lock for its whole timeout: counted, not fatal
                with starved.get_lock():
                    starved.value += 1
                continue
        else:
            assert base is not None
            task_id = base.claim_lowest(agent)
            if task_id is not None:
                base.complete(task_id)
        if task_id is None:
            time.sleep(0.001)
            continue
        mine.append(int(task_id))
        with done.get_lock():
            done.value += 1
    if store is not None:
        store.close()
    out.put(mine)


def run_claimers(kind: str, home: Path, procs: int, total: int, *, fsync: bool, cap: float) -> ClaimRun:
    """``procs`` claimer processes over the ``total`` tasks under ``home``; stops early at ``cap`` s.

    Raises AssertionError if a task was claimed twice (the run would be meaningless).
    """
    ctx = mp.get_context("fork")
    go = ctx.Barrier(procs + 1)
    done: Synchronized[int] = ctx.Value("i", 0)
    stop_at: Synchronized[float] = ctx.Value("d", float("inf"))
    out = ctx.Queue()
    starved: Synchronized[int] = ctx.Value("i", 0)
    workers = [
        ctx.Process(
            target=_claimer,
            args=(kind, str(home), f"w{n}", total, fsync, go, done, stop_at, out, starved),
            daemon=True,
        )
        for n in range(procs)
    ]
    for w in workers:
        w.start()
    stop_at.value = time.monotonic() + 120 + cap
    go.wait(timeout=120)
    started = time.monotonic()
    stop_at.value = started + cap
    claimed: list[int] = []
    for _ in workers:
        claimed.extend(out.get(timeout=cap + 120))
    elapsed = time.monotonic() - started
    for w in workers:
        w.join(timeout=30)
    if len(claimed) != len(set(claimed)):
        raise AssertionError(f"{kind}: a task was claimed twice")
    return ClaimRun(kind, procs, total, len(claimed), elapsed, capped=len(claimed) < total, lock_timeouts=starved.value)


def claim_cost(kind: str, home: Path, total: int, claims: int, *, fsync: bool) -> float:
    """Mean µs of one ``claim`` of the lowest available task (its completion is not timed)."""
    _set_fsync(fsync)
    paths = TeamPaths(home=home, team=TEAM)
    spent = 0.0
    done = 0
    if kind == "crewmux":
        store = TaskStore(paths)
        try:
            while done < claims:
                t0 = time.perf_counter()
                task = store.claim(None, "solo")
                spent += time.perf_counter() - t0
                store.update(task.id, status="completed")
                done += 1
        finally:
            store.close()
    else:
        base = BaselineTasks(paths.tasks_dir)
        while done < claims:
            t0 = time.perf_counter()
            task_id = base.claim_lowest("solo")
            spent += time.perf_counter() - t0
            assert task_id is not None
            base.complete(task_id)
            done += 1
    return spent / done * 1e6

"""The account of a run: iterations, failures, retries, time and cost per iteration."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.orchestrate.checkpoint import FAILURES

if TYPE_CHECKING:
    from app.orchestrate.checkpoint import Checkpoint, IterationRecord


@dataclass
class Summary:
    """What ``crewmux iterate`` prints at the end (and as JSON with ``--json``)."""

    status: str
    stop_reason: str
    committed: int
    runs: int
    failures: int
    retries: int
    wall_s: float
    cpu_s: float
    tokens: int | None
    cost_usd: float | None
    remaining: int
    completed: int
    per_iteration: list[dict[str, Any]] = field(default_factory=list)

    def to_doc(self) -> dict[str, Any]:
        """The JSON form (camelCase keys, as the rest of crewmux's JSON output)."""
        return {
            "status": self.status,
            "stopReason": self.stop_reason,
            "iterations": self.committed,
            "runs": self.runs,
            "failures": self.failures,
            "retries": self.retries,
            "wallSeconds": round(self.wall_s, 3),
            "cpuSeconds": round(self.cpu_s, 3),
            "tokens": self.tokens,
            "costUsd": self.cost_usd,
            "remainingTasks": self.remaining,
            "completedTasks": self.completed,
            "perIteration": self.per_iteration,
        }

    def to_text(self) -> str:
        """A few human lines."""
        lines = [
            f"status {self.status} ({self.stop_reason}): {self.committed} iteration(s) committed, "
            f"{self.runs} process(es) run this time, {self.failures} failure(s), {self.retries} retries",
            f"time {self.wall_s:.1f}s wall, {self.cpu_s:.2f}s CPU"
            + (f", {self.tokens} tokens" if self.tokens is not None else "")
            + (f", ${self.cost_usd:.4f}" if self.cost_usd is not None else ""),
        ]
        if self.remaining or self.completed:
            lines.append(f"tasks {self.completed} completed, {self.remaining} remaining")
        for row in self.per_iteration:
            task = f" task {row['taskId']}" if row["taskId"] else ""
            dur = f"{row['durationSeconds']:.2f}s" if row["durationSeconds"] is not None else "?"
            cpu = f"{row['cpuSeconds']:.2f}s" if row["cpuSeconds"] is not None else "?"
            cost = f" ${row['costUsd']:.4f}" if row["costUsd"] is not None else ""
            lines.append(f"  #{row['number']}.{row['attempt']}{task} {row['outcome']} {dur} cpu {cpu}{cost}")
        return "\n".join(lines)


def _row(r: IterationRecord) -> dict[str, Any]:
    return {
        "number": r.number,
        "attempt": r.attempt,
        "taskId": r.task_id,
        "outcome": r.outcome,
        "exitStatus": r.exit_status,
        "durationSeconds": r.duration_s,
        "cpuSeconds": r.cpu_s,
        "tokens": r.tokens,
        "costUsd": r.cost_usd,
    }


def summarize(cp: Checkpoint, since: float, stop_reason: str) -> Summary:
    """The summary of the processes started at or after ``since`` (this invocation)."""
    mine = [r for r in cp.iterations if r.started_at >= since]
    tokens = [r.tokens for r in mine if r.tokens is not None]
    costs = [r.cost_usd for r in mine if r.cost_usd is not None]
    return Summary(
        status=cp.status,
        stop_reason=stop_reason or cp.status,
        committed=cp.iteration if not cp.completed else len(cp.completed),
        runs=len(mine),
        failures=sum(1 for r in mine if r.outcome in FAILURES),
        retries=sum(1 for r in mine if r.attempt > 1),
        wall_s=time.time() - since,
        cpu_s=sum(r.cpu_s or 0.0 for r in mine),
        tokens=sum(tokens) if tokens else None,
        cost_usd=sum(costs) if costs else None,
        remaining=len(cp.remaining),
        completed=len(cp.completed),
        per_iteration=[_row(r) for r in mine],
    )

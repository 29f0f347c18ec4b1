"""What the serial loop and the parallel runner share: options, the run dir, starting a process.

Each process is started with, in its environment:

* ``CREWMUX_CHECKPOINT`` — the checkpoint's path; ``CREWMUX_ITERATION`` — its number;
  ``CREWMUX_ATTEMPT`` — 1, or more on a retry;
* ``CREWMUX_HEARTBEAT`` — a file to touch now and then (see the heartbeat timeout);
* ``CREWMUX_LEARNINGS`` — a JSON file of earlier failures; ``CREWMUX_LAST_LEARNING`` — the newest;
* ``CREWMUX_USAGE`` — where it may write ``{"tokens": n, "cost_usd": x}``;
* in parallel mode also ``CREWMUX_TASK_ID``, ``CREWMUX_TASK_SUBJECT``, ``CREWMUX_TASK_DESCRIPTION``,
  ``CREWMUX_RESULT`` (where it writes its result as JSON) and ``CREWMUX_TEAM``.

Run files (logs, heartbeats, pid records) live in ``.<checkpoint name>.run/`` beside it.

Fault points: ``CREWMUX_ITERATE_FAULT=<point>[:<n>]`` makes the orchestrator SIGKILL itself the
n-th time it reaches ``<point>`` (``intent-saved``, ``child-exited``, ``folded``) — how the tests
prove that a crash at the worst moment loses and repeats nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.atomic import ensure_dir
from app.orchestrate import learnings as learn
from app.orchestrate.process import HeadlessProcess, Launch, child_pid_file, kill_orphan
from app.orchestrate.teamsync import default_team

if TYPE_CHECKING:
    from app.orchestrate.checkpoint import Intent, Learning, TaskSpec
    from app.orchestrate.process import IterationProcess
    from backends.base import PaneBackend


@dataclass(frozen=True)
class Options:
    """Everything ``crewmux iterate`` was asked to do."""

    checkpoint: Path
    argv: list[str]
    home: Path
    max_iterations: int | None = None
    until_done: bool = False
    parallel: int = 0
    team: str | None = None
    resume: bool = False
    iteration_timeout: float | None = None
    heartbeat_timeout: float | None = None
    retries: int = 2
    backend: str | None = None
    cwd: Path = field(default_factory=Path.cwd)
    extra_env: dict[str, str] = field(default_factory=dict)


_fault_counts: dict[str, int] = {}


def fault(point: str) -> None:
    """SIGKILL this process if ``$CREWMUX_ITERATE_FAULT`` names ``point`` (test hook)."""
    wanted = os.environ.get("CREWMUX_ITERATE_FAULT", "")
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    _fault_counts[point] = _fault_counts.get(point, 0) + 1
    if _fault_counts[point] >= int(nth or "1"):
        os.kill(os.getpid(), signal.SIGKILL)


class RunDir:
    """``.<checkpoint>.run/``: logs, heartbeats, results and pid records of the processes."""

    def __init__(self, checkpoint: Path) -> None:
        self.root = ensure_dir(checkpoint.with_name(f".{checkpoint.name}.run"))

    def _stem(self, number: int, task_id: str | None) -> str:
        return f"iter-{number}" + (f"-task-{_safe(task_id)}" if task_id else "")

    def log(self, number: int, attempt: int, task_id: str | None = None) -> Path:
        return self.root / f"{self._stem(number, task_id)}-a{attempt}.log"

    def heartbeat(self, number: int, task_id: str | None = None) -> Path:
        return self.root / f"{self._stem(number, task_id)}.heartbeat"

    def usage(self, number: int, task_id: str | None = None) -> Path:
        return self.root / f"{self._stem(number, task_id)}.usage.json"

    def result(self, number: int, task_id: str) -> Path:
        return self.root / f"{self._stem(number, task_id)}.result.json"

    def pid_file(self, number: int, task_id: str | None = None) -> Path:
        return self.root / f"{self._stem(number, task_id)}.pid.json"

    def learnings(self, number: int, task_id: str | None = None) -> Path:
        return self.root / f"{self._stem(number, task_id)}.learnings.json"

    def cleanup(self, number: int, task_id: str | None = None) -> None:
        """Remove a folded-in process's run files, all but its log."""
        pid = self.pid_file(number, task_id)
        paths = [self.heartbeat(number, task_id), self.usage(number, task_id), pid, child_pid_file(pid)]
        paths.append(self.learnings(number, task_id))
        if task_id is not None:
            paths.append(self.result(number, task_id))
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:40]


def start(
    options: Options,
    run: RunDir,
    *,
    number: int,
    attempt: int,
    learned: list[Learning],
    task: TaskSpec | None = None,
    team: str | None = None,
    backend: PaneBackend | None = None,
) -> IterationProcess:
    """Start one fresh process for iteration ``number`` (or for ``task``) and record its pid.

    With ``backend`` it runs in a new pane of the team's (see :mod:`app.orchestrate.panes`).
    """
    task_id = task.id if task else None
    env = {**os.environ, **options.extra_env}
    for stale in ("CREWMUX_TASK_ID", "CREWMUX_RESULT", "CREWMUX_LAST_LEARNING"):
        env.pop(stale, None)
    env.update(
        CREWMUX_CHECKPOINT=str(options.checkpoint),
        CREWMUX_ITERATION=str(number),
        CREWMUX_ATTEMPT=str(attempt),
        CREWMUX_HEARTBEAT=str(run.heartbeat(number, task_id)),
        CREWMUX_USAGE=str(run.usage(number, task_id)),
    )
    env.update(learn.env_for(run.learnings(number, task_id), learn.relevant(learned, task_id)))
    argv = options.argv
    if task is not None:
        env.update(
            CREWMUX_TASK_ID=task.id,
            CREWMUX_TASK_SUBJECT=task.subject,
            CREWMUX_TASK_DESCRIPTION=task.description,
            CREWMUX_RESULT=str(run.result(number, task.id)),
        )
        if team:
            env["CREWMUX_TEAM"] = team
        if task.command:
            argv = ["/bin/sh", "-c", task.command]
        with contextlib.suppress(FileNotFoundError):
            run.result(number, task.id).unlink()
    launch = Launch(
        argv=argv,
        env=env,
        cwd=options.cwd,
        log=run.log(number, attempt, task_id),
        heartbeat=run.heartbeat(number, task_id),
        usage=run.usage(number, task_id),
        pid_file=run.pid_file(number, task_id),
        heartbeat_timeout=options.heartbeat_timeout,
        iteration_timeout=options.iteration_timeout,
    )
    if backend is not None:
        from app.orchestrate.panes import PaneProcess

        name = f"task-{_safe(task_id)}" if task_id else f"iter-{number}"
        pane_team = team or default_team(options.checkpoint)
        return PaneProcess(launch, backend, team=pane_team, name=name)
    return HeadlessProcess(launch)


def kill_orphans(run: RunDir, intents: list[Intent]) -> None:
    """Kill what a dead orchestrator's in-flight processes left running (before reading their writes)."""
    for intent in intents:
        kill_orphan(run.pid_file(intent.number, intent.task_id), run.heartbeat(intent.number, intent.task_id))

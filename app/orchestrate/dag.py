"""Parallel mode: the checkpoint's tasks as a DAG, up to N fresh processes at once.

A task whose dependencies are all completed is *ready*; up to N ready tasks run at once, each in
its own process with ``$CREWMUX_TASK_ID``; when one finishes, the tasks it unblocked start next.
In this mode only the orchestrator writes the checkpoint: a task's process writes its result (any
JSON) to ``$CREWMUX_RESULT`` and the orchestrator folds it into ``completed``. Exactly once: a
task's intent is saved before its process starts; after a crash, ``--resume`` counts a task whose
result file is there as done and runs the others again (so a task that writes no result is run
at least once, not exactly once).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.errors import BadInput, DependencyCycle
from app.orchestrate import learnings as learn
from app.orchestrate.checkpoint import Checkpoint, Intent, Loaded, TaskResult, TaskSpec
from app.orchestrate.loop import Orchestration, record_of, recovered_record
from app.orchestrate.runner import Options, fault, start
from app.orchestrate.teamsync import TeamMirror, default_team

if TYPE_CHECKING:
    from pathlib import Path

    from app.orchestrate.process import Finished, IterationProcess

POLL = 0.01


def topo_order(cp: Checkpoint) -> list[TaskSpec]:
    """The remaining tasks, dependencies first. Raises BadInput (unknown dep) or DependencyCycle."""
    done = {r.id for r in cp.completed}
    by_id = {t.id: t for t in cp.remaining}
    if len(by_id) != len(cp.remaining):
        raise BadInput("the checkpoint's remaining tasks have duplicate ids")
    for t in cp.remaining:
        unknown = [d for d in t.deps if d not in by_id and d not in done]
        if unknown:
            raise BadInput(f"task {t.id} depends on unknown task(s) {', '.join(unknown)}")
    order: list[TaskSpec] = []
    state: dict[str, int] = {}

    def visit(tid: str, path: list[str]) -> None:
        mark = state.get(tid, 0)
        if mark == 2:
            return
        if mark == 1:
            raise DependencyCycle(f"tasks depend on each other in a cycle: {' -> '.join([*path, tid])}")
        state[tid] = 1
        for dep in by_id[tid].deps:
            if dep in by_id:
                visit(dep, [*path, tid])
        state[tid] = 2
        order.append(by_id[tid])

    for t in cp.remaining:
        visit(t.id, [])
    return order


def read_result(path: Path) -> tuple[bool, Any]:
    """(present and valid, the JSON value) of a task's result file."""
    try:
        return True, json.loads(path.read_bytes())
    except FileNotFoundError:
        return False, None
    except (OSError, ValueError):
        return False, None


@dataclass
class Running:
    proc: IterationProcess
    intent: Intent
    spec: TaskSpec
    slot: int


class ParallelRun(Orchestration):
    """Runs a checkpoint's tasks, up to ``options.parallel`` at once."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.running: dict[str, Running] = {}
        self.mirror: TeamMirror | None = None

    def _drive(self, cp: Checkpoint) -> Checkpoint:
        order = topo_order(cp)
        team = self.options.team or default_team(self.options.checkpoint)
        self.mirror = TeamMirror(self.options.home, team, self.options.checkpoint)
        try:
            if self.mirror.sync(cp, order):
                self.store.save(cp)
            return self._loop(cp, team)
        except BaseException:  # Ctrl-C, SIGTERM: leave no orphans; --resume re-runs them
            for item in self.running.values():
                item.proc.stop()
            raise
        finally:
            self.mirror.close()

    def _settle(self, loaded: Loaded) -> Checkpoint:
        base = loaded.last_good
        if base is None or not base.in_flight:
            return loaded.checkpoint
        cp = base.with_work_of(loaded.checkpoint) if loaded.changed else base.model_copy(deep=True)
        for intent in base.in_flight:
            ok, value = read_result(self.run_dir.result(intent.number, intent.task_id or ""))
            spec = next((t for t in cp.remaining if t.id == intent.task_id), None)
            if ok and spec is not None:
                self._complete(cp, spec, intent.number, value)
            cp.iterations.append(recovered_record(intent, ok and spec is not None))
        cp.in_flight = []
        self.store.save(cp)
        for intent in base.in_flight:
            self.run_dir.cleanup(intent.number, intent.task_id)
        return cp

    def _complete(self, cp: Checkpoint, spec: TaskSpec, number: int, value: Any) -> None:
        cp.remaining = [t for t in cp.remaining if t.id != spec.id]
        cp.completed.append(
            TaskResult(
                id=spec.id,
                subject=spec.subject,
                result=value,
                iteration=number,
                finished_at=time.time(),
                team_task_id=spec.team_task_id,
            )
        )
        cp.iteration += 1

    def _ready(self, cp: Checkpoint) -> list[TaskSpec]:
        done = {r.id for r in cp.completed}
        return [t for t in cp.remaining if t.id not in self.running and all(d in done for d in t.deps)]

    def _may_launch(self, cp: Checkpoint) -> bool:
        if cp.status != "running":
            self.stop_reason = self.stop_reason or cp.status
            return False
        cap = self.options.max_iterations
        if cap is not None and cp.launched >= cap:
            self.stop_reason = "max-iterations"
            return False
        return True

    def _launch_ready(self, cp: Checkpoint, team: str) -> None:
        width = max(1, self.options.parallel)
        free = width - len(self.running)
        if free <= 0 or not self._may_launch(cp):
            return
        batch = self._ready(cp)[:free]
        cap = self.options.max_iterations
        if cap is not None:
            batch = batch[: max(0, cap - cp.launched)]
        if not batch:
            return
        planned: list[tuple[TaskSpec, Intent]] = []
        for spec in batch:
            cp.launched += 1
            attempt = cp.attempts_of(0, spec.id) + 1
            intent = Intent(
                number=cp.launched,
                attempt=attempt,
                task_id=spec.id,
                started_at=time.time(),
                result_file=str(self.run_dir.result(cp.launched, spec.id)),
                log=str(self.run_dir.log(cp.launched, attempt, spec.id)),
            )
            cp.in_flight.append(intent)
            planned.append((spec, intent))
        self.store.save(cp)
        fault("intent-saved")
        used = {r.slot for r in self.running.values()}
        for spec, intent in planned:
            slot = next(i for i in range(1, width + 1) if i not in used)
            used.add(slot)
            proc = start(
                self.options,
                self.run_dir,
                number=intent.number,
                attempt=intent.attempt,
                learned=cp.learnings,
                task=spec,
                team=team,
                backend=self.backend,
            )
            self.running[spec.id] = Running(proc, intent, spec, slot)
            if self.mirror is not None:
                self.mirror.started(spec, f"iter-{slot}")

    def _fold(self, cp: Checkpoint, item: Running, finished: Finished) -> None:
        intent, spec = item.intent, item.spec
        cp.in_flight = [i for i in cp.in_flight if i.task_id != spec.id]
        problem = None
        if finished.ending == "ok":
            ok, value = read_result(self.run_dir.result(intent.number, spec.id))
            if ok or not self.run_dir.result(intent.number, spec.id).exists():
                self._complete(cp, spec, intent.number, value if ok else None)
                cp.iterations.append(record_of(intent, item.proc.pid, finished))
                if self.mirror is not None:
                    self.mirror.finished(spec, value)
                return
            problem = "its result file is not valid JSON"
        cp.iterations.append(record_of(intent, item.proc.pid, finished, "bad-checkpoint" if problem else None))
        cp.learnings.append(learn.learning_from(intent.number, intent.attempt, spec.id, finished, problem))
        if self.mirror is not None:
            self.mirror.failed(spec)
        if cp.failures_of(0, spec.id) > self.options.retries:
            cp.status = "failed"
            self.stop_reason = "retry-limit"

    def _loop(self, cp: Checkpoint, team: str) -> Checkpoint:
        while True:
            self._launch_ready(cp, team)
            if not self.running:
                break
            ended = [(tid, item, item.proc.poll()) for tid, item in list(self.running.items())]
            finished = [(tid, item, f) for tid, item, f in ended if f is not None]
            if not finished:
                time.sleep(POLL)
                continue
            fault("child-exited")
            for tid, item, done in finished:
                del self.running[tid]
                self._fold(cp, item, done)
            self.store.save(cp)
            fault("folded")
            for _tid, item, _done in finished:
                self.run_dir.cleanup(item.intent.number, item.spec.id)
        if cp.status == "running" and not cp.remaining:
            cp.status = "done"
            self.store.save(cp)
        self.stop_reason = self.stop_reason or cp.status
        return cp

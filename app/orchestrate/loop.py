"""The serial loop: one fresh process per iteration until the work is done.

An iteration is a transaction. Before the process starts, the orchestrator saves an intent
(``in_flight``); when the process exits 0, its checkpoint write is folded in (work fields from
its write, bookkeeping from the orchestrator) and the iteration is committed; when it fails, the
checkpoint is put back as it was before the iteration, a learning is added and the same number is
tried again, up to ``retries`` more times. ``--resume`` after a crash settles a pending intent
first: a write that landed is committed, one that did not is run again (see ``checkpoint``).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from app.core.errors import BadInput, Timeout
from app.core.locks import file_lock
from app.orchestrate import learnings as learn
from app.orchestrate.checkpoint import Checkpoint, CheckpointStore, Intent, IterationRecord, Loaded
from app.orchestrate.panes import load_backend
from app.orchestrate.runner import Options, RunDir, fault, kill_orphans, start
from app.orchestrate.summary import Summary, summarize

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from app.orchestrate.process import Finished


def record_of(intent: Intent, pid: int | None, finished: Finished, outcome: str | None = None) -> IterationRecord:
    """The iteration record of a process that ended."""
    return IterationRecord.model_validate(
        {
            "number": intent.number,
            "attempt": intent.attempt,
            "task_id": intent.task_id,
            "pid": pid,
            "started_at": finished.started_at,
            "ended_at": finished.ended_at,
            "exit_status": finished.exit_status,
            "outcome": outcome or finished.ending,
            "duration_s": round(finished.duration_s, 4),
            "cpu_s": None if finished.cpu_s is None else round(finished.cpu_s, 4),
            "tokens": finished.tokens,
            "cost_usd": finished.cost_usd,
            "log": intent.log,
        }
    )


def recovered_record(intent: Intent, landed: bool) -> IterationRecord:
    """The record of an in-flight iteration whose orchestrator died (end time unknown)."""
    return IterationRecord(
        number=intent.number,
        attempt=intent.attempt,
        task_id=intent.task_id,
        started_at=intent.started_at,
        outcome="recovered" if landed else "interrupted",
        log=intent.log,
    )


def orchestrator_lock(options: Options) -> AbstractContextManager[None]:
    """The lock one orchestrator holds on a checkpoint for its whole run."""
    path = options.checkpoint.with_name(f"{options.checkpoint.name}.orchestrator")
    return file_lock(path, timeout=0.5)


def load_checkpoint(store: CheckpointStore, options: Options) -> Loaded:
    """The checkpoint to start from (a fresh one when there is none). Raises BadInput, CorruptFile.

    With ``--resume``, processes a dead orchestrator left running are killed first, so nothing
    writes behind the settling.
    """
    pending = store.pending()
    if pending and not options.resume:
        raise BadInput(
            f"{options.checkpoint} has {len(pending)} interrupted iteration(s); pass --resume to settle them"
        )
    kill_orphans(RunDir(options.checkpoint), pending)
    loaded = store.load()
    if loaded is None:
        fresh = Checkpoint()
        store.save(fresh)
        return Loaded(fresh, fresh, changed=False)
    return loaded


class Orchestration(ABC):
    """What the serial and the parallel runner share: the checkpoint, the run dir, the backend, and
    the frame of a run — one orchestrator per checkpoint, settle what a crash left, drive, summarize."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.store = CheckpointStore(options.checkpoint)
        self.run_dir = RunDir(options.checkpoint)
        self.started = time.time()
        self.stop_reason = ""
        self.backend = load_backend(options.backend) if options.backend else None

    def run(self) -> Summary:
        """Run until done, failed, out of retries or at the cap; returns the summary.

        Raises :class:`BadInput` when another orchestrator holds this checkpoint.
        """
        try:
            with orchestrator_lock(self.options):
                cp = self._drive(self._settle(load_checkpoint(self.store, self.options)))
        except Timeout as exc:
            raise BadInput(f"another orchestrator is running on {self.options.checkpoint}") from exc
        return summarize(cp, self.started, self.stop_reason)

    @abstractmethod
    def _settle(self, loaded: Loaded) -> Checkpoint:
        """Fold in or roll back the work a previous orchestrator left in flight."""

    @abstractmethod
    def _drive(self, cp: Checkpoint) -> Checkpoint:
        """Run the work under the orchestrator lock; returns the final checkpoint."""


class SerialLoop(Orchestration):
    """Runs iterations one after another."""

    def _drive(self, cp: Checkpoint) -> Checkpoint:
        return self._loop(cp)

    def _settle(self, loaded: Loaded) -> Checkpoint:
        """Fold in or roll back an iteration the previous orchestrator left in flight."""
        base = loaded.last_good
        if base is None or not base.in_flight:
            return loaded.checkpoint
        intent = base.in_flight[0]
        landed = loaded.changed
        if landed:
            cp = base.with_work_of(loaded.checkpoint)
            cp.iteration = intent.number
        else:
            cp = base.model_copy(deep=True)
        cp.in_flight = []
        cp.iterations.append(recovered_record(intent, landed))
        self.store.save(cp)
        self.run_dir.cleanup(intent.number)
        return cp

    def _finished(self, cp: Checkpoint) -> bool:
        opts = self.options
        if cp.status != "running":
            self.stop_reason = cp.status
            return True
        if opts.max_iterations is not None and cp.iteration >= opts.max_iterations:
            self.stop_reason = "max-iterations"
            return True
        return False

    def _loop(self, cp: Checkpoint) -> Checkpoint:
        while not self._finished(cp):
            number = cp.iteration + 1
            attempt = cp.attempts_of(number) + 1
            if cp.failures_of(number) > self.options.retries:
                cp.status = "failed"
                self.store.save(cp)
                self.stop_reason = "retry-limit"
                break
            cp = self._one(cp, number, attempt)
        return cp

    def _one(self, cp: Checkpoint, number: int, attempt: int) -> Checkpoint:
        intent = Intent(
            number=number,
            attempt=attempt,
            started_at=time.time(),
            log=str(self.run_dir.log(number, attempt)),
        )
        before = cp.model_copy(deep=True)
        cp.in_flight = [intent]
        cp.launched += 1
        self.store.save(cp)
        fault("intent-saved")
        proc = start(
            self.options,
            self.run_dir,
            number=number,
            attempt=attempt,
            learned=cp.learnings,
            team=self.options.team,
            backend=self.backend,
        )
        try:
            finished = proc.wait()
        except BaseException:  # Ctrl-C, SIGTERM: leave no orphan; the intent makes --resume re-run it
            proc.stop()
            raise
        fault("child-exited")
        problem = None
        if finished.ending == "ok":
            current, problem = self.store.read_current()
            if current is not None:
                after = cp.with_work_of(current)
                after.in_flight = []
                after.iteration = number
                after.iterations.append(record_of(intent, proc.pid, finished))
                self.store.save(after)
                fault("folded")
                self.run_dir.cleanup(number)
                return after
        # Failed: the work goes back to how it was before the iteration; a learning is added.
        outcome = "bad-checkpoint" if problem else finished.ending
        rolled = before
        rolled.launched = cp.launched
        rolled.iterations.append(record_of(intent, proc.pid, finished, outcome))
        rolled.learnings.append(learn.learning_from(number, attempt, None, finished, problem))
        self.store.save(rolled)
        fault("folded")
        self.run_dir.cleanup(number)
        return rolled

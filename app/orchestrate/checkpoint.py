"""checkpoint.json: the schema, and the store that writes it crash-safely and recovers it.

Who owns what. An iteration (a fresh process) reads the checkpoint, changes the *work* fields
(``status``, ``state``, ``remaining``, ``completed`` and any keys of its own) and writes it back.
The orchestrator owns the *bookkeeping* fields (``iteration``, ``launched``, ``learnings``,
``iterations``, ``in_flight``): when it folds an iteration's write in, it takes the work fields
from that write and its bookkeeping from its own copy, so an iteration that drops or garbles them
cannot lose history.

Exactly once. The orchestrator writes the checkpoint and a twin ``.<name>.last-good`` together
(through the core redo journal, so after any crash the two are equal again) and only while no
iteration may write: before it starts an iteration it records an *intent* in ``in_flight``. If
it dies, ``--resume`` compares the checkpoint with the twin: different bytes mean the iteration's
write landed (its changes are kept and it is recorded as done), equal bytes mean it did not (it
is run again, once). A checkpoint that does not parse is quarantined and the twin used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core import journal
from app.core.atomic import quarantine, read_bytes, why_invalid
from app.core.errors import CorruptFile

if TYPE_CHECKING:
    from pathlib import Path

Status = Literal["running", "done", "failed"]
Outcome = Literal["ok", "failed", "heartbeat", "timeout", "bad-checkpoint", "recovered", "interrupted"]
#: outcomes that count against the retry limit.
FAILURES = frozenset({"failed", "heartbeat", "timeout", "bad-checkpoint"})

#: the fields an iteration owns; everything else in the model is the orchestrator's.
BOOKKEEPING = frozenset({"version", "iteration", "launched", "learnings", "iterations", "in_flight"})


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="allow", populate_by_name=True)


class TaskSpec(_Model):
    """A task still to do."""

    id: str = Field(description="Unique within the checkpoint.")
    subject: str = Field(default="", description="One line: what to do.")
    description: str = Field(default="", description="The details, handed to the task's process.")
    deps: list[str] = Field(default_factory=list, description="Ids of tasks that must finish first.")
    command: str | None = Field(default=None, description="Shell command for this task (else the run's).")
    team_task_id: str | None = Field(default=None, description="Its id in the team's task list, once mirrored.")


class TaskResult(_Model):
    """A finished task and what it produced."""

    id: str = Field(description="The task's id.")
    subject: str = Field(default="", description="Its subject.")
    result: Any = Field(default=None, description="What its process wrote to $CREWMUX_RESULT (JSON).")
    iteration: int | None = Field(default=None, description="The iteration number that finished it.")
    finished_at: float | None = Field(default=None, description="Epoch seconds.")
    team_task_id: str | None = Field(default=None, description="Its id in the team's task list.")


class Learning(_Model):
    """What a failed iteration left behind, handed to the next one."""

    iteration: int = Field(description="The failed iteration's number.")
    attempt: int = Field(default=1, description="Which attempt of that number failed.")
    task_id: str | None = Field(default=None, description="The task it worked on (parallel mode).")
    exit_status: int | None = Field(default=None, description="Exit code; negative: killed by that signal.")
    reason: str = Field(description="Why it counted as failed (exit, heartbeat, timeout, bad checkpoint).")
    output_tail: str = Field(default="", description="The last lines it printed.")
    at: float = Field(description="Epoch seconds.")


class IterationRecord(_Model):
    """One process the orchestrator ran (a retry is a new record with the same number)."""

    number: int = Field(description="The iteration number ($CREWMUX_ITERATION).")
    attempt: int = Field(default=1, description="1 for the first try of this number.")
    task_id: str | None = Field(default=None, description="The task it ran (parallel mode).")
    pid: int | None = Field(default=None, description="Its process id.")
    started_at: float = Field(description="Epoch seconds.")
    ended_at: float | None = Field(default=None, description="Epoch seconds; None if unknown (recovered).")
    exit_status: int | None = Field(default=None, description="Exit code; negative: killed by that signal.")
    outcome: Outcome = Field(
        description="ok; failed, heartbeat, timeout, bad-checkpoint (count against the retry limit); "
        "recovered (its write landed before a crash) or interrupted (it did not; run again)."
    )
    duration_s: float | None = Field(default=None, description="Wall seconds.")
    cpu_s: float | None = Field(default=None, description="User + system CPU seconds of it and its children.")
    tokens: int | None = Field(default=None, description="Model tokens, when it reported them.")
    cost_usd: float | None = Field(default=None, description="Cost in US dollars, when it reported it.")
    log: str | None = Field(default=None, description="File holding its output.")


class Intent(_Model):
    """An iteration the orchestrator started and has not yet folded in."""

    number: int = Field(description="Its iteration number.")
    attempt: int = Field(default=1, description="Which attempt.")
    task_id: str | None = Field(default=None, description="Its task (parallel mode).")
    started_at: float = Field(description="Epoch seconds.")
    result_file: str | None = Field(default=None, description="Where it writes its result (parallel mode).")
    log: str | None = Field(default=None, description="File holding its output.")


class Checkpoint(_Model):
    """The top level of checkpoint.json. Unknown keys are kept and belong to the work."""

    version: int = Field(default=1, description="Schema version.")
    status: Status = Field(default="running", description="running, done or failed (set by the work).")
    state: dict[str, Any] = Field(default_factory=dict, description="Free-form state that belongs to the work.")
    iteration: int = Field(default=0, description="Iterations committed so far (serial mode).")
    launched: int = Field(default=0, description="Processes started so far (numbers parallel launches).")
    remaining: list[TaskSpec] = Field(default_factory=list, description="Tasks still to do, with dependencies.")
    completed: list[TaskResult] = Field(default_factory=list, description="Finished tasks and their results.")
    learnings: list[Learning] = Field(default_factory=list, description="What failed iterations left behind.")
    iterations: list[IterationRecord] = Field(default_factory=list, description="Every process run, in order.")
    in_flight: list[Intent] = Field(default_factory=list, description="Started and not yet folded in.")

    def to_bytes(self) -> bytes:
        """The on-disk form (2-space indented JSON)."""
        return self.model_dump_json(indent=2).encode("utf-8")

    def with_work_of(self, other: Checkpoint) -> Checkpoint:
        """This checkpoint's bookkeeping with ``other``'s work fields (and extra keys)."""
        work = {k: v for k, v in other.model_dump().items() if k not in BOOKKEEPING}
        mine = {k: v for k, v in self.model_dump().items() if k in BOOKKEEPING}
        return Checkpoint.model_validate({**work, **mine})

    def failures_of(self, number: int, task_id: str | None = None) -> int:
        """How many attempts of iteration ``number`` (or of ``task_id``, when given) failed."""
        if task_id is not None:
            return sum(1 for r in self.iterations if r.task_id == task_id and r.outcome in FAILURES)
        return sum(1 for r in self.iterations if r.number == number and r.task_id is None and r.outcome in FAILURES)

    def attempts_of(self, number: int, task_id: str | None = None) -> int:
        """How many processes ran for iteration ``number`` (or for ``task_id``) without success."""
        if task_id is not None:
            return sum(1 for r in self.iterations if r.task_id == task_id and r.outcome not in ("ok", "recovered"))
        return sum(
            1
            for r in self.iterations
            if r.number == number and r.task_id is None and r.outcome not in ("ok", "recovered")
        )


def parse(raw: bytes) -> Checkpoint:
    """Validate checkpoint bytes. Raises ValidationError or ValueError."""
    return Checkpoint.model_validate_json(raw)


@dataclass
class Loaded:
    """What the store found on disk."""

    checkpoint: Checkpoint
    #: the orchestrator's own last write (the twin), when there is one.
    last_good: Checkpoint | None
    #: True when the checkpoint's bytes differ from the twin's (someone else wrote it).
    changed: bool


class CheckpointStore:
    """checkpoint.json, its last-good twin and the journal that keeps them in step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.twin = path.with_name(f".{path.name}.last-good")
        self.journal = path.with_name(f".{path.name}.journal")

    def save(self, checkpoint: Checkpoint) -> bytes:
        """Write the checkpoint and its twin, all-or-nothing across crashes; returns the bytes."""
        data = checkpoint.to_bytes().decode("utf-8")
        journal.commit(self.journal, {self.path: data, self.twin: data})
        return data.encode("utf-8")

    def pending(self) -> list[Intent]:
        """The intents in the orchestrator's own last write (after replaying a crashed save)."""
        journal.recover(self.journal)
        raw = read_bytes(self.twin)
        if raw is None:
            return []
        try:
            return parse(raw).in_flight
        except (ValidationError, ValueError):
            return []

    def load(self) -> Loaded | None:
        """The checkpoint (the twin if it is corrupt), or None when neither exists.

        Raises :class:`CorruptFile` when the checkpoint is corrupt and no good twin exists.
        """
        journal.recover(self.journal)
        twin_raw = read_bytes(self.twin)
        twin = self._parse_twin(twin_raw)
        raw = read_bytes(self.path)
        if raw is None:
            if twin is None:
                return None
            self.save(twin)
            return Loaded(twin, twin, changed=False)
        try:
            current = parse(raw)
        except (ValidationError, ValueError) as exc:
            err = quarantine(self.path, why_invalid(exc))
            if twin is None:
                raise CorruptFile(self.path, err.quarantined, f"{err.reason}; no last good copy") from exc
            self.save(twin)
            return Loaded(twin, twin, changed=False)
        return Loaded(current, twin, changed=twin_raw is not None and raw != twin_raw)

    def read_current(self) -> tuple[Checkpoint | None, str | None]:
        """The checkpoint as it is now (after an iteration wrote it), or None and why not.

        A file that does not validate is quarantined.
        """
        raw = read_bytes(self.path)
        if raw is None:
            return None, "the checkpoint file is gone"
        try:
            return parse(raw), None
        except (ValidationError, ValueError) as exc:
            reason = why_invalid(exc)
            quarantine(self.path, reason)
            return None, f"the checkpoint it wrote does not validate: {reason}"

    def _parse_twin(self, raw: bytes | None) -> Checkpoint | None:
        if raw is None:
            return None
        try:
            return parse(raw)
        except (ValidationError, ValueError) as exc:
            quarantine(self.twin, why_invalid(exc))
            return None

"""Learning between failures: what a failed iteration printed and how it ended, handed on.

Each failure becomes a :class:`Learning` in the checkpoint. Before every launch the learnings are
written to a file (``$CREWMUX_LEARNINGS``, a JSON array, newest last) and the newest one is put,
shortened, in ``$CREWMUX_LAST_LEARNING`` so even a shell one-liner can see it.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from app.core.atomic import atomic_write
from app.orchestrate.checkpoint import Learning

if TYPE_CHECKING:
    from pathlib import Path

    from app.orchestrate.process import Finished

TAIL_LINES = 20
SHORT_LIMIT = 400
KEEP = 50


def tail_lines(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-empty-trailing lines of ``text``."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def reason_for(finished: Finished | None, problem: str | None = None) -> str:
    """A one-line account of why an iteration counted as failed."""
    if problem:
        return problem
    if finished is None:
        return "unknown"
    if finished.ending == "heartbeat":
        return "killed: no heartbeat and no output within the heartbeat timeout"
    if finished.ending == "timeout":
        return "killed: ran past the iteration timeout"
    code = finished.exit_status
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exited with status {code}"


def learning_from(
    number: int, attempt: int, task_id: str | None, finished: Finished | None, problem: str | None = None
) -> Learning:
    """The learning a failed iteration leaves."""
    return Learning(
        iteration=number,
        attempt=attempt,
        task_id=task_id,
        exit_status=finished.exit_status if finished else None,
        reason=reason_for(finished, problem),
        output_tail=tail_lines(finished.output_tail) if finished else "",
        at=time.time(),
    )


def short(learning: Learning) -> str:
    """One line for ``$CREWMUX_LAST_LEARNING``."""
    last = learning.output_tail.strip().splitlines()[-1:] if learning.output_tail.strip() else []
    where = f"task {learning.task_id} " if learning.task_id else ""
    text = f"iteration {learning.iteration} {where}attempt {learning.attempt} {learning.reason}"
    if last:
        text += f": {last[0]}"
    return text[:SHORT_LIMIT]


def relevant(learnings: list[Learning], task_id: str | None) -> list[Learning]:
    """The learnings to hand a process: those of its task (parallel) or all (serial)."""
    if task_id is None:
        return learnings[-KEEP:]
    return [x for x in learnings if x.task_id == task_id][-KEEP:]


def write_file(path: Path, learnings: list[Learning]) -> None:
    """Write ``learnings`` as a JSON array (crash-safe)."""
    atomic_write(path, json.dumps([x.model_dump() for x in learnings], indent=2), fsync=False)


def env_for(path: Path, learnings: list[Learning]) -> dict[str, str]:
    """The environment entries that hand ``learnings`` on (the file is written here)."""
    write_file(path, learnings)
    env = {"CREWMUX_LEARNINGS": str(path)}
    if learnings:
        env["CREWMUX_LAST_LEARNING"] = short(learnings[-1])
    return env

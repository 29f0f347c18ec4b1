"""For the program an iteration runs: read the checkpoint, beat the heartbeat, write it back.

Any program that reads and writes JSON can be an iteration; this module only saves a Python one
the details (every write crash-safe, the environment names in one place)::

    from app.orchestrate import iteration

    cp = iteration.load()             # the checkpoint as a dict
    iteration.heartbeat()             # now and then during long work
    cp["state"]["n"] = cp["state"].get("n", 0) + 1
    if cp["state"]["n"] >= 10:
        cp["status"] = "done"
    iteration.save(cp)

In parallel mode a task's process calls :func:`write_result` instead of :func:`save`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from app.core.atomic import atomic_write
from app.core.errors import BadInput


def _env_path(name: str) -> Path:
    value = os.environ.get(name)
    if not value:
        raise BadInput(f"${name} is not set: this program is meant to run under `crewmux iterate`")
    return Path(value)


def number() -> int:
    """This iteration's number (``$CREWMUX_ITERATION``)."""
    return int(os.environ.get("CREWMUX_ITERATION", "0"))


def task_id() -> str | None:
    """The task this process runs in parallel mode (``$CREWMUX_TASK_ID``), else None."""
    return os.environ.get("CREWMUX_TASK_ID") or None


def load() -> dict[str, Any]:
    """The checkpoint as a dict. Raises BadInput outside ``crewmux iterate``."""
    doc = json.loads(_env_path("CREWMUX_CHECKPOINT").read_bytes())
    if not isinstance(doc, dict):
        raise BadInput("the checkpoint is not a JSON object")
    return doc


def save(doc: dict[str, Any]) -> None:
    """Write the checkpoint back (crash-safe: the old file or the new one, never half)."""
    atomic_write(_env_path("CREWMUX_CHECKPOINT"), json.dumps(doc, indent=2))


def heartbeat() -> None:
    """Tell the orchestrator this iteration is alive (touches ``$CREWMUX_HEARTBEAT``)."""
    path = _env_path("CREWMUX_HEARTBEAT")
    path.touch()
    os.utime(path)


def learnings() -> list[dict[str, Any]]:
    """What earlier failed iterations left behind (newest last); [] when none."""
    path = os.environ.get("CREWMUX_LEARNINGS")
    if not path:
        return []
    try:
        doc = json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return []
    return [x for x in doc if isinstance(x, dict)] if isinstance(doc, list) else []


def write_result(value: Any) -> None:
    """Parallel mode: this task's result (any JSON value), folded into ``completed`` by the orchestrator."""
    atomic_write(_env_path("CREWMUX_RESULT"), json.dumps(value))


def report_usage(tokens: int | None = None, cost_usd: float | None = None) -> None:
    """Record model tokens and cost for this iteration's record and the summary."""
    atomic_write(_env_path("CREWMUX_USAGE"), json.dumps({"tokens": tokens, "cost_usd": cost_usd}), fsync=False)

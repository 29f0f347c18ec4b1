"""What an agent CLI reports about itself (its own hooks / notify), per member, in milliseconds.

Each spawn wires the CLI's own mechanism to the recorder :mod:`app.core.hook_record` (gemini:
settings hooks; codex and Claude Code: hooks given per process; aider: ``--notifications-command``
when it waits for the user), which records the member's last reported state in
``teams/<team>/.crewmux/agent-status/<name>.json``; ``crewmux hook-event`` records the same by hand.
Readers go through :class:`app.agents.agent_state.StateSource`: the report first while it is
fresh, the screen rules otherwise.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from app.core import hook_record
from app.core.atomic import read_model
from app.core.paths import sanitize

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.paths import TeamPaths

ReportedState = Literal["busy", "waiting", "permission"]
EVENTS: dict[str, str] = hook_record.EVENTS
"""Event name -> reported state; the agent CLIs' own names are in :mod:`app.core.hook_record`."""


class AgentStatus(BaseModel):
    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="ignore")
    state: ReportedState
    event: str
    at: float
    detail: str | None = None
    session: str | None = None
    """The conversation id the CLI named in the event (codex: its thread id)."""


def status_path(paths: TeamPaths, name: str) -> Path:
    return paths.runtime_dir / "agent-status" / f"{sanitize(name)}.json"


def record(paths: TeamPaths, name: str, event: str, detail: str | None = None) -> AgentStatus:
    """Record ``event`` (one of :data:`EVENTS`) as ``name``'s reported state. KeyError for an unknown event."""
    doc = hook_record.write(status_path(paths, name), event, EVENTS[event], detail)
    return AgentStatus.model_validate(doc)


def reported(paths: TeamPaths, name: str, *, fresh_for: float = 600.0) -> AgentStatus | None:
    """``name``'s last self-reported state, or None when it never reported or the report is stale."""
    found = read_model(status_path(paths, name), AgentStatus)
    if not isinstance(found, AgentStatus) or time.time() - found.at > fresh_for:
        return None
    return found

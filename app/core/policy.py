"""Delegate mode: a policy on the *lead's* operations, enforced in the core.

In delegate mode the lead may only coordinate — spawn teammates, message them, manage tasks,
approve or reject plans, shut teammates down — and may not work itself: it may not own or claim
a task, type into its own pane, or run commands. The check is UI-free: the console, the CLI and
anything else call :func:`check` (or :meth:`LeadPolicy.check`) before doing the operation, and a
refusal is a :class:`PolicyRefused` that says why.

The switch lives in the team's crewmux settings file (``teams/<team>/crewmux.json``), so every
process of the team sees the same mode. The policy never applies to teammates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.atomic import atomic_write, read_model
from app.core.errors import PolicyRefused
from app.core.locks import file_lock
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    from app.core.paths import TeamPaths

Operation = Literal[
    "spawn",
    "message",
    "manage_tasks",
    "approve_plan",
    "shutdown",
    "own_task",
    "claim_task",
    "type_into_own_pane",
    "run_command",
]

#: What the lead may still do in delegate mode.
COORDINATION: frozenset[str] = frozenset({"spawn", "message", "manage_tasks", "approve_plan", "shutdown"})

_WHY: dict[str, str] = {
    "own_task": "the lead cannot own a task in delegate mode; assign it to a teammate",
    "claim_task": "the lead cannot claim a task in delegate mode; a teammate must claim it",
    "type_into_own_pane": "the lead cannot type into its own pane in delegate mode; message a teammate instead",
    "run_command": "the lead cannot run commands in delegate mode; spawn or message a teammate to do it",
}


class TeamSettings(BaseModel):
    """``teams/<team>/crewmux.json``: crewmux's own per-team settings (not shared with Claude Code)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    delegate_mode: bool = Field(
        default=False, alias="delegateMode", description="True while the lead may only coordinate."
    )


def load_settings(paths: TeamPaths) -> TeamSettings:
    """The team's settings; defaults when the file is missing (a corrupt one is quarantined)."""
    found = read_model(paths.settings, TeamSettings)
    return found if isinstance(found, TeamSettings) else TeamSettings()


def is_delegate(paths: TeamPaths) -> bool:
    """True when the team's lead is in delegate mode."""
    return load_settings(paths).delegate_mode


def set_delegate(paths: TeamPaths, on: bool) -> TeamSettings:
    """Turn delegate mode on or off; returns the settings as written. Raises StorageError."""
    with file_lock(paths.settings):
        settings = load_settings(paths)
        settings.delegate_mode = on
        atomic_write(paths.settings, settings.model_dump_json(by_alias=True, indent=2))
        return settings


def refusal(actor: str, operation: Operation, *, delegate_mode: bool) -> PolicyRefused | None:
    """The refusal for ``actor`` doing ``operation``, or None when it is allowed.

    Only the lead (``team-lead``) is ever restricted, and only in delegate mode.
    """
    if actor != LEAD_NAME or not delegate_mode or operation in COORDINATION:
        return None
    return PolicyRefused(_WHY.get(operation, f"the lead may not {operation.replace('_', ' ')} in delegate mode"))


def check(paths: TeamPaths, actor: str, operation: Operation) -> None:
    """Raise :class:`PolicyRefused` (saying why) when ``actor`` may not do ``operation`` now."""
    if actor != LEAD_NAME:
        return
    refused = refusal(actor, operation, delegate_mode=is_delegate(paths))
    if refused is not None:
        raise refused


def check_task_owner(paths: TeamPaths, owner: str | None) -> None:
    """Refuse making the lead a task's owner in delegate mode (assigning others is fine)."""
    if owner == LEAD_NAME:
        check(paths, LEAD_NAME, "own_task")

"""Delegate mode: a policy on the *lead's* operations, enforced in the core.

In delegate mode the lead may only coordinate — spawn teammates, message them, manage tasks,
approve or reject plans, shut teammates down — and may not work itself: it may not own or claim
a task, type into its own pane, or run commands. The check is UI-free: the console, the CLI and
anything else call :func:`check` (or :meth:`LeadPolicy.check`) before doing the operation, and a
refusal is a :class:`PolicyRefused` that says why.

The switch lives in the team's crewmux settings file (:mod:`app.core.settings`), so every
process of the team sees the same mode. The policy never applies to teammates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from app.core.errors import PolicyRefused
from app.core.paths import LEAD_NAME
from app.core.settings import TeamSettings, load_settings, update_settings

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
    "edit_files",
]

#: What the lead may still do in delegate mode.
COORDINATION: frozenset[str] = frozenset({"spawn", "message", "manage_tasks", "approve_plan", "shutdown"})

_WHY: dict[str, str] = {
    "own_task": "the lead cannot own a task in delegate mode; assign it to a teammate",
    "claim_task": "the lead cannot claim a task in delegate mode; a teammate must claim it",
    "type_into_own_pane": "the lead cannot type into its own pane in delegate mode; message a teammate instead",
    "run_command": "the lead cannot run commands in delegate mode; spawn or message a teammate to do it",
    "edit_files": "the lead cannot edit files in delegate mode; spawn or message a teammate to do it",
}


def is_delegate(paths: TeamPaths) -> bool:
    """True when the team's lead is in delegate mode."""
    return load_settings(paths).delegate_mode


def set_delegate(paths: TeamPaths, on: bool) -> TeamSettings:
    """Turn delegate mode on or off; returns the settings as written. Raises StorageError."""

    def switch(settings: TeamSettings) -> None:
        settings.delegate_mode = on

    return update_settings(paths, switch)


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

"""How a message that reaches the lead is told in the notification log (one line each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.console.readable import first_line, readable, task_outcome
from app.core.protocol import (
    IdleNotification,
    PermissionRequest,
    PlanApprovalRequest,
    ShutdownApproved,
    ShutdownRejected,
    TaskCompleted,
    parse_protocol,
)

if TYPE_CHECKING:
    from app.core.models import InboxMessage

DEATH_PREFIX = "[crewmux] teammate "


def describe(message: InboxMessage) -> tuple[str, str | None, str, str | None]:
    """``(line, coalescing key, severity, request id)`` for a message to the lead (the id of a
    plan or permission request waiting for f7 / f8).

    Idle notifications share one key per teammate, so the log keeps one line each.
    """
    who = message.sender
    parsed = parse_protocol(message.text)
    line = readable(who, message.text)
    if isinstance(parsed, IdleNotification):
        return (f"◌ {line}", f"idle:{who}", "information", None)
    if isinstance(parsed, PlanApprovalRequest):
        return (f"? {line} — f7 approve, f8 reject", f"plan:{who}", "warning", parsed.request_id)
    if isinstance(parsed, PermissionRequest):
        return (f"? {line} — f7 allow, f8 deny", f"permission:{parsed.request_id}", "warning", parsed.request_id)
    if isinstance(parsed, ShutdownApproved):
        return (f"⏻ {line}", f"shutdown:{who}", "information", None)
    if isinstance(parsed, ShutdownRejected):
        return (f"⏻ {line}", f"shutdown:{who}", "warning", None)
    if isinstance(parsed, TaskCompleted):
        text, severity = task_outcome(who, parsed)
        return (text, None, severity, None)
    if line is not None:
        return (f"• {line}", None, "information", None)
    if message.text.startswith(f"{DEATH_PREFIX}{who} is dead"):
        # the liveness monitor's word: one line per death, shared with the console's own notice
        return (f"✖ {message.text.removeprefix(DEATH_PREFIX)}", f"dead:{who}", "error", None)
    first = message.summary or first_line(message.text)
    return (f"✉ {who}: {first}", None, "information", None)

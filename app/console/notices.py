"""How a message that reaches the lead is told in the notification log (one line each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.protocol import (
    IdleNotification,
    PlanApprovalRequest,
    ShutdownApproved,
    ShutdownRejected,
    TaskCompleted,
    parse_protocol,
)

if TYPE_CHECKING:
    from app.core.models import InboxMessage


def describe(message: InboxMessage) -> tuple[str, str | None, str, str | None]:
    """``(line, coalescing key, severity, plan request id)`` for a message to the lead.

    Idle notifications share one key per teammate, so the log keeps one line each.
    """
    who = message.sender
    parsed = parse_protocol(message.text)
    if isinstance(parsed, IdleNotification):
        why = parsed.idle_reason or "turn ended"
        extra = f": {parsed.summary}" if parsed.summary else ""
        return (f"◌ {who} is idle ({why}){extra}", f"idle:{who}", "information", None)
    if isinstance(parsed, PlanApprovalRequest):
        plan = parsed.plan_content.strip().splitlines()[0] if parsed.plan_content.strip() else "(empty plan)"
        return (
            f"? {who} asks plan approval: {plan} — f7 approve, f8 reject",
            f"plan:{who}",
            "warning",
            parsed.request_id,
        )
    if isinstance(parsed, ShutdownApproved):
        return (f"⏻ {who} agreed to shut down", f"shutdown:{who}", "information", None)
    if isinstance(parsed, ShutdownRejected):
        return (f"⏻ {who} refused to shut down: {parsed.reason}", f"shutdown:{who}", "warning", None)
    if isinstance(parsed, TaskCompleted):
        status = parsed.status or "completed"
        return (f"✔ {who} {status} task #{parsed.task_id} {parsed.task_subject}", None, "information", None)
    if parsed is not None:
        return (f"{who}: {parsed.type}", None, "information", None)
    if message.text.startswith(f"[crewmux] teammate {who} is dead"):
        # the liveness monitor's word: one line per death, shared with the console's own notice
        return (f"✖ {message.text.removeprefix('[crewmux] teammate ')}", f"dead:{who}", "error", None)
    first = message.summary or message.text.strip().splitlines()[0] if message.text.strip() else ""
    return (f"✉ {who}: {first}", None, "information", None)

"""Protocol messages in plain words: "w1 approved the shutdown", never the JSON on the wire.

One function, :func:`readable`, serves the notification log and the conversation, both ways
(what a teammate sent the lead, and what the lead sent it).
"""

from __future__ import annotations

from app.core.protocol import (
    IdleNotification,
    ModeSetRequest,
    PermissionRequest,
    PermissionResponse,
    PlanApprovalRequest,
    PlanApprovalResponse,
    ShutdownApproved,
    ShutdownRejected,
    ShutdownRequest,
    TaskAssignment,
    TaskCompleted,
    parse_protocol,
)

FAILED = frozenset({"failed", "refused", "error"})


def first_line(text: str) -> str:
    """The first non-empty line of ``text`` ('' when there is none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def task_outcome(who: str, parsed: TaskCompleted) -> tuple[str, str]:
    """``(line, severity)``: a tick only for a task that really completed."""
    status = parsed.status or "completed"
    detail = f": {parsed.detail}" if parsed.detail else ""
    subject = f" {parsed.task_subject}" if parsed.task_subject else ""
    if status in FAILED:
        verb = "failed" if status == "failed" else f"was {status} on"
        return (f"✖ {who} {verb} task #{parsed.task_id}{subject}{detail}", "error")
    if status == "completed":
        return (f"✔ {who} completed task #{parsed.task_id}{subject}", "information")
    return (f"• {who}: task #{parsed.task_id}{subject} is {status}{detail}", "information")


def readable(sender: str, text: str, *, to: str = "") -> str | None:
    """Plain words for a protocol message from ``sender`` (to ``to``), or None for plain text."""
    parsed = parse_protocol(text)
    if parsed is None:
        return None
    who = sender
    if isinstance(parsed, IdleNotification):
        why = parsed.idle_reason or "turn ended"
        extra = f": {parsed.summary}" if parsed.summary else ""
        return f"{who} is idle ({why}){extra}"
    if isinstance(parsed, PlanApprovalRequest):
        plan = first_line(parsed.plan_content) or "(empty plan)"
        return f"{who} asks to approve a plan: {plan}"
    if isinstance(parsed, PlanApprovalResponse):
        verdict = "approved" if parsed.approved else "rejected"
        feedback = f": {parsed.feedback}" if parsed.feedback else ""
        return f"{who} {verdict} the plan of {to or 'the teammate'}{feedback}"
    if isinstance(parsed, ShutdownRequest):
        reason = f" ({parsed.reason})" if parsed.reason else ""
        return f"{who} asked {to or 'the teammate'} to shut down{reason}"
    if isinstance(parsed, ShutdownApproved):
        return f"{who} approved the shutdown"
    if isinstance(parsed, ShutdownRejected):
        return f"{who} refused to shut down: {parsed.reason or 'no reason given'}"
    if isinstance(parsed, TaskCompleted):
        return task_outcome(who, parsed)[0]
    if isinstance(parsed, TaskAssignment):
        subject = f" {parsed.subject}" if parsed.subject else ""
        return f"{who} assigned task #{parsed.task_id}{subject} to {to or 'the teammate'}"
    if isinstance(parsed, PermissionRequest):
        tool = parsed.tool_name or "a tool"
        what = f": {first_line(parsed.description)}" if parsed.description else ""
        return f"{who} asks permission to use {tool}{what}"
    if isinstance(parsed, PermissionResponse):
        verdict = "allowed" if parsed.approved else "denied"
        return f"{who} {verdict} the permission request of {to or 'the teammate'}"
    if isinstance(parsed, ModeSetRequest):
        return f"{who} asks {to or 'the teammate'} to switch to {parsed.mode} mode"
    return f"{who}: {parsed.type.replace('_', ' ')}"

"""Protocol messages: JSON objects carried in an inbox message's ``text``, as Claude Code does.

``parse_protocol(text)`` returns the typed message, or None for plain text (or for JSON that is
not a protocol message: a person may well send ``{"a": 1}`` as a message).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from app.core.models import SharedModel, now_iso

IdleReason = Literal["available", "no_task", "blocked", "task_done", "failed", "interrupted", "waiting_input"]


RequestKind = Literal["shutdown", "plan_approval", "perm"]

# The request ids Claude Code 2.1.332 accepts (from its bundle); any other shape reaches its
# model as "[invalid id]" and cannot be answered.
REQUEST_ID_PATTERNS: dict[str, re.Pattern[str]] = {
    "shutdown": re.compile(r"^shutdown-[0-9]{1,20}@[\w.-]{1,64}$"),
    "plan_approval": re.compile(r"^plan_approval-[0-9]{1,20}@[^@\n]{1,300}(?:@[^@\n]{1,300})?$"),
    "perm": re.compile(r"^perm-[0-9]{1,20}-[0-9a-z]{1,12}$"),
}
_stamp_lock = threading.Lock()
_last_stamp = 0


def _stamp() -> int:
    """Milliseconds since the epoch (as Claude Code's ids carry), strictly increasing in this process."""
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(time.time_ns() // 1_000_000, _last_stamp + 1)
        return _last_stamp


def request_id(kind: RequestKind, target: str = "", team: str = "") -> str:
    """A fresh request id in Claude Code's shapes.

    ``shutdown-<ms>@<name>``, ``plan_approval-<ms>@<name>@<team>``, ``perm-<ms>-<base36>``.
    """
    if kind == "perm":
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        return f"perm-{_stamp()}-{''.join(secrets.choice(alphabet) for _ in range(7))}"
    rid = f"{kind}-{_stamp()}@{target}"
    return f"{rid}@{team}" if team else rid


def is_valid_request_id(kind: RequestKind, rid: str) -> bool:
    """True when Claude Code would accept ``rid`` as a ``kind`` request id."""
    return REQUEST_ID_PATTERNS[kind].match(rid) is not None


class _Protocol(SharedModel):
    sender: str = Field(default="", alias="from", description="Who sent it.")
    timestamp: str = Field(default_factory=now_iso, description="ISO-8601 UTC.")


class IdleNotification(_Protocol):
    type: Literal["idle_notification"] = "idle_notification"
    idle_reason: str | None = Field(default=None, description="Why it is idle (crewmux adds this).")
    summary: str | None = Field(default=None, description="A short human summary.")
    completed_task_id: str | None = Field(default=None, description="Task just finished, if any.")
    completed_status: str | None = Field(default=None, description="completed / failed.")
    blocked_by: list[str] | None = Field(default=None, description="Blockers it waits on.")


class ShutdownRequest(_Protocol):
    type: Literal["shutdown_request"] = "shutdown_request"
    request_id: str = Field(description="Echoed in the answer.")
    reason: str | None = Field(default=None, description="Why the lead asks.")
    force: bool | None = Field(default=None, description="crewmux: stop even mid-task.")


class ShutdownApproved(_Protocol):
    type: Literal["shutdown_approved"] = "shutdown_approved"
    request_id: str
    pane_id: str | None = None
    backend_type: str | None = None


class ShutdownRejected(_Protocol):
    type: Literal["shutdown_rejected"] = "shutdown_rejected"
    request_id: str
    reason: str = ""


class PlanApprovalRequest(_Protocol):
    type: Literal["plan_approval_request"] = "plan_approval_request"
    request_id: str
    plan_content: str = ""


class PlanApprovalResponse(_Protocol):
    type: Literal["plan_approval_response"] = "plan_approval_response"
    request_id: str
    approved: bool
    feedback: str | None = None
    permission_mode: str | None = None


class TaskAssignment(_Protocol):
    type: Literal["task_assignment"] = "task_assignment"
    task_id: str
    subject: str = ""
    description: str = ""
    assigned_by: str = ""


class TaskCompleted(_Protocol):
    type: Literal["task_completed"] = "task_completed"
    task_id: str
    task_subject: str = ""
    status: str | None = Field(default=None, description="crewmux: completed / failed.")
    detail: str | None = Field(default=None, description="crewmux: exit status, failure tail.")


class ModeSetRequest(_Protocol):
    type: Literal["mode_set_request"] = "mode_set_request"
    mode: str


class PermissionRequest(_Protocol):
    """A teammate asking the lead to let it use a tool (Claude Code 2.1.332's keys are snake_case)."""

    type: Literal["permission_request"] = "permission_request"
    request_id: str = Field(alias="request_id", description="perm-<ms>-<base36>; echoed in the answer.")
    agent_id: str | None = Field(default=None, alias="agent_id", description="The asking teammate's name.")
    tool_name: str | None = Field(default=None, alias="tool_name")
    tool_use_id: str | None = Field(default=None, alias="tool_use_id", description="Echoed in the answer.")
    description: str | None = None
    input: dict[str, Any] | None = None
    permission_suggestions: list[Any] | None = Field(default=None, alias="permission_suggestions")


class PermissionGrant(SharedModel):
    """``response`` of an allowed permission: a changed tool input, permission rule updates."""

    updated_input: dict[str, Any] | None = Field(default=None, alias="updated_input")
    permission_updates: list[Any] | None = Field(default=None, alias="permission_updates")


class PermissionResponse(_Protocol):
    """The lead's answer: ``subtype`` ``success`` (with ``response``) or ``error`` (with ``error``)."""

    type: Literal["permission_response"] = "permission_response"
    request_id: str = Field(alias="request_id")
    subtype: Literal["success", "error"]
    tool_use_id: str | None = Field(default=None, alias="tool_use_id")
    response: PermissionGrant | None = None
    error: str | None = None

    @property
    def approved(self) -> bool:
        return self.subtype == "success"


def permission_answer(
    request: PermissionRequest, approved: bool, reason: str | None = None, *, sender: str = "team-lead"
) -> PermissionResponse:
    """The answer Claude Code expects to ``request``: allowed as asked, or denied with ``reason``."""
    if approved:
        return PermissionResponse(
            sender=sender,
            request_id=request.request_id,
            subtype="success",
            tool_use_id=request.tool_use_id,
            response=PermissionGrant(updated_input=request.input),
        )
    return PermissionResponse(
        sender=sender,
        request_id=request.request_id,
        subtype="error",
        tool_use_id=request.tool_use_id,
        error=reason or "Permission denied by the team lead",
    )


ProtocolMessage = Annotated[
    IdleNotification
    | ShutdownRequest
    | ShutdownApproved
    | ShutdownRejected
    | PlanApprovalRequest
    | PlanApprovalResponse
    | TaskAssignment
    | TaskCompleted
    | ModeSetRequest
    | PermissionRequest
    | PermissionResponse,
    Field(discriminator="type"),
]

_adapter: TypeAdapter[ProtocolMessage] = TypeAdapter(
    ProtocolMessage, config=ConfigDict(defer_build=True, cache_strings="keys")
)
PROTOCOL_TYPES = frozenset(
    {
        "idle_notification",
        "shutdown_request",
        "shutdown_approved",
        "shutdown_rejected",
        "plan_approval_request",
        "plan_approval_response",
        "task_assignment",
        "task_completed",
        "mode_set_request",
        "permission_request",
        "permission_response",
    }
)


def parse_protocol(text: str) -> ProtocolMessage | None:
    """The protocol message in ``text``, or None when it is plain text."""
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return None
    try:
        raw = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in PROTOCOL_TYPES:
        return None
    try:
        return _adapter.validate_python(raw)
    except ValidationError:
        return None


def protocol_text(message: _Protocol) -> str:
    """The ``text`` that carries ``message``: compact JSON with camelCase keys."""
    return message.model_dump_json(by_alias=True, exclude_none=True)

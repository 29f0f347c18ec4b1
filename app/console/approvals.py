"""One approval queue for the lead: plan approvals and permission requests, answered with f7 / f8.

A teammate's ``plan_approval_request`` and a Claude Code teammate's ``permission_request`` (it
is blocked on "Waiting for team lead approval" until answered) both wait here, oldest first per
teammate. f7 allows / approves the selected teammate's oldest request, f8 denies / rejects it.
The answers are what Claude Code 2.1.332 expects: ``plan_approval_response`` with ``approved``,
``permission_response`` with ``subtype`` ``success`` (``response.updated_input``) or ``error``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core import policy
from app.core.paths import LEAD_NAME
from app.core.protocol import (
    PermissionRequest,
    PlanApprovalRequest,
    PlanApprovalResponse,
    parse_protocol,
    permission_answer,
    protocol_text,
)

if TYPE_CHECKING:
    from app.console.ops import TeamContext
    from app.core.models import InboxMessage


@dataclass(frozen=True)
class Pending:
    """One request waiting for the lead."""

    teammate: str
    request: PlanApprovalRequest | PermissionRequest

    @property
    def key(self) -> str:
        """The notification key its log line has (removed once answered; see app.console.notices)."""
        if isinstance(self.request, PlanApprovalRequest):
            return f"plan:{self.teammate}"
        return f"permission:{self.request.request_id}"

    def describe(self, approved: bool) -> str:
        if isinstance(self.request, PlanApprovalRequest):
            return f"{'approve' if approved else 'reject'} plan of {self.teammate}"
        tool = self.request.tool_name or "a tool"
        return f"{'allow' if approved else 'deny'} {tool} for {self.teammate}"


class ApprovalQueue:
    """The requests waiting for the lead, oldest first for each teammate (UI thread only)."""

    def __init__(self) -> None:
        self._waiting: OrderedDict[str, Pending] = OrderedDict()  # request id -> request

    def offer(self, message: InboxMessage) -> Pending | None:
        """Queue ``message`` when it is a request for the lead; returns it (None otherwise)."""
        parsed = parse_protocol(message.text)
        if not isinstance(parsed, PlanApprovalRequest | PermissionRequest):
            return None
        item = Pending(message.sender, parsed)
        self._waiting[parsed.request_id] = item
        return item

    def oldest(self, teammate: str) -> Pending | None:
        return next((p for p in self._waiting.values() if p.teammate == teammate), None)

    def take(self, teammate: str) -> Pending | None:
        """Remove and return ``teammate``'s oldest waiting request."""
        found = self.oldest(teammate)
        if found is not None:
            del self._waiting[found.request.request_id]
        return found

    def __len__(self) -> int:
        return len(self._waiting)


def answer(ctx: TeamContext, item: Pending, approved: bool, reason: str | None = None) -> str:
    """Send the lead's answer to ``item``; returns the message id. Blocking (writes an inbox)."""
    policy.check(ctx.paths, LEAD_NAME, "approve_plan")
    request = item.request
    if isinstance(request, PlanApprovalRequest):
        reply = protocol_text(
            PlanApprovalResponse(sender=LEAD_NAME, request_id=request.request_id, approved=approved, feedback=reason)
        )
    else:
        reply = protocol_text(permission_answer(request, approved, reason))
    return ctx.mailbox.send(item.teammate, reply, sender=LEAD_NAME)

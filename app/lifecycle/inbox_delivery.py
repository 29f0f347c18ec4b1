"""Keep typing messages into teammates that cannot read their inbox (what the console runs).

For every active teammate whose agent kind has screen rules with ``reads_inbox: false`` (codex,
gemini, aider, shell) and that has unread messages, :class:`InboxDelivery` looks at its screen;
when the screen shows it waiting for input, it hands over to :func:`app.agents.delivery.deliver_unread`
(which types, checks submission, and marks each message read only once submitted). A teammate
that is busy is looked at again shortly; after a failed delivery (told loudly by ``deliver_unread``)
the teammate is left alone for ``backoff`` seconds, so one stuck agent does not flood the lead,
and a message that failed after its text was pasted is never typed again by this loop: it may
have been taken in part already, so retyping it waits for a decision (``crewmux deliver NAME``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.agents.adapters import classify, input_text, load_rules
from app.agents.delivery import DeliveryFailed, deliver_unread
from app.agents.wake import Waker
from app.core.errors import BadInput, CrewmuxError
from app.core.liveness import is_alive
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from app.agents.adapters import AgentRules
    from app.core.mailbox import Mailbox
    from app.core.models import Member
    from backends.base import PaneBackend, PaneHandle


@dataclass(frozen=True)
class DeliveryEvent:
    """One outcome: a message typed into ``name`` (``msg_id``), or a failure (``error``)."""

    name: str
    msg_id: str | None = None
    error: str | None = None


def typed_rules(member: Member) -> AgentRules | None:
    """The screen rules of ``member``'s agent when crewmux must type its messages, else None."""
    rt = member.crewmux
    kind = (rt.agent_kind if rt else None) or member.agent_type
    if not kind or kind in ("worker", "command"):
        return None
    try:
        rules = load_rules(kind)
    except BadInput:
        return None
    return None if rules.reads_inbox else rules


def pane_handle(member: Member) -> PaneHandle | None:
    """The live pane handle recorded for ``member``, or None (no pane, or its process is gone)."""
    from backends.base import PaneHandle

    rt = member.crewmux
    if rt is None or not member.backend_type or not member.tmux_pane_id or member.is_active is False:
        return None
    if not rt.pid or not is_alive(rt.pid, rt.pid_create_time):
        return None
    return PaneHandle(member.backend_type, member.tmux_pane_id, rt.pid, rt.pid_create_time, rt.pane_session)


class InboxDelivery:
    """Delivers unread messages to typed-into teammates of ``mailbox``'s team."""

    def __init__(
        self,
        mailbox: Mailbox,
        backend_for: Callable[[str], PaneBackend],
        *,
        timeout: float = 10.0,
        recheck: float = 0.5,
        backoff: float = 30.0,
    ) -> None:
        self.mailbox = mailbox
        self.backend_for = backend_for
        self.timeout = timeout
        self.recheck = recheck
        self.backoff = backoff
        self._failed_at: dict[str, float] = {}
        self._held: set[str] = set()  # ids of messages whose delivery failed: never retyped here

    def _targets(self) -> list[tuple[Member, AgentRules, PaneHandle]]:
        found = []
        for m in self.mailbox.teams.load(self.mailbox.team).members:
            if m.name == LEAD_NAME or time.monotonic() - self._failed_at.get(m.name, -1e9) < self.backoff:
                continue
            rules = typed_rules(m)
            handle = pane_handle(m) if rules is not None else None
            if rules is None or handle is None:
                continue
            try:
                if any(u.msg_id not in self._held for u in self.mailbox.inbox(m.name, unread_only=True)):
                    found.append((m, rules, handle))
            except CrewmuxError:
                continue
        return found

    def deliver_once(self) -> tuple[list[DeliveryEvent], bool]:
        """Deliver to every teammate that waits for input now. Returns (events, messages still pending)."""
        events: list[DeliveryEvent] = []
        pending = False
        for m, rules, handle in self._targets():
            try:
                backend = self.backend_for(m.backend_type or "in-process")
                lines = backend.screen(handle).lines
            except CrewmuxError:
                continue
            if classify(lines, rules) != "waiting" or input_text(lines, rules) != "":
                pending = True  # busy, or something is typed there: look again shortly
                continue
            try:
                delivered = deliver_unread(
                    self.mailbox, m.name, backend, handle, rules, timeout=self.timeout, skip=self._held
                )
                events.extend(DeliveryEvent(m.name, msg_id=d.msg_id) for d in delivered)
            except DeliveryFailed as exc:
                self._failed_at[m.name] = time.monotonic()
                if exc.typed and exc.msg_id is not None:
                    self._held.add(exc.msg_id)
                events.append(DeliveryEvent(m.name, error=str(exc)))
            except CrewmuxError as exc:  # the pane went away meanwhile
                events.append(DeliveryEvent(m.name, error=str(exc)))
        return events, pending

    def run(self, stop: threading.Event, on_event: Callable[[DeliveryEvent], None], *, idle: float = 1.0) -> None:
        """Deliver until ``stop`` is set: woken by inbox writes, every ``recheck`` s while messages wait."""
        inboxes = self.mailbox.paths.inboxes
        with Waker([(inboxes, lambda n: n.endswith(".json"))]) as waker:
            pending = True
            while not stop.is_set():
                woke = waker.wait(self.recheck if pending else idle)
                if stop.is_set():
                    return
                if not (woke or pending):
                    continue
                events, pending = self.deliver_once()
                for event in events:
                    on_event(event)

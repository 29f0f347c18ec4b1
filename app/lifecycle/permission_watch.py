"""Raise a typed-into teammate's permission question to the lead (once per question).

Agents that do not read their inbox (codex, gemini, aider, a shell) ask for permission on their
screen; nobody would know until someone looks at the pane. :class:`PermissionWatch` looks at each
such teammate's state (:class:`app.agents.agent_state.StateSource`: the agent's own report —
gemini's ``Notification`` hook, codex's ``PermissionRequest`` — first, its screen's ``permission``
patterns otherwise) whenever the console's deliverer loop turns (woken by the report's file, about
once a second otherwise) and sends the lead one message per question, with what the agent said
about it and the question's last lines on screen, so the lead can answer it in the pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.agents.agent_state import StateSource
from app.core.errors import CrewmuxError
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.core.mailbox import Mailbox
    from backends.base import PaneBackend


class PermissionWatch:
    def __init__(
        self, mailbox: Mailbox, backend_for: Callable[[str], PaneBackend], states: StateSource | None = None
    ) -> None:
        self.mailbox = mailbox
        self.backend_for = backend_for
        self.states = states or StateSource(mailbox.paths)
        self._asking: set[str] = set()

    def check(self) -> list[str]:
        """Look once at every typed-into teammate; returns the names newly raised to the lead."""
        from app.lifecycle.inbox_delivery import pane_handle, typed_rules

        raised: list[str] = []
        for m in self.mailbox.teams.load(self.mailbox.team).members:
            rules = typed_rules(m)
            handle = pane_handle(m) if rules is not None else None
            if rules is None or handle is None or m.name == LEAD_NAME:
                continue
            try:
                shot = self.backend_for(m.backend_type or "in-process").screen(handle)
            except CrewmuxError:
                continue
            started = m.crewmux.pid_create_time if m.crewmux else None
            verdict = self.states.judge(m.name, rules, shot, started_at=started)
            if verdict.state != "permission":
                self._asking.discard(m.name)
                continue
            if m.name in self._asking:
                continue
            self._asking.add(m.name)
            said = verdict.report.detail if verdict.report is not None and verdict.report.detail else None
            lines = [ln.rstrip() for ln in shot.lines if ln.strip()][-6:]
            question = "\n".join([*([f"{m.name} says: {said}"] if said else []), *lines])
            self.mailbox.send(
                LEAD_NAME,
                f"[crewmux] {m.name} asks for permission (answer it in its pane):\n{question}",
                sender=m.name,
                summary="permission requested",
            )
            raised.append(m.name)
        return raised

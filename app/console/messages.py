"""App-wide messages: workers post these, the screen handles them (attributes down, messages up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from app.console.model import TeamSnapshot
    from app.core.models import InboxMessage, Task


@dataclass
class TeamChanged(Message):
    """Something under the team's directories changed; many in a row coalesce into one."""

    what: str = "team"

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TeamChanged)


@dataclass
class Refreshed(Message):
    """A fresh picture of the team, read by a worker."""

    snapshot: TeamSnapshot
    tasks: list[Task]
    blocked: dict[str, list[str]]
    new_for_lead: list[InboxMessage]
    conversation: list[tuple[str, str, str]] = field(default_factory=list)
    delegate: bool = False

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Refreshed) and not message.new_for_lead


class TeamShown(Message):
    """The team's first picture is on screen: start-up work that waited for the first frame may run
    (the full status pass, the team's resume and liveness, the shell's link, freezing the heap)."""


@dataclass
class Notice(Message):
    """One line for the notification log (a refusal, a corrupt file, an operation's outcome)."""

    text: str
    severity: str = "information"
    key: str | None = None


@dataclass
class ScreenUpdated(Message):
    """The mirrored pane's text changed (tmux / iTerm2 teammates)."""

    name: str
    lines: list[str]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ScreenUpdated) and message.name == self.name


@dataclass
class SeatTaken(Message):
    """This console now owns the team's single-owner duties (see :mod:`app.console.seat`)."""

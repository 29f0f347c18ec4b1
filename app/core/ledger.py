"""The message ledger: what happened to each message beyond sent/read, so none is lost silently.

The mailbox knows ``sent`` (unread in an inbox) and ``read``. The ledger, one append-only JSON
lines file per team (``<team>/.crewmux/ledger.jsonl``), records the rest, per message id:

* ``typing``     a deliverer is pasting it into the agent's composer (written BEFORE the paste:
  a deliverer that dies mid-way leaves this as the last word, and nobody types it again);
* ``delivered``  typed and seen submitted (``via: typed``), or taken by an agent that reads its
  inbox (``via: inbox`` / ``mcp``);
* ``dead``       given up, with a reason: typed but not seen submitted, the deadline passed, the
  agent is gone, refused;
* ``requeued``   a person asked for another try (``crewmux msg requeue ID``): it may be typed again;
* ``discarded``  a person dropped it (``crewmux msg discard ID``).

A message's state is its LAST event; no event means the mailbox's own state. A message is typed
at most once unless requeued: a deliverer types only messages whose last event is none or
``requeued``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.atomic import append_lines, read_bytes
from app.core.errors import BadInput

if TYPE_CHECKING:
    from app.core.mailbox import Mailbox
    from app.core.paths import TeamPaths

LedgerState = Literal["typing", "delivered", "dead", "requeued", "discarded"]
TYPABLE: frozenset[str | None] = frozenset({None, "requeued"})


class LedgerEvent(BaseModel):
    """One line of the ledger."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="ignore")
    id: str
    to: str
    state: LedgerState
    at: float
    reason: str | None = None
    via: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class Ledger:
    """The ledger of one team (its runtime dir)."""

    paths: TeamPaths

    @property
    def path(self) -> str:
        return str(self.paths.runtime_dir / "ledger.jsonl")

    def record(
        self,
        msg_id: str,
        to: str,
        state: LedgerState,
        *,
        reason: str | None = None,
        via: str | None = None,
        by: str | None = None,
    ) -> LedgerEvent:
        event = LedgerEvent(id=msg_id, to=to, state=state, at=time.time(), reason=reason, via=via, by=by)
        append_lines(self.paths.runtime_dir / "ledger.jsonl", [event.model_dump_json(exclude_none=True)])
        return event

    def events(self) -> list[LedgerEvent]:
        """Every event, oldest first (a damaged line is skipped, never fatal)."""
        raw = read_bytes(self.paths.runtime_dir / "ledger.jsonl") or b""
        out: list[LedgerEvent] = []
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                out.append(LedgerEvent.model_validate_json(line))
            except ValidationError:
                continue
        return out

    def history(self, msg_id: str) -> list[LedgerEvent]:
        return [e for e in self.events() if e.id == msg_id]

    def last(self) -> dict[str, LedgerEvent]:
        """The latest event per message id."""
        found: dict[str, LedgerEvent] = {}
        for e in self.events():
            found[e.id] = e
        return found

    def not_typable(self, to: str | None = None) -> set[str]:
        """Ids a deliverer must not type (again): typing/delivered/dead/discarded as last event."""
        return {i for i, e in self.last().items() if e.state not in TYPABLE and (to is None or e.to == to)}

    def dead(self) -> list[LedgerEvent]:
        """Dead letters: messages whose last event is ``dead``, oldest first."""
        return sorted((e for e in self.last().values() if e.state == "dead"), key=lambda e: e.at)


def shown_state(mailbox_state: str, history: list[LedgerEvent]) -> tuple[str, str | None]:
    """``(state, reason)`` of a message, the mailbox's ``sent``/``read`` merged with its ledger history.

    ``dead`` and ``discarded`` win; ``typing`` and ``delivered`` refine a ``sent`` (unread) message;
    otherwise the mailbox's word stands (``requeued`` is ``sent`` again). The one rule
    ``crewmux msg status`` and the console's conversation use.
    """
    if not history:
        return mailbox_state, None
    last = history[-1]
    if last.state in ("dead", "discarded") or (last.state in ("delivered", "typing") and mailbox_state == "sent"):
        return last.state, last.reason
    return mailbox_state, last.reason


@dataclass(frozen=True)
class DeadLetter:
    """A dead message: its last ledger event and, when its inbox still holds it, its text."""

    event: LedgerEvent
    text: str | None


def dead_letters(mailbox: Mailbox) -> list[DeadLetter]:
    """The team's dead letters, oldest first, each with its text (``crewmux msg dead``, the console)."""
    out = []
    for e in Ledger(mailbox.paths).dead():
        texts = [m.text for m in mailbox.inbox(e.to) if m.msg_id == e.id] if e.to else []
        out.append(DeadLetter(e, texts[0] if texts else None))
    return out


def decide(mailbox: Mailbox, msg_id: str, state: Literal["requeued", "discarded"], *, by: str) -> LedgerEvent:
    """Requeue (type it once more) or discard (drop it, marked read) a dead or stuck-typing message.

    BadInput for a message in any other state; MessageNotFound for an id no inbox knows.
    """
    ledger = Ledger(mailbox.paths)
    history = ledger.history(msg_id)
    if not history:
        status = mailbox.status(msg_id)  # MessageNotFound for a stranger
        raise BadInput(f"message {msg_id} is {status.state}: only a dead or typed message can be {state}")
    last = history[-1]
    if last.state not in ("dead", "typing"):
        raise BadInput(f"message {msg_id} is {last.state}: only a dead (or stuck typing) message can be {state}")
    event = ledger.record(msg_id, last.to, state, by=by)
    if state == "discarded":
        mailbox.mark_read(last.to, [msg_id])
    return event

"""What became of each message the lead sent, for the conversation: the ledger's word, in plain words.

The state is :func:`app.core.ledger.shown_state` (the rule ``crewmux msg status`` uses): ``sent``,
``typing``, ``delivered``, ``read``, ``dead`` (with its reason) or ``discarded``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from app.core.ledger import Ledger, shown_state

if TYPE_CHECKING:
    from app.core.ledger import LedgerEvent
    from app.core.mailbox import Mailbox
    from app.core.models import InboxMessage

Histories = dict[str, list["LedgerEvent"]]


def histories(mailbox: Mailbox) -> Histories:
    """Every message's ledger events by id, read once (empty when the ledger is unreadable). Blocking."""
    found: Histories = {}
    with contextlib.suppress(OSError):
        for e in Ledger(mailbox.paths).events():
            found.setdefault(e.id, []).append(e)
    return found


def receipt(message: InboxMessage, read_at: str | None, known: Histories) -> str:
    """``state`` or ``dead: reason`` for a sent message, its inbox's read flag merged with its ledger."""
    mailbox_state = "read" if (read_at or message.read) else "sent"
    state, reason = shown_state(mailbox_state, known.get(message.msg_id or "", []))
    return f"dead: {reason}" if state == "dead" and reason else state


def receipt_label(receipt: str, *, reads_inbox: bool) -> tuple[str, str]:
    """``(words, style)`` shown after a sent message; a plain command's unread message says why."""
    if receipt == "sent":
        return ("sent, unread" if reads_inbox else "unread: it runs a plain command, which reads no messages"), "dim"
    if receipt == "typing":
        return "being typed into its prompt…", "dim italic"
    if receipt == "delivered":
        return "delivered (submitted)", "dim"
    if receipt.startswith("dead"):
        _, _, reason = receipt.partition(": ")
        return (f"DEAD — {reason}" if reason else "DEAD") + " (ctrl+l: dead letters)", "bold"
    return receipt, "dim"

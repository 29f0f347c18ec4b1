"""Which console owns a team's single-owner duties, when several watch it at once.

Any number of consoles may watch one team: the terminal one and one per browser tab that
``crewmux web`` serves. Some work must be done once, though: reading (and so consuming) the
lead's inbox, typing messages into agents that cannot read theirs, restarting dead teammates,
burying dead ones. The console that holds the team's seat lock (:func:`app.core.locks.try_hold`
on ``.crewmux/.console-seat.flock``) does that work; the others are viewers that show the same
team and keep trying to take the seat, so when the owner quits (or dies: the kernel drops the
lock) one of them takes over within a tick.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from app.core.locks import HeldLock, try_hold

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.models import InboxMessage


class ConsoleSeat:
    """The team's owner lock as this console sees it: taken or not, never waited for."""

    def __init__(self, guarded: Path) -> None:
        self.guarded = guarded
        self._held: HeldLock | None = None
        self._mutex = threading.Lock()  # the watcher and life workers both ask, from their threads

    @property
    def owner(self) -> bool:
        return self._held is not None

    def try_take(self) -> bool:
        """Own the seat (now or already); ``False`` while another console holds it."""
        with self._mutex:
            if self._held is None:
                self._held = try_hold(self.guarded)
            return self._held is not None

    def release(self) -> None:
        with self._mutex:
            held, self._held = self._held, None
        if held is not None:
            held.release()


def message_key(message: InboxMessage) -> tuple[str, ...]:
    """What tells one message from another: its id, else who sent what when."""
    if message.msg_id:
        return (message.msg_id,)
    return (message.sender, message.timestamp, message.text)


class ViewerInbox:
    """A viewer's "new for the lead": what appeared in the lead's history since it last looked.

    The owner marks the lead's messages read (and so learns which are new); a viewer must not,
    so it remembers what it has shown. On its first look the unread messages are new: the ones
    the owner is about to show too.
    """

    def __init__(self) -> None:
        self._seen: set[tuple[str, ...]] | None = None

    def new(self, history: list[tuple[InboxMessage, str | None]]) -> list[InboxMessage]:
        first = self._seen is None
        seen = self._seen if self._seen is not None else set()
        out: list[InboxMessage] = []
        for message, read_at in history:
            key = message_key(message)
            if key in seen:
                continue
            seen.add(key)
            if not first or (not message.read and read_at is None):
                out.append(message)
        self._seen = seen
        return out

    def not_shown(self, messages: list[InboxMessage]) -> list[InboxMessage]:
        """Of the messages the new owner just marked read, those this console has not shown as a viewer."""
        if self._seen is None:
            return messages
        return [m for m in messages if message_key(m) not in self._seen]

"""The lead's inbox: one reader per process, answers matched by request id over the whole history.

Several parts of crewmux want the lead's messages: the console shows every one of them, and
whoever sent the lead's requests (``crewmux shutdown``, the console's shutdown, the MCP server)
waits for the answer to *its* request. If each of them read and marked messages on its own, one
would take what another waits for — the console's refresh used to archive a ``shutdown_approved``
before the shutdown saw it, and an approving teammate was then killed as "no answer".

So the rules are:

* **one consumer** — only :meth:`LeadInbox.take` marks the lead's messages read (and so moves
  them to the archive) — unless the lead is Claude Code (``crewmux attach`` on a team Claude
  Code runs): that inbox is Claude Code's to consume, so ``take`` only reads it and returns each
  unread message once, leaving it unread for the real lead. Per process there is one
  :class:`LeadInbox` per team (:meth:`LeadInbox.of`); the console calls ``take()`` on each
  refresh. Waiters never mark anything read.
* **answers by request id, over the whole history** — :meth:`LeadInbox.wait_answer` finds the
  reply to a request wherever it is: unread in the inbox, read, or already archived (by this
  process or any other). The inbox is read before the archive: compaction appends to the archive
  before it rewrites the inbox, so a message is never in neither.
* **hand-over** — a reply ``take()`` sees is handed straight to the waiter for its request id in
  this process, which wakes at once; waiters in other processes wake on the file change.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, ClassVar

from pydantic import ValidationError

from app.agents.wake import Waker
from app.core.atomic import ensure_dir, read_bytes
from app.core.mailbox import ArchivedMessage, Mailbox
from app.core.paths import LEAD_NAME
from app.core.protocol import parse_protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from app.core.models import InboxMessage
    from app.core.protocol import ProtocolMessage

    Match = Callable[[InboxMessage], bool]

#: How many handed-over replies a LeadInbox remembers for waiters that have not asked yet.
KEEP_REPLIES = 256


def answer_to(message: InboxMessage, request_id: str) -> ProtocolMessage | None:
    """The protocol reply in ``message`` when it answers ``request_id``, else None."""
    if request_id not in message.text:
        return None
    proto = parse_protocol(message.text)
    if proto is not None and getattr(proto, "request_id", None) == request_id:
        return proto
    return None


class LeadInbox:
    """The single reader of one team's lead inbox in this process. Thread-safe."""

    _instances: ClassVar[dict[Path, LeadInbox]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.inbox_path = mailbox.paths.inbox(LEAD_NAME)
        self.archive_path = mailbox.paths.archive(LEAD_NAME)
        self._lock = threading.Lock()
        self._replies: dict[str, InboxMessage] = {}
        self._waiters: dict[str, list[Waker]] = {}
        self._seen: dict[tuple[str, str, str], None] = {}
        """With a Claude Code lead: the unread messages ``take`` already returned (insertion-ordered)."""

    def _claude_code_lead(self) -> bool:
        return LEAD_NAME in self.mailbox.claude_code_inboxes()

    def _read_new(self) -> list[InboxMessage]:
        """The unread messages not returned before, marking nothing (the lead is Claude Code)."""
        fresh = []
        for m in self.mailbox.inbox(LEAD_NAME, unread_only=True):
            key = (m.msg_id or "", m.timestamp, m.sender if m.msg_id else m.text)
            if key not in self._seen:
                self._seen[key] = None
                fresh.append(m)
        while len(self._seen) > 4 * KEEP_REPLIES:
            self._seen.pop(next(iter(self._seen)))
        return fresh

    @classmethod
    def of(cls, mailbox: Mailbox) -> LeadInbox:
        """This process's reader of ``mailbox``'s team lead inbox (created on first use)."""
        key = mailbox.paths.inbox(LEAD_NAME).resolve()
        with cls._instances_lock:
            found = cls._instances.get(key)
            if found is None:
                found = cls._instances[key] = cls(mailbox)
            return found

    # -- the consumer ----------------------------------------------------------------------
    def take(self) -> list[InboxMessage]:
        """Mark every unread lead message read (they move to the archive) and return them, oldest
        first. Replies to requests are handed to their waiters in this process. Blocking."""
        with self._lock:
            newly = self._read_new() if self._claude_code_lead() else self.mailbox.mark_read(LEAD_NAME)
            for m in newly:
                proto = parse_protocol(m.text)
                rid = getattr(proto, "request_id", None)
                if not isinstance(rid, str):
                    continue
                self._replies[rid] = m
                for waker in self._waiters.get(rid, ()):
                    waker.poke()
            while len(self._replies) > KEEP_REPLIES:
                self._replies.pop(next(iter(self._replies)))
        return newly

    # -- the waiters -----------------------------------------------------------------------
    def history(self) -> Iterator[InboxMessage]:
        """Every lead message, current inbox first (newest last), then the archive. Blocking."""
        yield from self.mailbox.inbox(LEAD_NAME)
        raw = read_bytes(self.archive_path) or b""
        for line in reversed(raw.splitlines()):
            try:
                yield ArchivedMessage.model_validate_json(line).message
            except ValidationError:
                continue

    def find(self, match: Match) -> InboxMessage | None:
        """The first lead message ``match`` accepts: handed over, in the inbox or archived."""
        with self._lock:
            handed = [m for m in self._replies.values() if match(m)]
        if handed:
            return handed[0]
        return next((m for m in self.history() if match(m)), None)

    def wait_for(self, match: Match, timeout: float, *, request_id: str | None = None) -> InboxMessage | None:
        """Wait up to ``timeout`` seconds for a lead message ``match`` accepts (one already there
        counts). Marks nothing read. ``request_id`` lets :meth:`take` hand the reply over at once."""
        ensure_dir(self.inbox_path.parent)
        names = {self.inbox_path.name, self.archive_path.name}
        deadline = time.monotonic() + timeout
        with Waker([(self.inbox_path.parent, names.__contains__)]) as waker:
            if request_id is not None:
                with self._lock:
                    self._waiters.setdefault(request_id, []).append(waker)
            try:
                while True:
                    waker.event.clear()
                    found = self.find(match)
                    left = deadline - time.monotonic()
                    if found is not None or left <= 0:
                        return found
                    waker.wait(min(left, 1.0))
            finally:
                if request_id is not None:
                    with self._lock:
                        self._waiters[request_id].remove(waker)
                        if not self._waiters[request_id]:
                            del self._waiters[request_id]

    def wait_answer(self, request_id: str, timeout: float) -> ProtocolMessage | None:
        """The protocol reply to ``request_id`` (its ``requestId`` echoes it), waiting up to
        ``timeout`` seconds; None when none came. Marks nothing read."""
        found = self.wait_for(lambda m: answer_to(m, request_id) is not None, timeout, request_id=request_id)
        return None if found is None else answer_to(found, request_id)

"""Per-member mailboxes: ``teams/<team>/inboxes/<agent>.json``, a JSON array as Claude Code keeps it.

What crewmux adds on top of Claude Code's scheme:

* a send names a member of the team or fails (no phantom inboxes), is refused over
  :data:`MAX_MESSAGE_BYTES`, or when the recipient's unread text would pass
  :data:`MAX_UNREAD_BYTES` (:class:`InboxFull`), returns a message id, and raises if nothing
  was written;
* writes are crash-safe and under the inbox's lock; a corrupt inbox is quarantined and reported;
* read messages are compacted out of the inbox into a per-member archive (JSON lines, itself
  trimmed), so an inbox never grows without bound and a sender can still ask "was it read?";
* a waiting recipient wakes on a file-system event, not a poll.

An inbox Claude Code consumes (:func:`app.core.team.claude_code_reads_inbox`: a claude teammate,
or in interop mode a member Claude Code started) is only ever read: crewmux never marks it read or
compacts it. Claude Code 2.1.332 removes the messages it delivers, so each message crewmux puts
there is also noted in ``.crewmux/claude-sent.jsonl``; a noted id that left the inbox is ``read``.

In interop mode (Claude Code's root, see :mod:`app.core.interop`) every inbox lock is also
Claude Code's mkdir lock ``<agent>.json.lock``; messages are written as the current Claude Code
writes them (``type: "message"``, ``msgV: 1``, ``msg_id``); and read messages stay in the inbox,
as Claude Code leaves them, until there are :data:`INTEROP_COMPACT_READ_AFTER` of them — only
then are the read ones moved to crewmux's archive, which bounds the inbox without pruning it on
every read.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, ValidationError

from app.core import atomic
from app.core.atomic import append_lines, atomic_write, ensure_dir, maybe_sweep_temps, open_regular, read_bytes
from app.core.errors import BadInput, InboxFull, MessageNotFound, MessageTooLarge, TeammateNotFound
from app.core.interop import INTEROP_COMPACT_READ_AFTER, read_shared, shared_lock
from app.core.models import InboxAdapter, InboxMessage, inbox_json, now_iso
from app.core.team import claude_code_reads_inbox
from app.core.watch import DirWatcher

if TYPE_CHECKING:
    from collections.abc import Iterable
    from contextlib import AbstractContextManager
    from pathlib import Path

    from app.core.models import TeamFile
    from app.core.paths import TeamPaths
    from app.core.team import TeamStore

MAX_MESSAGE_BYTES = 256 * 1024
# The unread text an inbox may hold; a send past it is refused (InboxFull), so a send (which
# rewrites the inbox, Claude Code's format being one JSON array) never gets costlier than this.
MAX_UNREAD_BYTES = 1024 * 1024
# Read messages a Claude Code reader left in its inbox are compacted once there are this many.
COMPACT_READ_AFTER = 50
# The archive is trimmed to its newer half once it passes this size.
ARCHIVE_MAX_BYTES = 4 * 1024 * 1024


class ArchivedMessage(BaseModel, defer_build=True, cache_strings="keys"):
    """One line of an inbox archive: the message and when it was found read."""

    message: InboxMessage = Field(description="The message as it stood in the inbox.")
    read_at: str = Field(description="ISO time it was compacted out as read.")


class SentNote(BaseModel, defer_build=True, cache_strings="keys"):
    """One line of ``claude-sent.jsonl``: a message put in an inbox Claude Code consumes."""

    msg_id: str = Field(description="The message's id.")
    to: str = Field(description="The recipient.")
    sender: str = Field(description="Who sent it.")
    timestamp: str = Field(description="When it was sent.")


def _trim(log: Path) -> None:
    """Keep a log file to its newer half once it passes :data:`ARCHIVE_MAX_BYTES`."""
    try:
        size = log.stat().st_size
    except OSError:
        return
    if size > ARCHIVE_MAX_BYTES:
        keep = read_bytes(log, start=size // 2) or b""  # the newer half only: never the whole log in memory
        atomic_write(log, keep[keep.find(b"\n") + 1 :])


@dataclass(frozen=True)
class MessageState:
    """Where a message stands: ``sent`` (in the inbox, unread) or ``read``."""

    msg_id: str
    state: Literal["sent", "read"]
    to: str
    sender: str
    timestamp: str
    read_at: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "msgId": self.msg_id,
            "state": self.state,
            "to": self.to,
            "from": self.sender,
            "timestamp": self.timestamp,
            "readAt": self.read_at,
        }


def new_msg_id() -> str:
    return uuid.uuid4().hex


class Mailbox:
    """The mailboxes of one team."""

    def __init__(self, teams: TeamStore, team: str, *, lock_timeout: float = 30.0) -> None:
        self.teams = teams
        self.team = team
        self.paths: TeamPaths = teams.paths(team)
        self.lock_timeout = lock_timeout

    # -- helpers ---------------------------------------------------------------------------
    def _read_inbox(self, path: Path, *, held: bool = False) -> list[InboxMessage]:
        found = read_shared(path, InboxAdapter, interop=self.paths.interop, held=held, timeout=self.lock_timeout)
        return found if isinstance(found, list) else []

    def _lock(self, path: Path) -> AbstractContextManager[None]:
        return shared_lock(path, interop=self.paths.interop, timeout=self.lock_timeout)

    def _threshold(self, own: int) -> int:
        """How many read messages an inbox may hold before they are archived."""
        return INTEROP_COMPACT_READ_AFTER if self.paths.interop else own

    def _write_inbox(self, path: Path, messages: list[InboxMessage]) -> None:
        atomic_write(path, inbox_json(messages))

    def _archive(self, agent: str, messages: Iterable[InboxMessage]) -> None:
        archive = self.paths.archive(agent)
        stamp = now_iso()
        entries = [(m, ArchivedMessage(message=m, read_at=stamp).model_dump_json(by_alias=True)) for m in messages]
        # A compaction killed between this append and the inbox rewrite left these lines at the
        # archive's end already: archived once, by message id.
        done = _ids_at_end(archive, sum(len(line) + 1 for _, line in entries))
        append_lines(archive, (line for m, line in entries if not (m.msg_id and m.msg_id in done)))
        _trim(archive)

    def claude_code_inboxes(self, tf: TeamFile | None = None) -> set[str]:
        """The members whose inbox Claude Code consumes (crewmux only reads those)."""
        tf = tf or self.teams.load(self.team)
        return {m.name for m in tf.members if claude_code_reads_inbox(tf, m, interop=self.paths.interop)}

    def _note_sent(self, to: str, message: InboxMessage) -> None:
        """Remember a message put in an inbox Claude Code consumes (a hint, so not fsynced)."""
        note = SentNote(msg_id=message.msg_id or "", to=to, sender=message.sender, timestamp=message.timestamp)
        append_lines(self.paths.claude_sent_log, [note.model_dump_json()], fsync=False)
        _trim(self.paths.claude_sent_log)

    def _sent_note(self, msg_id: str) -> SentNote | None:
        raw = read_bytes(self.paths.claude_sent_log) or b""
        for line in raw.splitlines():
            if msg_id.encode() in line:
                try:
                    note = SentNote.model_validate_json(line)
                except ValidationError:
                    continue
                if note.msg_id == msg_id:
                    return note
        return None

    def _compact(self, agent: str, messages: list[InboxMessage], *, threshold: int) -> list[InboxMessage]:
        read = [m for m in messages if m.read]
        if len(read) < threshold or not read:
            return messages
        self._archive(agent, read)
        return [m for m in messages if not m.read]

    def _members(self) -> list[str]:
        return [m.name for m in self.teams.load(self.team).members]

    def _require_member(self, *names: tuple[str, str], tf: TeamFile | None = None) -> list[str]:
        """Check each (role, name) is a member; returns all member names."""
        members = [m.name for m in tf.members] if tf is not None else self._members()
        for role, name in names:
            if name not in members:
                raise TeammateNotFound(
                    f"{role} {name!r} is not a member of team {self.team!r} (members: {', '.join(members)})"
                )
        return members

    # -- sending ---------------------------------------------------------------------------
    def _deliver(self, to: str, message: InboxMessage, *, claude_reads: bool = False, hold: bool = False) -> None:
        if hold:  # a paused member: nothing reaches it until it is resumed (release_held)
            claude_reads = False
        path = self.paths.held(to) if hold else self.paths.inbox(to)
        ensure_dir(path.parent)
        with self._lock(path):
            maybe_sweep_temps(path.parent)  # temp files of writers killed mid-write
            messages = self._read_inbox(path, held=True)
            if not claude_reads:
                messages = self._compact(to, messages, threshold=self._threshold(COMPACT_READ_AFTER))
            _check_room(to, messages, message)
            messages.append(message)
            self._write_inbox(path, messages)
        if claude_reads:
            self._note_sent(to, message)

    def _make(self, sender: str, text: str, summary: str | None, color: str | None) -> InboxMessage:
        if not isinstance(text, str) or not text:
            raise BadInput("a message needs text")
        size = len(text.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(
                f"message is {size} bytes; the limit is {MAX_MESSAGE_BYTES} bytes (send a file path instead)"
            )
        message = InboxMessage(
            sender=sender,
            text=text,
            summary=summary,
            color=color,
            read=False,
            msg_id=new_msg_id(),
        )
        if self.paths.interop:  # what the current Claude Code writes
            message.type = "message"
            message.msg_v = 1
        return message

    def send(self, to: str, text: str, *, sender: str, summary: str | None = None, color: str | None = None) -> str:
        """Append a message to ``to``'s inbox; returns its id. Raises if it was not written."""
        tf = self.teams.load(self.team)
        self._require_member(("sender", sender), ("recipient", to), tf=tf)
        message = self._make(sender, text, summary, color)
        self._deliver(to, message, claude_reads=to in self.claude_code_inboxes(tf), hold=_paused(tf, to))
        assert message.msg_id is not None
        return message.msg_id

    def broadcast(self, text: str, *, sender: str, summary: str | None = None) -> dict[str, str]:
        """The same message to every member but the sender; returns recipient → message id."""
        tf = self.teams.load(self.team)
        members = self._require_member(("sender", sender), tf=tf)
        claude_reads = self.claude_code_inboxes(tf)
        ids: dict[str, str] = {}
        for name in members:
            if name == sender:
                continue
            message = self._make(sender, text, summary, None)
            self._deliver(name, message, claude_reads=name in claude_reads, hold=_paused(tf, name))
            assert message.msg_id is not None
            ids[name] = message.msg_id
        return ids

    # -- reading ---------------------------------------------------------------------------
    def inbox(self, agent: str, *, unread_only: bool = False, tf: TeamFile | None = None) -> list[InboxMessage]:
        """The messages in ``agent``'s inbox, oldest first (``tf``: the team file, already read)."""
        self._require_member(("member", agent), tf=tf)
        messages = self._read_inbox(self.paths.inbox(agent))
        return [m for m in messages if not m.read] if unread_only else messages

    def mark_read(self, agent: str, msg_ids: Iterable[str] | None = None) -> list[InboxMessage]:
        """Mark messages read (all unread ones, or those named) and compact them into the archive.

        Returns the messages that were newly marked read. Messages without an id (written by an
        older Claude Code) can only be marked by marking all (``msg_ids`` None).
        """
        self._require_member(("member", agent))
        wanted = set(msg_ids) if msg_ids is not None else None
        path = self.paths.inbox(agent)
        with self._lock(path):
            messages = self._read_inbox(path, held=True)
            newly: list[InboxMessage] = []
            for m in messages:
                if not m.read and (wanted is None or m.msg_id in wanted):
                    m.read = True
                    newly.append(m)
            kept = self._compact(agent, messages, threshold=self._threshold(1))
            if not newly and kept is messages:
                return []
            self._write_inbox(path, kept)
            return newly

    def take_unread(self, agent: str) -> list[InboxMessage]:
        """Read and mark read every unread message in one step (what a worker does)."""
        return self.mark_read(agent)

    def history(self, agent: str, *, last: int = 0) -> list[tuple[InboxMessage, str | None]]:
        """Archived (read times; ``last`` > 0: the newest that many) then current messages, oldest first.

        A compaction killed after its archive append leaves messages both archived and still in
        the inbox: the inbox holds the truth (they are unread until the next compaction).
        """
        current = self._read_inbox(self.paths.inbox(agent))
        seen = {m.msg_id for m in current if m.msg_id}
        out: list[tuple[InboxMessage, str | None]] = []
        for line in atomic.read_last_lines(self.paths.archive(agent), last):  # the newest only: read from the end
            try:
                entry = ArchivedMessage.model_validate_json(line)
            except ValidationError:
                continue
            if entry.message.msg_id and entry.message.msg_id in seen:
                continue
            seen.add(entry.message.msg_id or "")
            out.append((entry.message, entry.read_at))
        out.extend((m, None) for m in current)
        return out

    def status(self, msg_id: str) -> MessageState:
        """Where a message stands, looked up in every member's inbox and archive."""
        for name in self._members():
            for m in self._read_inbox(self.paths.inbox(name)):
                if m.msg_id == msg_id:
                    return MessageState(msg_id, "read" if m.read else "sent", name, m.sender, m.timestamp)
        for name in self._members():
            raw = read_bytes(self.paths.archive(name)) or b""
            needle = msg_id.encode()
            if needle not in raw:
                continue
            for line in raw.splitlines():
                if needle in line:
                    try:
                        entry = ArchivedMessage.model_validate_json(line)
                    except ValidationError:
                        continue
                    if entry.message.msg_id == msg_id:
                        return MessageState(
                            msg_id, "read", name, entry.message.sender, entry.message.timestamp, entry.read_at
                        )
        note = self._sent_note(msg_id)
        if note is not None:  # it left an inbox Claude Code consumes: Claude Code took it
            return MessageState(msg_id, "read", note.to, note.sender, note.timestamp)
        raise MessageNotFound(f"no message {msg_id!r} in team {self.team!r}")

    def wait(self, agent: str, timeout: float, *, mark_read: bool = False) -> InboxMessage | None:
        """The first unread message, waiting up to ``timeout`` seconds for one to arrive."""
        self._require_member(("member", agent))
        path = self.paths.inbox(agent)
        ensure_dir(path.parent)
        deadline = time.monotonic() + timeout
        with DirWatcher(path.parent, {path.name}) as watcher:
            while True:
                unread = [m for m in self._read_inbox(path) if not m.read]
                if unread:
                    first = unread[0]
                    if mark_read and first.msg_id:
                        self.mark_read(agent, [first.msg_id])
                    return first
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                watcher.wait(left)


def _check_room(to: str, messages: list[InboxMessage], message: InboxMessage) -> None:
    """Refuse (InboxFull) a message that would take ``to``'s unread text past :data:`MAX_UNREAD_BYTES`."""
    unread = [m for m in messages if not m.read]
    size = sum(len(m.text.encode("utf-8")) for m in (*unread, message))
    if size > MAX_UNREAD_BYTES:
        raise InboxFull(
            f"{to}'s inbox holds {len(unread)} unread messages ({size / 1_048_576:.1f} MB with this one); "
            f"the limit is {MAX_UNREAD_BYTES / 1_048_576:g} MB: nothing more is taken until {to} reads its messages"
        )


def _ids_at_end(archive: Path, nbytes: int) -> set[str]:
    """Message ids in the archive's last ``nbytes`` (and a little more), read without the rest."""
    try:
        fd = open_regular(archive, os.O_RDONLY)
    except FileNotFoundError:
        return set()
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(max(0, size - nbytes - 4096))
        tail = f.read()
    ids: set[str] = set()
    for line in tail.splitlines()[1:] if size > nbytes + 4096 else tail.splitlines():
        try:
            found = ArchivedMessage.model_validate_json(line).message.msg_id
        except ValidationError:
            continue
        if found:
            ids.add(found)
    return ids


def dump_messages(messages: Iterable[InboxMessage]) -> list[dict[str, object]]:
    """Messages as their on-disk JSON objects (for ``--json``)."""
    return [json.loads(m.model_dump_json(by_alias=True, exclude_none=True)) for m in messages]


def _paused(tf: TeamFile, name: str) -> bool:
    member = tf.member(name)
    return bool(member is not None and member.crewmux is not None and member.crewmux.paused)

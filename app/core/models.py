"""The files crewmux shares with Claude Code, as pydantic models.

Keys are camelCase on disk, exactly as Claude Code writes them; Python code uses snake_case.
Every model keeps fields it does not know (``extra="allow"``) and writes them back unchanged, so
a newer Claude Code's additions survive a rewrite by crewmux.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    from collections.abc import Sequence

BackendType = Literal["tmux", "iterm2", "in-process"]
TaskStatus = Literal["pending", "in_progress", "completed"]


def now_ms() -> int:
    """Epoch milliseconds, as Claude Code stamps ``createdAt`` and ``joinedAt``."""
    return int(time.time() * 1000)


def now_iso() -> str:
    """An ISO-8601 UTC timestamp with milliseconds and ``Z``, as JavaScript's toISOString."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# pydantic-core keeps every string of 64 characters or less that ``validate_json`` makes in one
# process-wide cache of 16,384 entries, unless a model says otherwise. Our files are full of
# strings that never repeat (message ids, timestamps), so that cache filled with them: ~1.2 MiB
# of the console's memory grew over its first ~10,000 messages for no gain. Every model and
# adapter read from a file caches its keys only (a test checks each one).
CACHE_STRINGS: Final = "keys"


class SharedModel(BaseModel):
    """Base of every on-disk model: camelCase aliases, unknown keys kept."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        validate_assignment=False,
        defer_build=True,
        cache_strings=CACHE_STRINGS,
    )

    def to_json(self) -> str:
        """The on-disk form: camelCase keys, absent optionals left out, 2-space indent."""
        return self.model_dump_json(by_alias=True, exclude_none=True, indent=2)


class MemberRuntime(SharedModel):
    """What crewmux records about a member's process; Claude Code ignores this block."""

    pid: int | None = Field(default=None, description="Process id of the pane's main process.")
    pid_create_time: float | None = Field(
        default=None, description="psutil create_time of that process, so a reused pid is noticed."
    )
    argv: list[str] | None = Field(default=None, description="The command the member was started with.")
    agent_kind: str | None = Field(default=None, description="worker, claude, codex, shell, ...")
    pane_session: str | None = Field(default=None, description="Backend-specific locator (tmux socket/session).")
    created_by_crewmux: bool = Field(default=False, description="True when crewmux created the pane.")
    env: dict[str, str] | None = Field(default=None, description="Extra environment it was started with.")
    worktree: str | None = Field(default=None, description="The git worktree the member works in.")
    ended: str | None = Field(
        default=None, description="Why it ended on purpose (killed, shut down, left); resume leaves it ended."
    )
    session_id: str | None = Field(
        default=None, description="The agent CLI's own conversation id (or history file), to resume it."
    )
    max_tokens: int | None = Field(default=None, description="Budget: tokens in + out.")
    max_usd: float | None = Field(default=None, description="Budget: cost in USD.")
    max_minutes: float | None = Field(default=None, description="Budget: wall minutes.")
    budget_warned: bool = Field(default=False, description="The lead was told it passed 80 %.")
    paused: str | None = Field(
        default=None, description="Why it is paused (over-budget): its turn interrupted, deliveries held."
    )


class Member(SharedModel):
    """One entry of ``members`` in the team file."""

    agent_id: str = Field(description="'<name>@<team>'.")
    name: str = Field(description="The member's name; 'team-lead' for the lead.")
    agent_type: str | None = Field(default=None, description="Claude Code agent type, if any.")
    model: str | None = Field(default=None, description="Model the agent runs, if known.")
    prompt: str | None = Field(default=None, description="The first prompt it was given.")
    color: str | None = Field(default=None, description="Display color name.")
    plan_mode_required: bool | None = Field(default=None, description="Must ask plan approval first.")
    joined_at: int = Field(default_factory=now_ms, description="Epoch ms when it joined.")
    tmux_pane_id: str = Field(default="", description="'' for the lead, 'in-process', or '%N'.")
    cwd: str = Field(default="", description="Working directory.")
    subscriptions: list[str] = Field(default_factory=list, description="Unused by crewmux; kept.")
    backend_type: BackendType | None = Field(default=None, description="Where its pane lives.")
    is_active: bool | None = Field(default=None, description="False once it has stopped.")
    mode: str | None = Field(default=None, description="Permission mode, if set.")
    crewmux: MemberRuntime | None = Field(default=None, description="crewmux's process record.")


class TeamFile(SharedModel):
    """``teams/<team>/config.json``."""

    name: str = Field(description="The team's display name.")
    description: str | None = Field(default=None, description="What the team is for.")
    created_at: int = Field(default_factory=now_ms, description="Epoch ms.")
    lead_agent_id: str = Field(description="'team-lead@<team>'.")
    lead_session_id: str | None = Field(default=None, description="The lead's session id.")
    hidden_pane_ids: list[str] | None = Field(default=None, description="Panes hidden from view.")
    members: list[Member] = Field(default_factory=list, description="The lead first.")

    def member(self, name: str) -> Member | None:
        for m in self.members:
            if m.name == name:
                return m
        return None


class Task(SharedModel):
    """``tasks/<team>/<id>.json``."""

    id: str = Field(description="Decimal id, never reused.")
    subject: str = Field(description="One line: what to do.")
    description: str = Field(default="", description="The details.")
    active_form: str | None = Field(default=None, description="'Doing X' form shown while in progress.")
    owner: str | None = Field(default=None, description="Member name that owns it.")
    status: TaskStatus = Field(default="pending", description="pending, in_progress or completed.")
    blocks: list[str] = Field(default_factory=list, description="Tasks waiting on this one.")
    blocked_by: list[str] = Field(default_factory=list, description="Tasks this one waits on.")
    metadata: dict[str, Any] | None = Field(default=None, description="Free-form; crewmux uses 'command'.")

    def availability(self, open_blockers: Sequence[str]) -> str:
        """The one availability rule, with the reason: ``available`` only when pending, with no
        owner and no open blocker (``open_blockers``: its blockers not completed); else ``done``,
        ``blocked by 1, 2``, ``owned`` or ``in progress``. Claims and the console both use it."""
        if self.status == "completed":
            return "done"
        if open_blockers:
            return "blocked by " + ", ".join(open_blockers)
        if self.owner:
            return "owned"
        return "available" if self.status == "pending" else "in progress"


class InboxMessage(SharedModel):
    """One message in ``teams/<team>/inboxes/<agent>.json``."""

    sender: str = Field(alias="from", description="Sender's name.")
    text: str = Field(description="Plain text, or a protocol message as JSON.")
    timestamp: str = Field(default_factory=now_iso, description="ISO-8601 UTC.")
    read: bool = Field(default=False, description="Set by the recipient once read.")
    color: str | None = Field(default=None, description="Sender's color.")
    summary: str | None = Field(default=None, description="A short preview.")
    type: str | None = Field(default=None, description="'message' in newer Claude Code versions.")
    msg_v: int | None = Field(default=None, alias="msgV", description="Message format version.")
    msg_id: str | None = Field(default=None, alias="msg_id", description="Unique id of the message.")


InboxAdapter: TypeAdapter[list[InboxMessage]] = TypeAdapter(
    list[InboxMessage], config=ConfigDict(defer_build=True, cache_strings=CACHE_STRINGS)
)


def inbox_json(messages: list[InboxMessage]) -> str:
    """An inbox file's text."""
    body = ",\n".join("  " + m.model_dump_json(by_alias=True, exclude_none=True) for m in messages)
    return "[\n" + body + "\n]\n" if messages else "[]\n"

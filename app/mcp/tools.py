"""The team tools an MCP server offers, as plain methods over the core: one member, one team.

:class:`TeamTools` is bound at construction to the member it acts as; no method takes a name to
act as, so whatever the model sends, a call acts as that member and no one else. Every method
goes through the same core as the CLI and the console (:class:`TaskStore`, :class:`Mailbox`,
:class:`TeamStore`, the delegate-mode policy), raises :class:`CrewmuxError` subclasses for
refusals and bad input, and returns plain JSON-able dicts. The MCP layer (``server.py``) turns
the errors into tool errors.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from app.core import policy
from app.core.agent_reports import file_report, read_report
from app.core.errors import BadInput, TeammateNotFound
from app.core.liveness import TeamLiveness
from app.core.mailbox import Mailbox, dump_messages
from app.core.paths import LEAD_NAME
from app.core.tasks import TaskStore
from app.core.watch import DirWatcher

if TYPE_CHECKING:
    from app.core.models import InboxMessage, Member, Task
    from app.core.paths import TeamPaths
    from app.core.team import TeamStore

BROADCAST = "*"
MAX_INBOX_RESULT = 50


def task_doc(task: Task, blockers: list[str] | None = None) -> dict[str, Any]:
    """A task as its on-disk JSON object, plus ``blockedBy`` ids still open when known."""
    doc: dict[str, Any] = json.loads(task.to_json())
    if blockers is not None:
        doc["openBlockers"] = blockers
        doc["availability"] = task.availability(blockers)  # the core's one rule, with its reason
        doc["available"] = doc["availability"] == "available"
    return doc


def message_doc(message: InboxMessage) -> dict[str, Any]:
    return dump_messages([message])[0]


def await_member(teams: TeamStore, team: str, name: str, timeout: float) -> None:
    """Return once ``name`` is a member of ``team``; TeammateNotFound after ``timeout`` seconds.

    A teammate's CLI may start its MCP server before ``crewmux spawn`` has recorded the member (the
    process starts first, then it joins): the server waits on the team file for the join."""
    paths = teams.paths(team)
    deadline = time.monotonic() + timeout
    with DirWatcher(paths.team_dir, {paths.config.name}) as watcher:
        while True:
            try:
                teams.member(team, name)
                return
            except TeammateNotFound:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                watcher.wait(left)


class TeamTools:
    """The tools of one member of one team."""

    def __init__(self, teams: TeamStore, team: str, me: str) -> None:
        teams.member(team, me)  # TeamNotFound / TeammateNotFound: refuse to start as a stranger
        self.teams = teams
        self.team = team
        self.me = me
        self.paths: TeamPaths = teams.paths(team)
        self.mailbox = Mailbox(teams, team)

    def _tasks(self) -> TaskStore:
        return TaskStore(self.paths)

    # -- the team ----------------------------------------------------------------------------
    def _member_doc(self, m: Member, owned: list[str], liveness: TeamLiveness) -> dict[str, Any]:
        rt = m.crewmux
        doc: dict[str, Any] = {
            "name": m.name,
            "kind": (rt.agent_kind if rt is not None else None) or m.agent_type,
            "running": liveness.alive(m),  # never isActive: Claude Code clears it after every turn
            "owns": owned,
        }
        if rt is not None and rt.paused:
            doc["state"], doc["paused"] = "over-budget", rt.paused  # its messages are held
        report = read_report(self.paths, m.name)
        if report is not None:
            doc["reported"] = report.model_dump(by_alias=True, exclude_none=True, exclude={"agent"})
        return doc

    def team_status(self) -> dict[str, Any]:
        team = self.teams.load(self.team)
        tasks = self._tasks().list_tasks()
        owned: dict[str, list[str]] = {}
        for t in tasks:
            if t.owner and t.status != "completed":
                owned.setdefault(t.owner, []).append(t.id)
        counts = {s: sum(1 for t in tasks if t.status == s) for s in ("pending", "in_progress", "completed")}
        liveness = TeamLiveness(team)
        return {
            "team": team.name,
            "you": self.me,
            "lead": LEAD_NAME,
            "delegateMode": policy.is_delegate(self.paths),
            "members": [self._member_doc(m, owned.get(m.name, []), liveness) for m in team.members],
            "tasks": counts,
        }

    # -- tasks -------------------------------------------------------------------------------
    def task_list(self, status: str | None = None, owner: str | None = None) -> dict[str, Any]:
        store = self._tasks()
        tasks = store.list_tasks()
        blocked = store.blocked(tasks)
        shown = [
            task_doc(t, blocked[t.id])
            for t in tasks
            if (status is None or t.status == status) and (owner is None or (t.owner or "") == owner)
        ]
        return {"tasks": shown, "count": len(shown)}

    def task_get(self, task_id: str) -> dict[str, Any]:
        store = self._tasks()
        task = store.get(task_id)
        return task_doc(task, store.open_blockers(task.id))

    def task_create(self, subject: str, description: str = "", blocked_by: list[str] | None = None) -> dict[str, Any]:
        policy.check(self.paths, self.me, "manage_tasks")
        store = self._tasks()
        task = store.create(subject, description, blocked_by=blocked_by or ())
        return task_doc(task, store.open_blockers(task.id))

    def task_claim(self, task_id: str | None = None) -> dict[str, Any]:
        self.teams.member(self.team, self.me)  # the core refuses the lead in delegate mode
        task = self._tasks().claim(task_id or None, self.me)
        return task_doc(task, [])

    def task_update(
        self,
        task_id: str,
        *,
        status: str | None = None,
        owner: str | None = None,
        subject: str | None = None,
        description: str | None = None,
        add_blocked_by: list[str] | None = None,
    ) -> dict[str, Any]:
        policy.check(self.paths, self.me, "manage_tasks")
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status
        if subject is not None:
            changes["subject"] = subject
        if description is not None:
            changes["description"] = description
        if owner is not None:
            if owner:
                self.teams.member(self.team, owner)
            changes["owner"] = owner or None
        store = self._tasks()
        task = store.update(task_id, add_blocked_by=add_blocked_by or (), **changes)
        if task is None:
            return {"id": task_id, "deleted": True}
        return task_doc(task, store.open_blockers(task.id))

    # -- messages ----------------------------------------------------------------------------
    def send_message(self, to: str, text: str, summary: str | None = None) -> dict[str, Any]:
        policy.check(self.paths, self.me, "message")
        if to == BROADCAST:
            ids = self.mailbox.broadcast(text, sender=self.me, summary=summary)
            return {"msgIds": ids, "state": "sent"}
        if to == self.me:
            raise BadInput("you cannot send a message to yourself")
        msg_id = self.mailbox.send(to, text, sender=self.me, summary=summary)
        return {"msgId": msg_id, "to": to, "state": "sent"}

    def read_inbox(self, *, unread_only: bool = True, mark_read: bool = True) -> dict[str, Any]:
        messages = self.mailbox.inbox(self.me, unread_only=unread_only)[-MAX_INBOX_RESULT:]
        if mark_read:
            # Only what is shown: a message arriving meanwhile stays unread for the next call.
            ids = [m.msg_id for m in messages if m.msg_id and not m.read]
            if ids:
                self.mailbox.mark_read(self.me, ids)
            elif any(not m.read for m in messages):  # written without ids (an older Claude Code)
                self.mailbox.mark_read(self.me)
        return {"messages": [message_doc(m) for m in messages], "count": len(messages)}

    def first_unread(self) -> InboxMessage | None:
        """The oldest unread message, not marked (the waiting tool marks it once it is handed over)."""
        unread = self.mailbox.inbox(self.me, unread_only=True)
        return unread[0] if unread else None

    def take(self, message: InboxMessage) -> dict[str, Any]:
        """Mark ``message`` read (the ledger records that the agent took it) and return it."""
        self.mailbox.mark_read(self.me, [message.msg_id] if message.msg_id else None)
        return {"message": message_doc(message), "timedOut": False}

    # -- the member's own state --------------------------------------------------------------
    def report_status(self, state: str, working_on: str | None = None, blocked_on: str | None = None) -> dict[str, Any]:
        report = file_report(self.paths, self.me, state, working_on=working_on, blocked_on=blocked_on)
        return {"recorded": report.model_dump(by_alias=True, exclude_none=True)}

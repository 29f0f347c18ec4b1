"""A teammate that said it is idle stays shown idle after the console has read (archived) the notice."""

from __future__ import annotations

from app.console.model import last_idle_by_sender, member_state
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.protocol import IdleNotification, protocol_text
from app.core.team import TeamStore


def test_idle_notice_read_by_the_console_still_counts(teams: TeamStore, team: str) -> None:
    box = Mailbox(teams, team)
    idle = IdleNotification(sender="alice", idle_reason="no_task", summary="no task available")
    box.send(LEAD_NAME, protocol_text(idle), sender="alice")
    box.mark_read(LEAD_NAME)  # what the console does: the notice moves to the archive
    assert box.inbox(LEAD_NAME) == []
    found = last_idle_by_sender(m for m, _ in box.history(LEAD_NAME))
    assert found["alice"].idle_reason == "no_task"
    alice = teams.member(team, "alice")
    assert member_state(alice, alive=True, idle=found["alice"], now_ms=alice.joined_at + 60_000, cpu=0.0) == "idle"


def test_anything_newer_from_the_sender_means_it_is_no_longer_idle(teams: TeamStore, team: str) -> None:
    box = Mailbox(teams, team)
    box.send(LEAD_NAME, protocol_text(IdleNotification(sender="bob", idle_reason="no_task")), sender="bob")
    box.mark_read(LEAD_NAME)
    box.send(LEAD_NAME, "picked up task 3", sender="bob")
    assert "bob" not in last_idle_by_sender(m for m, _ in box.history(LEAD_NAME))

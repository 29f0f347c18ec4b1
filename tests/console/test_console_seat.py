"""One console owns a team's duties; others watch without consuming the lead's inbox, then take over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from app.console.seat import ConsoleSeat, ViewerInbox
from app.core.locks import try_hold
from app.core.models import InboxMessage
from app.core.paths import LEAD_NAME
from backends.console_link import socket_path
from tests.console.console_helpers import noticed, notices, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore


def test_one_seat_holder_at_a_time(tmp_path: Path) -> None:
    first, second = ConsoleSeat(tmp_path / "seat"), ConsoleSeat(tmp_path / "seat")
    assert first.try_take() and first.try_take()  # taking again keeps it
    assert not second.try_take() and not second.owner
    first.release()
    assert second.try_take() and second.owner
    second.release()
    second.release()  # idempotent


def test_a_killed_holder_frees_the_seat(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from app.core.locks import try_hold; "
            "held = try_hold(Path(sys.argv[1])); print(held is not None, flush=True); time.sleep(60)",
            str(tmp_path / "seat"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
    assert try_hold(tmp_path / "seat") is None
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    taken = try_hold(tmp_path / "seat")
    assert taken is not None
    taken.release()


def msg(text: str, *, read: bool = False, msg_id: str | None = None) -> InboxMessage:
    return InboxMessage.model_validate({"from": "alice", "text": text, "read": read, "msg_id": msg_id})


def test_a_viewer_shows_unread_first_then_whatever_appears() -> None:
    inbox = ViewerInbox()
    old, waiting = msg("old", read=True, msg_id="1"), msg("waiting", msg_id="2")
    assert [m.text for m in inbox.new([(old, "then"), (waiting, None)])] == ["waiting"]
    fresh = msg("fresh", msg_id="3")
    read_by_owner = msg("waiting", read=True, msg_id="2")
    assert [m.text for m in inbox.new([(old, "then"), (read_by_owner, "now"), (fresh, None)])] == ["fresh"]
    later = msg("later", msg_id="4")
    assert [m.text for m in inbox.not_shown([fresh, later])] == ["later"]  # after a takeover


async def test_a_viewer_console_leaves_the_lead_inbox_to_the_owner_then_takes_over(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str
) -> None:
    other = try_hold(teams.paths(team).console_seat)  # another console owns the team
    assert other is not None
    app = console_factory(team, tick=0.3, life=True)
    try:
        async with app.run_test(size=(140, 44)) as pilot:
            await until(pilot, noticed(pilot, "another console owns"))
            link = socket_path(teams.paths(team))
            assert not link.exists()  # the shell's in-process spawns go to the owning console
            app.ctx.mailbox.send(LEAD_NAME, "the build is green", sender="alice")
            await until(pilot, noticed(pilot, "the build is green"))
            # the refresh that showed it is the one that would have consumed it: it is still unread
            assert len(app.ctx.mailbox.inbox(LEAD_NAME, unread_only=True)) == 1
            other.release()
            await until(pilot, noticed(pilot, "this console now owns"))
            await until(pilot, link.exists)  # and now to this one
            await until(pilot, lambda: not app.ctx.mailbox.inbox(LEAD_NAME, unread_only=True))
            lines = [line for line in notices(pilot) if "the build is green" in line]
            assert len(lines) == 1  # shown once, though the viewer saw it and the owner read it
    finally:
        other.release()
    again = try_hold(teams.paths(team).console_seat)
    assert again is not None  # quitting gave the seat back
    again.release()

"""The lead's inbox: one consumer, answers matched by request id over the whole history."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.protocol import ShutdownApproved, protocol_text, request_id
from app.lifecycle.lead_inbox import LeadInbox
from app.lifecycle.shutdown import shutdown_member
from tests.agents.teammate_helpers import Workers, wait_until

if TYPE_CHECKING:
    from app.core.team import TeamStore


def test_shutdowns_are_approved_while_another_reader_archives_the_lead_inbox(
    teams: TeamStore, workers: Workers
) -> None:
    """Another process reading the lead's inbox (a console, ``msg read --mark-read``) archives the
    answer at once; each shutdown must still find its ``shutdown_approved``."""
    teams.create("busy")
    names = ["w0", "w1", "w2"]
    procs = {n: workers.start("busy", n) for n in names}
    wait_until(lambda: all(teams.load("busy").member(n) is not None for n in names), 60, "workers joined")
    stop = threading.Event()
    taken: list[str] = []

    def other_reader() -> None:
        box = Mailbox(teams, "busy")
        while not stop.is_set():
            taken.extend(m.text for m in box.mark_read(LEAD_NAME))

    reader = threading.Thread(target=other_reader, daemon=True)
    reader.start()
    try:
        for name in names:
            result = shutdown_member(teams, "busy", name, timeout=15)
            assert result.outcome == "approved", f"{name}: {result.outcome} {result.reason}"
            assert procs[name].wait(10) == 0
    finally:
        stop.set()
        reader.join(10)
    assert sum('"shutdown_approved"' in t for t in taken) == len(names)  # the other reader did take them


def test_take_hands_the_reply_to_the_waiter_and_still_returns_it(teams: TeamStore, team: str) -> None:
    box = Mailbox(teams, team)
    lead = LeadInbox.of(box)
    assert LeadInbox.of(Mailbox(teams, team)) is lead  # one reader per team in a process
    rid = request_id("shutdown", "alice")
    got: list[object] = []
    waiting = threading.Thread(target=lambda: got.append(lead.wait_answer(rid, 20)))
    waiting.start()
    box.send(LEAD_NAME, "hello", sender="alice")
    box.send(LEAD_NAME, protocol_text(ShutdownApproved(request_id=rid, sender="alice")), sender="alice")
    wait_until(lambda: len(lead.mailbox.inbox(LEAD_NAME, unread_only=True)) == 2, 10, "both messages")
    taken = lead.take()
    waiting.join(20)
    assert taken[0].text == "hello" and len(taken) == 2
    assert isinstance(got[0], ShutdownApproved) and got[0].request_id == rid
    assert box.inbox(LEAD_NAME, unread_only=True) == []
    # an answer already archived is still found, by request id only
    assert isinstance(lead.wait_answer(rid, 0), ShutdownApproved)
    assert lead.wait_answer(request_id("shutdown", "bob"), 0) is None

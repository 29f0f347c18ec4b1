"""Budgets on a shell teammate in a real tmux pane (wall minutes): the lead is told at 80 %, at
100 % it is paused — state over-budget, messages held, nothing typed — and raising the budget
releases the held message into its inbox."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from app.core.errors import BadInput
from app.core.mailbox import Mailbox
from app.core.team import TeamStore
from app.lifecycle.budgets import check_budgets, held_messages, set_budget
from app.lifecycle.inbox_delivery import InboxDelivery
from app.lifecycle.teammates import SpawnRequest, Teammates
from app.lifecycle.usage import member_usage
from tests.agents.teammate_helpers import wait_until

if TYPE_CHECKING:
    from pathlib import Path


def test_wall_budget_warns_then_pauses_and_holds(home: Path, tmux_socket: str, tmp_path: Path) -> None:
    teams = TeamStore(home)
    teams.create("b")
    svc = Teammates(teams, "b")
    with pytest.raises(BadInput, match="more than 0"):
        svc.spawn(SpawnRequest(name="x", kind="shell", argv=["true"], backend="tmux", max_tokens=-1))
    cat = [sys.executable, "-c", "import sys\nfor line in sys.stdin: print('GOT', line, end='', flush=True)"]
    svc.spawn(SpawnRequest(name="s", kind="shell", argv=cat, backend="tmux", cwd=str(tmp_path), max_minutes=0.05))
    mail = Mailbox(teams, "b")

    def wall() -> float:
        return member_usage(teams.member("b", "s")).wall_seconds or 0.0

    wait_until(lambda: wall() >= 2.5, 10, "80 % of 3 s")
    assert [e.what for e in check_budgets(teams, "b", svc)] == ["warned"]
    assert check_budgets(teams, "b", svc) == []  # told once
    mail.send("s", "EARLY", sender="team-lead")  # unread in its inbox when it gets paused
    wait_until(lambda: wall() >= 3.0, 10, "100 % of 3 s")
    assert [e.what for e in check_budgets(teams, "b", svc)] == ["paused"]
    texts = [m.text for m in mail.inbox("team-lead")]
    assert any("s has used" in t for t in texts) and any("s is over budget" in t for t in texts)
    assert member_usage(teams.member("b", "s")).state == "over-budget"
    mail.send("s", "HELD-ONE", sender="team-lead")
    assert [m.text for m in held_messages(teams, "b", "s")] == ["HELD-ONE"]
    events, _busy = InboxDelivery(mail, svc.backends.get).deliver_once()
    assert events == [] and [m.text for m in mail.inbox("s", unread_only=True)] == ["EARLY"]  # nothing typed
    assert len(set_budget(teams, "b", "s", max_minutes=60)) == 1
    assert [m.text for m in mail.inbox("s", unread_only=True)] == ["EARLY", "HELD-ONE"]
    assert held_messages(teams, "b", "s") == []
    assert member_usage(teams.member("b", "s")).state == "running"


def test_wall_budget_stops_a_worker_which_reads_its_own_inbox(home: Path, tmux_socket: str, tmp_path: Path) -> None:
    """A worker reads its inbox itself (nothing is typed into it): while paused a message is held
    outside its inbox, so it never takes it; a raised budget releases it and the worker reads it."""
    teams = TeamStore(home)
    teams.create("b")
    svc = Teammates(teams, "b")
    svc.spawn(SpawnRequest(name="w", kind="worker", backend="tmux", cwd=str(tmp_path), max_minutes=0.05))
    mail = Mailbox(teams, "b")

    def wall() -> float:
        return member_usage(teams.member("b", "w")).wall_seconds or 0.0

    wait_until(lambda: wall() >= 3.0, 15, "100 % of 3 s")
    assert [e.what for e in check_budgets(teams, "b", svc)] == ["paused"]
    assert member_usage(teams.member("b", "w")).state == "over-budget"
    mail.send("w", "HELD-FOR-WORKER", sender="team-lead")
    assert [m.text for m in held_messages(teams, "b", "w")] == ["HELD-FOR-WORKER"]
    assert all("HELD" not in m.text for m, _read_at in mail.history("w"))  # never in its inbox
    set_budget(teams, "b", "w", max_minutes=60)

    def read_by_worker() -> bool:
        return any(m.text == "HELD-FOR-WORKER" and (read_at or m.read) for m, read_at in mail.history("w"))

    wait_until(read_by_worker, 30, "the worker took the released message")
    assert held_messages(teams, "b", "w") == []

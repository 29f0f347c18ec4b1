"""Snapshots of the message states in the conversation and of the dead-letter list (80x24 and wide).

Deterministic: fixed message ids, ledger times in UTC, members that joined long ago.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

import pytest

from app.core.atomic import append_lines
from app.core.ledger import LedgerEvent
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore


@pytest.fixture
def lettered(teams: TeamStore, team: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """alice (codex): one message read, one being typed, one dead; bob (aider): one dead."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    ids = (f"m{i}" for i in itertools.count(1))
    monkeypatch.setattr("app.core.mailbox.new_msg_id", lambda: next(ids))

    def settle(kind: str) -> Callable[[Any], None]:
        def apply(m: Any) -> None:
            m.joined_at = 0
            m.crewmux = MemberRuntime(agent_kind=kind)

        return apply

    teams.set_member(team, LEAD_NAME, lambda m: setattr(m, "joined_at", 0))
    teams.set_member(team, "alice", settle("codex"))
    teams.set_member(team, "bob", settle("aider"))
    mailbox = Mailbox(teams, team)
    done = mailbox.send("alice", "read the config", sender=LEAD_NAME)
    typing = mailbox.send("alice", "now write the parser", sender=LEAD_NAME)
    dead = mailbox.send("alice", "and the tests, with `$(quotes)`", sender=LEAD_NAME)
    other = mailbox.send("bob", "review alice's parser", sender=LEAD_NAME)
    events = [
        LedgerEvent(id=done, to="alice", state="typing", at=3600.0, via="typed"),
        LedgerEvent(id=done, to="alice", state="delivered", at=3601.0, via="typed"),
        LedgerEvent(id=typing, to="alice", state="typing", at=3700.0, via="typed"),
        LedgerEvent(id=dead, to="alice", state="typing", at=3800.0, via="typed"),
        LedgerEvent(
            id=dead, to="alice", state="dead", at=3801.0, via="typed",
            reason="codex did not take the message: still on its input line after two Enters",
        ),
        LedgerEvent(
            id=other, to="bob", state="dead", at=3900.0, via="typed",
            reason="not delivered within 1800s: bob never waited for input (last: busy)",
        ),
    ]  # fmt: skip
    mailbox.mark_read("alice", [done])
    append_lines(mailbox.paths.runtime_dir / "ledger.jsonl", [e.model_dump_json(exclude_none=True) for e in events])
    return team


def _ready(pilot: Any) -> Any:
    async def run_before(pilot: Any) -> None:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await pilot.pause()

    return run_before


async def _letters_shown(pilot: Any) -> None:
    from app.console.screens.dead_letters import DeadLetterScreen

    await until(pilot, lambda: main_screen(pilot).snapshot is not None)
    await pilot.press("ctrl+l")
    await until(pilot, lambda: isinstance(pilot.app.screen, DeadLetterScreen) and len(pilot.app.screen.letters) == 2)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (130, 40)])
def test_conversation_states(
    snap_compare: Any, console_factory: Callable[..., CrewmuxApp], lettered: str, size: tuple[int, int]
) -> None:
    app = console_factory(lettered)
    assert snap_compare(app, terminal_size=size, run_before=_ready(None), press=["shift+down"])


@pytest.mark.parametrize("size", [(80, 24), (130, 40)])
def test_dead_letter_list(
    snap_compare: Any, console_factory: Callable[..., CrewmuxApp], lettered: str, size: tuple[int, int]
) -> None:
    assert snap_compare(console_factory(lettered), terminal_size=size, run_before=_letters_shown)

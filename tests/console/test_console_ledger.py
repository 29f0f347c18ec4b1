"""The console shows each sent message's ledger state live, lists dead letters, requeues and discards them.

No ticking (``tick=0``): the conversation changes only because the ledger file was written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from app.console.screens.dead_letters import DeadLetterScreen
from app.console.widgets.feed import Conversation
from app.core.ledger import Ledger
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from tests.console.console_helpers import main_screen, noticed, until

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore


@pytest.fixture
def codex_team(teams: TeamStore, team: str) -> str:
    """alice runs codex (a typed-into agent); she joined long ago."""

    def settle(m: Any) -> None:
        m.joined_at = 0
        m.crewmux = MemberRuntime(agent_kind="codex")

    teams.set_member(team, "alice", settle)
    return team


def _conversation(pilot: Pilot[Any]) -> str:
    widget = main_screen(pilot).query_one(Conversation)
    return "\n".join(f"{d} {t} {r}" for d, t, r in widget.entries) + "\n" + str(widget.render())


async def test_conversation_follows_the_ledger_live(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, codex_team: str
) -> None:
    mailbox = Mailbox(teams, codex_team)
    msg_id = mailbox.send("alice", "please run the tests", sender=LEAD_NAME)
    ledger = Ledger(mailbox.paths)
    app = console_factory(codex_team)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await pilot.press("shift+down")  # alice
        await until(pilot, lambda: "sent, unread" in _conversation(pilot))
        ledger.record(msg_id, "alice", "typing", via="typed")
        await until(pilot, lambda: "being typed into its prompt" in _conversation(pilot))
        ledger.record(msg_id, "alice", "dead", reason="codex did not take the message", via="typed")
        await until(pilot, lambda: "DEAD — codex did not take the message" in _conversation(pilot))
        assert "{" not in str(main_screen(pilot).query_one(Conversation).render())  # words, not JSON


async def test_dead_letters_are_listed_requeued_and_discarded(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, codex_team: str
) -> None:
    mailbox = Mailbox(teams, codex_team)
    first = mailbox.send("alice", "first try", sender=LEAD_NAME)
    second = mailbox.send("alice", "second try", sender=LEAD_NAME)
    ledger = Ledger(mailbox.paths)
    for msg_id in (first, second):
        ledger.record(msg_id, "alice", "typing", via="typed")
        ledger.record(msg_id, "alice", "dead", reason="typed but not seen submitted", via="typed")
    app = console_factory(codex_team)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, DeadLetterScreen))
        shown = app.screen
        assert isinstance(shown, DeadLetterScreen)
        screen: DeadLetterScreen = shown
        await until(pilot, lambda: len(screen.letters) == 2)
        assert [x.text for x in screen.letters] == ["first try", "second try"]
        await pilot.press("r")  # the first (highlighted) is requeued
        await until(pilot, lambda: [x.event.id for x in screen.letters] == [second])
        assert ledger.history(first)[-1].state == "requeued"
        assert ledger.history(first)[-1].by == "console"
        await pilot.press("d")  # asks first
        await until(pilot, lambda: app.screen is not screen)
        await pilot.press("n")  # cancelled: nothing happens
        await until(pilot, lambda: app.screen is screen)
        assert ledger.history(second)[-1].state == "dead"
        await pilot.press("d", "y")
        await until(pilot, lambda: app.screen is screen and screen.letters == [])
        assert ledger.history(second)[-1].state == "discarded"
        assert mailbox.status(second).state == "read"  # dropped for good: no deliverer types it
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is main_screen(pilot))


async def test_dead_letters_are_in_the_command_palette(
    console_factory: Callable[..., CrewmuxApp], codex_team: str
) -> None:
    app = console_factory(codex_team)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Dead letters (requeue / discard)" in titles


async def test_a_crash_of_the_deliverer_is_told_in_the_log_and_it_goes_on(
    console_factory: Callable[..., CrewmuxApp], team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, an exception other than CrewmuxError ended the console's delivery loop without a word."""
    from app.lifecycle.inbox_delivery import InboxDelivery

    real_targets = InboxDelivery._targets
    calls: list[int] = []

    def broken_once(self: InboxDelivery) -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("a bug in the deliverer")
        return real_targets(self)

    monkeypatch.setattr(InboxDelivery, "_targets", broken_once)
    app = console_factory(team, life=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, noticed(pilot, "deliverer failed: KeyError: 'a bug in the deliverer' (at test_console"))
        await until(pilot, lambda: len(calls) >= 2, timeout=30)  # restarted after its backoff
        # and looking again when a file changes (with no typed-into agent it has no timer of its own)
        app.ctx.mailbox.send("team-lead", "a file the deliverer watches changes", sender="team-lead")
        await until(pilot, lambda: len(calls) >= 3, timeout=30)

"""Snapshots of the main screen, the task panel, delegate mode and the spawn form.

Deterministic: a fixed terminal size, no cursor blink (conftest), injected process figures,
members that joined long ago (so none is "starting"), and cwd "/" for the spawn form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.console.app import CrewmuxApp
    from app.core.tasks import TaskStore
    from app.core.team import TeamStore

SIZE = (130, 40)


@pytest.fixture
def staged(teams: TeamStore, team: str, tasks: TaskStore, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir("/")

    def settle(m: Any) -> None:
        m.joined_at = 0
        m.crewmux = MemberRuntime(agent_kind="worker")

    for name in (LEAD_NAME, "alice", "bob"):
        teams.set_member(team, name, settle)
    first = tasks.create("parse the config", "read crewmux.json")
    tasks.create("write the docs", blocked_by=[first.id])
    tasks.claim(first.id, "alice")
    mailbox = Mailbox(teams, team)
    mailbox.send("alice", "please take the parser", sender=LEAD_NAME)
    return team


def _ready(count: int = 0) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await pilot.pause()

    return run_before


def test_main_screen(snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str) -> None:
    assert snap_compare(console_factory(staged), terminal_size=SIZE, run_before=_ready(), press=["shift+down"])


def test_task_panel(snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str) -> None:
    assert snap_compare(console_factory(staged), terminal_size=SIZE, run_before=_ready(), press=["ctrl+t"])


def test_delegate_mode(snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str) -> None:
    assert snap_compare(console_factory(staged), terminal_size=SIZE, run_before=_ready(), press=["shift+tab"])


def test_spawn_form(snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str) -> None:
    assert snap_compare(console_factory(staged), terminal_size=SIZE, run_before=_ready(), press=["f2", *"worker-1"])


def test_light_theme(snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str) -> None:
    from app.console.themes import ConsoleSettings

    app = console_factory(staged, settings=ConsoleSettings(theme="crewmux-light"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_ready())


def test_help_screen(snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str) -> None:
    assert snap_compare(console_factory(staged), terminal_size=(80, 24), run_before=_ready(), press=["f1"])


def test_confirm_shutdown(snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str) -> None:
    app = console_factory(staged)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready(), press=["shift+down", "f3"])


def test_task_panel_focused_at_80x24(
    snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str
) -> None:
    assert snap_compare(console_factory(staged), terminal_size=(80, 24), run_before=_ready(), press=["ctrl+t"])


def test_main_screen_at_100x30(snap_compare: Any, console_factory: Callable[..., CrewmuxApp], staged: str) -> None:
    assert snap_compare(console_factory(staged), terminal_size=(100, 30), run_before=_ready(), press=["shift+down"])

"""Pilot tests: every key of the main screen, the task panel and its refusals."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from app.console.messages import Refreshed
from app.console.themes import load_settings
from app.console.widgets.tasks import TaskPanel
from app.core import policy
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.protocol import (
    IdleNotification,
    PlanApprovalRequest,
    PlanApprovalResponse,
    parse_protocol,
    protocol_text,
)
from tests.console.console_helpers import main_screen, noticed, notices, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.message import Message

    from app.console.app import CrewmuxApp
    from app.core.tasks import TaskStore
    from app.core.team import TeamStore

SIZE = (140, 44)


async def _ready(pilot: Any) -> None:
    await until(pilot, lambda: main_screen(pilot).snapshot is not None)


async def test_shift_down_up_wrap_through_the_lead(console_factory: Callable[..., CrewmuxApp], team: str) -> None:
    seen: list[Message] = []
    app = console_factory(team)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await _ready(pilot)
        screen = main_screen(pilot)
        assert any(isinstance(m, Refreshed) for m in seen)
        assert screen.snapshot is not None
        assert screen.snapshot.names() == [LEAD_NAME, "alice", "bob"]
        order = []
        for _ in range(3):
            await pilot.press("shift+down")
            order.append(screen.selected)
        assert order == ["alice", "bob", LEAD_NAME]
        await pilot.press("shift+up")
        assert screen.selected == "bob"


async def test_composer_sends_to_selected_and_broadcasts(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str
) -> None:
    app = console_factory(team)
    mailbox = Mailbox(teams, team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("shift+down")
        await pilot.press(*"hi alice", "enter")
        await until(pilot, lambda: [m.text for m in mailbox.inbox("alice")] == ["hi alice"])
        await until(pilot, lambda: main_screen(pilot).query_one("#conversation").entries)  # type: ignore[attr-defined]
        entries = main_screen(pilot).query_one("#conversation").entries  # type: ignore[attr-defined]
        assert entries == [("sent", "hi alice", "sent")]
        mailbox.mark_read("alice")
        await until(
            pilot,
            lambda: main_screen(pilot).query_one("#conversation").entries == [("sent", "hi alice", "read")],  # type: ignore[attr-defined]
        )
        await pilot.press("ctrl+b", *"all hands", "enter")
        await until(pilot, lambda: any(m.text == "all hands" for m in mailbox.inbox("bob")))
        assert any(m.text == "all hands" for m in mailbox.inbox("alice"))
        # the lead cannot message itself
        await pilot.press("ctrl+b", "shift+up", *"me", "enter")
        assert main_screen(pilot).selected == LEAD_NAME
        await until(pilot, noticed(pilot, "cannot message itself"))


async def test_notifications_coalesce_idle_and_answer_plans(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str
) -> None:
    app = console_factory(team)
    mailbox = Mailbox(teams, team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        for reason in ("available", "no_task", "blocked"):
            mailbox.send(LEAD_NAME, protocol_text(IdleNotification(sender="alice", idle_reason=reason)), sender="alice")
            await until(pilot, noticed(pilot, f"alice is idle ({reason})"))
        assert sum("alice is idle" in line for line in notices(pilot)) == 1
        plan = PlanApprovalRequest(sender="bob", request_id="plan-1", plan_content="refactor the parser")
        mailbox.send(LEAD_NAME, protocol_text(plan), sender="bob")
        await until(pilot, noticed(pilot, "bob asks to approve a plan: refactor the parser"))
        await pilot.press("f7")  # nothing from the lead's own row
        await until(pilot, noticed(pilot, "no plan from team-lead"))
        await pilot.press("shift+down", "shift+down", "f7")
        await until(pilot, lambda: bool(mailbox.inbox("bob")))
        reply = parse_protocol(mailbox.inbox("bob")[-1].text)
        assert isinstance(reply, PlanApprovalResponse)
        assert reply.approved is True
        assert not any("asks to approve a plan" in line for line in notices(pilot))
        # the messages the lead saw are marked read (so senders get read receipts)
        assert mailbox.inbox(LEAD_NAME, unread_only=True) == []


async def test_corrupt_file_is_reported(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str
) -> None:
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        paths = teams.paths(team)
        paths.tasks_dir.mkdir(parents=True, exist_ok=True)
        (paths.tasks_dir / "7.json").write_text("{torn")
        await until(pilot, noticed(pilot, "corrupt file"))


async def test_dead_teammate_is_shown_and_told(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str
) -> None:
    import subprocess
    import sys

    from app.core.liveness import create_time

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    started = create_time(proc.pid)

    def record(m: Any) -> None:
        from app.core.models import MemberRuntime

        m.crewmux = MemberRuntime(pid=proc.pid, pid_create_time=started)
        m.joined_at = 0

    teams.set_member(team, "alice", record)
    app = console_factory(team, tick=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await until(pilot, lambda: main_screen(pilot).snapshot.rows[1].state != "starting")  # type: ignore[union-attr]
        proc.kill()
        proc.wait()
        await until(pilot, noticed(pilot, "alice died"))
        snap = main_screen(pilot).snapshot
        assert snap is not None and snap.rows[1].state == "dead"


async def test_delegate_mode_toggles_persists_and_refuses(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str, tasks: TaskStore
) -> None:
    tasks.create("write docs")
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        screen = main_screen(pilot)
        await pilot.press("shift+tab")
        assert screen.delegate and screen.has_class("-delegate")
        await until(pilot, lambda: policy.is_delegate(teams.paths(team)))
        await pilot.press("enter")  # the lead's own pane
        await until(pilot, noticed(pilot, "cannot type into its own pane"))
        await pilot.press("ctrl+t", "a")  # assign the task to the selected row: the lead
        await until(pilot, noticed(pilot, "cannot claim a task"))  # TaskStore.claim refuses it
        assert tasks.get("1").owner is None
        await pilot.press("shift+down", "a")  # a teammate may own it
        await until(pilot, lambda: tasks.get("1").owner == "alice")
        await pilot.press("shift+tab")
        await until(pilot, lambda: not policy.is_delegate(teams.paths(team)))
        assert not screen.has_class("-delegate")


async def test_task_panel_keys_go_through_the_core(
    console_factory: Callable[..., CrewmuxApp], team: str, tasks: TaskStore
) -> None:
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        panel = main_screen(pilot).query_one(TaskPanel)
        await pilot.press("ctrl+t")
        assert panel.has_class("-shown") and panel.has_focus
        await pilot.press("n", *"first", "enter")
        await until(pilot, lambda: [t.subject for t in tasks.list_tasks()] == ["first"])
        await pilot.press("n", *"second", "enter")
        await until(pilot, lambda: len(panel.tasks) == 2)
        await pilot.press("e")
        await pilot.press("end", *" edited", "enter")
        await until(pilot, lambda: tasks.get("1").subject == "first edited")
        await pilot.press("down", "b", "1", "enter")  # task 2 waits on task 1
        await until(pilot, lambda: tasks.get("2").blocked_by == ["1"])
        await until(pilot, lambda: "blocked by 1" in str(panel.get_row("2")))
        await pilot.press("up", "b", "2", "enter")  # 1 waits on 2: a cycle, refused
        await until(pilot, noticed(pilot, "dependency cycle"))
        await pilot.press("s")
        await until(pilot, lambda: tasks.get("1").status == "in_progress")
        # a claim race: bob takes task 2 behind the console's back; assigning it to alice is refused
        tasks.update("1", status="completed")
        tasks.claim("2", "bob")
        await until(pilot, lambda: panel.tasks and panel.tasks[-1].owner == "bob")
        await pilot.press("down", "shift+down", "a")
        await until(pilot, noticed(pilot, "already claimed by bob"))
        await pilot.press("u")
        await until(pilot, lambda: tasks.get("2").owner is None)
        await pilot.press("x")
        await until(pilot, lambda: type(app.screen).__name__ == "Confirm")
        await pilot.press("n")  # no: nothing is deleted
        assert [t.id for t in tasks.list_tasks()] == ["1", "2"]
        await pilot.press("x", "y")
        await until(pilot, lambda: [t.id for t in tasks.list_tasks()] == ["1"])
        await pilot.press("ctrl+t")
        assert not panel.has_class("-shown")


async def test_theme_is_remembered(console_factory: Callable[..., CrewmuxApp], team: str, home: Path) -> None:
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.theme == "crewmux-dark"
        app.theme = "crewmux-light"
        await pilot.pause()
    assert load_settings(home).theme == "crewmux-light"
    assert json.loads((home / "console.json").read_text())["theme"] == "crewmux-light"
    again = console_factory(team, settings=load_settings(home))
    async with again.run_test(size=SIZE) as pilot:
        assert again.theme == "crewmux-light"


async def test_team_created_on_first_use(console_factory: Callable[..., CrewmuxApp], teams: TeamStore) -> None:
    app = console_factory("fresh")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert teams.load("fresh").members[0].name == LEAD_NAME

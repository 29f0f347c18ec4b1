"""Pilot tests for the console as a person uses it (issue 15, Behaviour 1-5): typed text never runs
commands, destructive keys ask first, the spawn form works as typed, every key is reachable,
and events read as words."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

from rich.console import Console
from textual import events
from textual.widgets import Footer, Input

from app.console import ops
from app.console.screens.confirm import Confirm
from app.console.screens.forms import SpawnForm, TaskForm
from app.console.screens.help import HelpScreen
from app.console.widgets.feed import Conversation
from app.console.widgets.tasks import TaskPanel
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from app.core.protocol import PlanApprovalRequest, ShutdownApproved, TaskCompleted, protocol_text
from backends import inprocess
from tests.console.console_helpers import main_screen, noticed, notices, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pytest

    from app.console.app import CrewmuxApp
    from app.core.tasks import TaskStore
    from app.core.team import TeamStore

SIZE = (120, 36)


async def _ready(pilot: Any) -> None:
    await until(pilot, lambda: main_screen(pilot).snapshot is not None)


def _burst(app: CrewmuxApp, text: str) -> None:
    """Keys arriving together, as from a paste or ``tmux send-keys -l``: posted before any is handled."""
    for ch in text:
        key = {" ": "space", "\t": "tab"}.get(ch, ch)
        app.post_message(events.Key(key, None if ch == "\t" else ch))


# -- 1. focus: typed text never runs commands ------------------------------------------------------
async def test_text_typed_after_ctrl_t_goes_to_the_composer_not_to_task_commands(
    console_factory: Callable[..., CrewmuxApp], team: str, tasks: TaskStore
) -> None:
    tasks.create("third task")
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        screen = main_screen(pilot)
        panel = screen.query_one(TaskPanel)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: panel.has_focus)
        assert panel.border_subtitle and "keys act on tasks" in str(panel.border_subtitle)
        await pilot.press(*"hello everyone")
        assert type(app.screen).__name__ == "MainScreen", "a letter of the message opened a form"
        assert screen.composer.has_focus
        assert screen.composer.value == "hello everyone"
        assert tasks.get("1").subject == "third task" and tasks.get("1").status == "pending"
        # a burst (paste, tmux send-keys) behaves the same: the focus moves before the next key
        await pilot.press("ctrl+a", "ctrl+k")  # clear the composer
        screen.set_focus(panel)
        await until(pilot, lambda: panel.has_focus)
        _burst(app, "hi, assume nothing")
        await until(pilot, lambda: screen.composer.value == "hi, assume nothing")
        assert type(app.screen).__name__ == "MainScreen"
        assert tasks.get("1").owner is None and tasks.get("1").status == "pending"
        # Esc leaves the panel (still shown) for the composer
        screen.set_focus(panel)
        await until(pilot, lambda: panel.has_focus)
        await pilot.press("escape")
        assert screen.composer.has_focus and panel.has_class("-shown")


# -- 2. destructive keys ask first -----------------------------------------------------------------
async def test_f3_f10_and_delete_ask_first_and_name_what_happens(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str, tasks: TaskStore
) -> None:
    task = tasks.create("keep me")
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("shift+down", "f3")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        text = " ".join(str(w.render()) for w in app.screen.query("Label, Static"))
        assert "Shut down alice?" in text and "killed" in text and "leaves the team" in text
        await pilot.press("n")
        assert teams.load(team).member("alice") is not None
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        text = " ".join(str(w.render()) for w in app.screen.query("Label, Static"))
        assert f"Stop team {team} and quit?" in text and "alice, bob" in text
        await pilot.press("escape")
        assert app.is_running and [m.name for m in teams.load(team).members] == [LEAD_NAME, "alice", "bob"]
        await pilot.press("ctrl+t", "x")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "Delete task #1?" in " ".join(str(w.render()) for w in app.screen.query("Label"))
        await pilot.press("enter")  # the focus starts on Cancel: Enter does not delete
        assert [t.id for t in tasks.list_tasks()] == [task.id]


# -- 3. the spawn form -------------------------------------------------------------------------------
async def test_spawn_form_runs_shell_syntax_and_keys_after_tab_land_in_the_next_field(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str, tmp_path: Path
) -> None:
    app = console_factory(team, backend=inprocess.InProcessBackend())
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SpawnForm))
        form = app.screen
        assert form.query_one("#backend").value == "auto"  # type: ignore[attr-defined]
        _burst(app, "loop1\t\t")  # name, Tab past the kind, straight into the command
        _burst(app, "i=0; while [ $i -lt 3 ]; do echo LOOP-$i; i=$((i+1)); done; exec cat")
        await until(pilot, lambda: form.query_one("#command", Input).value.endswith("exec cat"))
        assert form.query_one("#name", Input).value == "loop1"
        form.query_one("#cwd", Input).value = str(tmp_path)
        await pilot.click("#ok")
        await until(pilot, noticed(pilot, "spawn loop1: started"), timeout=20)
        member = teams.member(team, "loop1")
        assert member.backend_type == "in-process"  # auto, outside tmux
        assert member.crewmux is not None and (member.crewmux.argv or [])[:2] == ["sh", "-c"]
        backend: Any = app.ctx.backend_for("in-process")
        term = backend.terminal(ops.handle_of(member))
        await until(pilot, lambda: "LOOP-2" in "\n".join(term.screen.display), timeout=20)


def test_auto_backend_is_tmux_inside_tmux_else_in_process(
    console_factory: Callable[..., CrewmuxApp], team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = console_factory(team).ctx
    monkeypatch.delenv("CREWMUX_BACKEND", raising=False)
    assert ops.auto_backend(ctx, {"TMUX": "/tmp/tmux-0/default,1,0", "PATH": "/usr/bin:/bin"}) == "tmux"
    assert ops.auto_backend(ctx, {"PATH": "/usr/bin:/bin"}) == "in-process"
    assert ops.auto_backend(ctx, {"PATH": "/usr/bin:/bin", "CREWMUX_BACKEND": "in-process"}) == "in-process"


async def test_a_task_made_in_the_console_carries_its_command(
    console_factory: Callable[..., CrewmuxApp], team: str, tasks: TaskStore
) -> None:
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: main_screen(pilot).query_one(TaskPanel).has_focus)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, TaskForm))
        _burst(app, "build it\tcompile everything\tmake all && make test")
        await pilot.press("enter")
        await until(pilot, lambda: [t.subject for t in tasks.list_tasks()] == ["build it"])
        assert tasks.get("1").metadata == {"command": "make all && make test"}
        assert tasks.get("1").description == "compile everything"


# -- 4. every key reachable ----------------------------------------------------------------------
def _footer_keys(app: CrewmuxApp) -> list[str]:
    """The keys the footer shows inside the terminal's width."""
    footer = app.screen.query_one(Footer)
    width = app.size.width
    shown = []
    for key in footer.query("FooterKey"):
        region = key.region
        if region.width and region.right <= width:
            shown.append(key.key)  # type: ignore[attr-defined]
    return shown


async def test_footer_help_and_palette_reach_every_key(console_factory: Callable[..., CrewmuxApp], team: str) -> None:
    for size in ((80, 24), (200, 50)):
        app = console_factory(team)
        async with app.run_test(size=size) as pilot:
            await _ready(pilot)
            await pilot.pause()
            shown = _footer_keys(app)
            for key in ("f1", "f2", "f3", "f10", "ctrl+t"):
                assert key in shown, (size, key, shown)
    app = console_factory(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        listed = " ".join(what for _, rows in app.screen.sections for _, what in rows)  # type: ignore[attr-defined]
        for binding in (*main_screen_bindings(), *TaskPanel.BINDINGS):
            assert (binding.tooltip or binding.description) in listed, binding
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Stop team", "Restart dead", "Jump", "Task: Delete", "Task: New", "Help"):
            assert any(t.startswith(wanted) for t in titles), (wanted, titles)


def main_screen_bindings() -> list[Any]:
    from app.console.screens.main import MainScreen

    return list(MainScreen.BINDINGS)


async def test_team_table_keeps_name_state_and_task_at_100x30(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str, tasks: TaskStore
) -> None:
    t = tasks.create("a task with a long subject to show")
    tasks.claim(t.id, "alice")
    app = console_factory(team)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await pilot.pause()
        table = main_screen(pilot).query_one("#teammates")
        out = Console(width=table.content_size.width, file=io.StringIO(), color_system=None)
        out.print(table.render())
        text = out.file.getvalue()  # type: ignore[attr-defined]
        lines = text.splitlines()
        assert "state" in lines[0] and "task" in lines[0], text
        alice = next(line for line in lines if line.startswith("alice"))
        assert alice.split()[1] in ("starting", "working") and "#1 a task" in alice, text
        assert table.region.right <= 100


# -- 5. readable events --------------------------------------------------------------------------
async def test_events_read_as_words(console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str) -> None:
    mailbox = Mailbox(teams, team)
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert main_screen(pilot).snapshot.rows[0].state == "idle"  # type: ignore[union-attr]
        mailbox.send(LEAD_NAME, protocol_text(ShutdownApproved(sender="alice", request_id="r1")), sender="alice")
        plan = PlanApprovalRequest(sender="alice", request_id="p1", plan_content="split the parser\nthen test")
        mailbox.send(LEAD_NAME, protocol_text(plan), sender="alice")
        failed = TaskCompleted(sender="bob", task_id="4", task_subject="lint", status="failed", detail="exit code 2")
        mailbox.send(LEAD_NAME, protocol_text(failed), sender="bob")
        await until(pilot, noticed(pilot, "bob failed task #4 lint: exit code 2"))
        assert not any("✔" in line for line in notices(pilot))
        assert any("alice approved the shutdown" in line for line in notices(pilot))
        await until(pilot, lambda: main_screen(pilot).snapshot.rows[0].state == "waiting")  # type: ignore[union-attr]
        await pilot.press("shift+down")
        conversation = main_screen(pilot).query_one(Conversation)
        await until(pilot, lambda: len(conversation.entries) == 2)
        shown = str(conversation.render())
        assert "alice approved the shutdown" in shown
        assert "alice asks to approve a plan: split the parser" in shown
        assert "{" not in shown, shown


async def test_command_teammate_kind_and_unread_receipt_are_truthful(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str
) -> None:
    def command(m: Any) -> None:
        m.crewmux = MemberRuntime(argv=["sh", "-c", "while :; do sleep 1; done"])

    teams.set_member(team, "alice", command)
    app = console_factory(team)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        rows = {r.name: r for r in main_screen(pilot).snapshot.rows}  # type: ignore[union-attr]
        assert rows["alice"].kind == "command"
        await pilot.press("shift+down", *"hi", "enter")
        conversation = main_screen(pilot).query_one(Conversation)
        await until(pilot, lambda: bool(conversation.entries))
        assert "unread: it runs a plain command" in str(conversation.render())
        assert "delivered" not in str(conversation.render())


async def test_a_deliberate_shutdown_is_not_reported_dead(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str, tmp_path: Path
) -> None:
    app = console_factory(team, backend=inprocess.InProcessBackend(), tick=0.3, life=True)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        req = ops.SpawnRequest(name="w9", command="sleep 600", backend="in-process", cwd=str(tmp_path))
        await asyncio.to_thread(ops.spawn, app.ctx, req)
        screen = main_screen(pilot)
        await until(pilot, lambda: "w9" in screen.snapshot.names())  # type: ignore[union-attr]
        while screen.selected != "w9":
            await pilot.press("shift+down")
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, noticed(pilot, "shut down w9"), timeout=30)
        await until(pilot, lambda: "w9" not in screen.snapshot.names())  # type: ignore[union-attr]
        for _ in range(3):  # a few liveness ticks
            await until(pilot, lambda: app.screen is screen)
            await pilot.pause(0.4)
        assert not any("w9 is dead" in line or "w9 died" in line for line in notices(pilot)), notices(pilot)

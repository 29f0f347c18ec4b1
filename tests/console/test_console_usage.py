"""The team table shows each teammate's usage from its agent CLI's own records — tokens in/out and
cost, state ``over-budget`` when its budget paused it — and a TOTAL row summed for the team,
updated live as a record grows. The records are the real formats (aider's chat-history
``Tokens:`` lines, codex's rollout ``token_count`` events, gemini's chat file)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import psutil
import pytest
from rich.console import Console

from app.console.widgets.teammates import TeammateList, team_total
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

AIDER_LINE = "> Tokens: 2.4k sent, 57 received. Cost: $0.01 message, $0.01 session.\n"


def _codex_rollout(codex_home: Path, thread: str) -> None:
    day = codex_home / "sessions" / "2026" / "12" / "03"
    day.mkdir(parents=True)
    usage = {"input_tokens": 3000, "cached_input_tokens": 0, "output_tokens": 400}
    lines = [
        {"type": "session_meta", "payload": {"id": thread, "cwd": "/"}},
        {"type": "turn_context", "payload": {"cwd": "/", "model": "gpt-5-codex"}},
        {"type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": usage}}},
    ]
    (day / f"rollout-2026-12-03T06-00-00-{thread}.jsonl").write_text("\n".join(json.dumps(x) for x in lines))


def _gemini_chat(gemini_cli_home: Path, session: str) -> None:
    chats = gemini_cli_home / ".gemini" / "tmp" / "work" / "chats"
    chats.mkdir(parents=True)
    lines = [
        {"sessionId": session},
        {"id": "1", "type": "gemini", "model": "my-own-model", "tokens": {"input": 1000, "output": 100}},
    ]
    (chats / "session-1.jsonl").write_text("\n".join(json.dumps(x) for x in lines))


@pytest.fixture
def spending(teams: TeamStore, team: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """alice: aider, running, paused by its budget; bob: codex; carol: gemini on a model without a
    price; dave: a worker (no record). Returns alice's chat history."""
    monkeypatch.chdir("/")
    history = tmp_path / "alice.chat.history.md"
    history.write_text("# aider chat\n" + AIDER_LINE)
    _codex_rollout(tmp_path / "codex-home", "t-bob")
    _gemini_chat(tmp_path / "gem", "s-carol")
    me = psutil.Process(os.getpid())
    runtimes = {
        LEAD_NAME: MemberRuntime(agent_kind="worker"),
        "alice": MemberRuntime(
            agent_kind="aider", session_id=str(history), pid=me.pid, pid_create_time=me.create_time(),
            paused="over-budget: 12,000 of 10,000 tokens",
        ),
        "bob": MemberRuntime(agent_kind="codex", session_id="t-bob", env={"CODEX_HOME": str(tmp_path / "codex-home")}),
        "carol": MemberRuntime(
            agent_kind="gemini", session_id="s-carol", env={"GEMINI_CLI_HOME": str(tmp_path / "gem")}
        ),
        "dave": MemberRuntime(agent_kind="worker"),
    }  # fmt: skip
    teams.join(team, "carol")
    teams.join(team, "dave")
    for name, rt in runtimes.items():

        def settle(m: Any, rt: MemberRuntime = rt) -> None:
            m.joined_at = 0
            m.crewmux = rt

        teams.set_member(team, name, settle)
    return history


def _table_text(widget: TeammateList, width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    with console.capture() as cap:
        console.print(widget.render())
    return cap.get()


async def test_the_team_table_shows_usage_and_a_live_total(
    console_factory: Callable[..., CrewmuxApp], team: str, spending: Path
) -> None:
    app = console_factory(team, tick=0.2)
    async with app.run_test(size=(130, 40)) as pilot:
        table = main_screen(pilot).query_one(TeammateList)
        await until(pilot, lambda: any(r.spend for r in table.rows))
        rows = {r.name: r for r in table.rows}
        assert rows["alice"].state == "over-budget"
        assert rows["bob"].spend is not None and rows["bob"].spend.cost_usd == pytest.approx(0.007750)
        assert rows["carol"].spend is not None and rows["carol"].spend.cost_usd is None
        assert rows["dave"].spend is None
        text = _table_text(table, 126)
        assert "2.5k $0.01" in text and "3.4k $0.0077" in text and "1.1k $?" in text, text
        total_line = next(line for line in text.splitlines() if line.startswith("TOTAL"))
        assert "7.0k $0.018+?" in total_line and "1 over" in total_line, text
        assert table.border_title == "Team · Σ 7.0k $0.018+?"
        # alice's aider answers again: the table follows its record
        spending.write_text(spending.read_text() + AIDER_LINE.replace("57 received", "1.5k received"))
        await until(pilot, lambda: team_total(table.rows)["tokens"].plain == "10.9k $0.028+?")
        assert "10.9k $0.028+?" in _table_text(table, 126) and table.border_title == "Team · Σ 10.9k $0.028+?"


def test_team_usage_snapshot(
    snap_compare: Any, console_factory: Callable[..., CrewmuxApp], team: str, spending: Path
) -> None:
    async def ready(pilot: Any) -> None:
        table = main_screen(pilot).query_one(TeammateList)
        await until(pilot, lambda: any(r.spend for r in table.rows))
        await pilot.pause()

    assert snap_compare(console_factory(team), terminal_size=(130, 40), run_before=ready)


def test_team_usage_snapshot_wide(
    snap_compare: Any, console_factory: Callable[..., CrewmuxApp], team: str, spending: Path
) -> None:
    async def ready(pilot: Any) -> None:
        table = main_screen(pilot).query_one(TeammateList)
        await until(pilot, lambda: any(r.spend for r in table.rows))
        await pilot.pause()

    assert snap_compare(console_factory(team), terminal_size=(200, 50), run_before=ready)


def test_team_usage_snapshot_at_80x24(
    snap_compare: Any, console_factory: Callable[..., CrewmuxApp], team: str, spending: Path
) -> None:
    async def ready(pilot: Any) -> None:
        table = main_screen(pilot).query_one(TeammateList)
        await until(pilot, lambda: any(r.spend for r in table.rows))
        await pilot.pause()

    assert snap_compare(console_factory(team), terminal_size=(80, 24), run_before=ready)


def test_narrow_tables_keep_tokens_longer_than_cpu_memory_and_kind() -> None:
    from app.console.widgets.teammates import columns_for

    widths = {"name": 9, "kind": 6, "backend": 7, "state": 11, "task": 20, "tokens": 11, "cpu%": 4, "MB": 3}
    assert columns_for(60, widths) == ["name", "kind", "state", "task", "tokens", "cpu%"]
    assert columns_for(50, widths) == ["name", "state", "task", "tokens"]
    assert columns_for(40, widths) == ["name", "state", "task"]
    widths["task"] = 4  # no tasks: the column needs only its header
    assert columns_for(44, widths) == ["name", "state", "task", "tokens"]

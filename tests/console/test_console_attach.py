"""`crewmux attach TEAM`: the console on a team Claude Code runs, under Claude Code's root and locks."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from app.console.app import make_app
from app.console.themes import ConsoleSettings
from app.core.errors import TeamNotFound
from app.core.mailbox import Mailbox
from app.core.team import TeamStore
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (140, 44)


def _claude_code_team(root: Path) -> None:
    """Files as Claude Code writes them: no crewmux blocks, a tmux member, unknown keys, old inboxes."""
    team_dir = root / "teams" / "cc"
    (team_dir / "inboxes").mkdir(parents=True)
    (root / "tasks" / "cc").mkdir(parents=True)
    config = {
        "name": "cc",
        "createdAt": 1763900000000,
        "leadAgentId": "team-lead@cc",
        "leadSessionId": "s-1",
        "futureKey": {"kept": True},
        "members": [
            {
                "agentId": "team-lead@cc",
                "name": "team-lead",
                "agentType": "team-lead",
                "joinedAt": 1,
                "tmuxPaneId": "",
                "cwd": "/w",
                "subscriptions": [],
            },
            {
                "agentId": "researcher@cc",
                "name": "researcher",
                "agentType": "general-purpose",
                "color": "blue",
                "joinedAt": 2,
                "tmuxPaneId": "%5",
                "cwd": "/w",
                "subscriptions": [],
                "backendType": "tmux",
                "isActive": True,
            },
        ],
    }
    (team_dir / "config.json").write_text(json.dumps(config))
    inbox = [{"from": "team-lead", "text": "start", "timestamp": "2026-11-23T10:00:00.000Z", "read": True}]
    (team_dir / "inboxes" / "researcher.json").write_text(json.dumps(inbox))
    task = {
        "id": "1",
        "subject": "survey",
        "description": "",
        "status": "pending",
        "blocks": [],
        "blockedBy": [],
        "someNewField": 7,
    }
    (root / "tasks" / "cc" / "1.json").write_text(json.dumps(task))


async def test_attach_shows_a_claude_code_team_and_messages_it_in_its_format(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    _claude_code_team(root)
    app = make_app(root, "cc", settings=ConsoleSettings(), interop=True, life=False, tick=0, remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        assert main_screen(pilot).snapshot.names() == ["team-lead", "researcher"]  # type: ignore[union-attr]
        await pilot.press("shift+down")
        assert main_screen(pilot).selected == "researcher"
        await pilot.press(*"status?", "enter")
        box = Mailbox(TeamStore(root, interop=True), "cc")
        await until(pilot, lambda: any(m.text == "status?" for m in box.inbox("researcher")))
    raw = json.loads((root / "teams" / "cc" / "inboxes" / "researcher.json").read_text())
    assert raw[0] == {"from": "team-lead", "text": "start", "timestamp": "2026-11-23T10:00:00.000Z", "read": True}
    sent = raw[-1]
    assert (sent["from"], sent["text"], sent["read"], sent["type"], sent["msgV"]) == (
        "team-lead",
        "status?",
        False,
        "message",
        1,
    )
    assert json.loads((root / "teams" / "cc" / "config.json").read_text())["futureKey"] == {"kept": True}
    assert not list(root.glob("tasks/cc/*.sqlite")), "no crewmux task index in Claude Code's dirs"
    assert not (root / "teams" / "cc" / "inboxes" / "ghost.json").exists()


def test_attach_refuses_an_unknown_team_without_creating_it(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    root.mkdir()
    with pytest.raises(TeamNotFound):
        make_app(root, "nope", settings=ConsoleSettings(), interop=True, life=False)
    assert not (root / "teams" / "nope").exists()


def test_attach_cli_names_the_missing_team(cli: Any, tmp_path: Path) -> None:
    root = tmp_path / "claude"
    root.mkdir()
    result = cli("attach", "nope", env={"CLAUDE_CONFIG_DIR": str(root)})
    assert result.code == 2
    assert "nope" in result.err

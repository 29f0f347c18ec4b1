"""The console's CLI entry: team resolution, and the command palette's commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from app.cli import build_parser
from app.cli.console_cmds import console, default_team
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp


def test_team_from_flag_env_or_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREWMUX_TEAM", raising=False)
    assert default_team("given") == "given"
    assert default_team(None, tmp_path / "My Project.v2") == "my-project-v2"
    monkeypatch.setenv("CREWMUX_TEAM", "from-env")
    assert default_team(None, tmp_path / "ignored") == "from-env"


def test_console_subcommand_is_registered() -> None:
    args = build_parser().parse_args(["console", "--team", "x"])
    assert args.handler is console
    assert args.team == "x"


async def test_palette_offers_every_binding_and_themes(
    console_factory: Callable[..., CrewmuxApp], team: str, home: Path
) -> None:
    app = console_factory(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Spawn", "Tasks", "Delegate", "Shut down", "Interrupt", "Approve plan", "Theme"):
            assert any(wanted.lower() in t.lower() for t in titles), (wanted, titles)
        tasks_cmd = next(c for c in app.get_system_commands(app.screen) if c.title == "Tasks")
        await tasks_cmd.callback()
        await pilot.pause()
        assert main_screen(pilot).query_one("#tasks").has_class("-shown")

"""Fixtures for the console tests: a team with fixed process figures, and an app factory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app.console.app import CrewmuxApp, make_app
from app.console.model import Usage
from app.console.themes import ConsoleSettings

if TYPE_CHECKING:
    from collections.abc import Callable


# the helpers module (console_helpers.py) sits beside this file; importlib mode does not add it
sys.path.insert(0, str(Path(__file__).resolve().parent))


class FixedProbe:
    """Reports the same CPU and memory for every process: snapshots stay stable."""

    def __call__(self, pid: int) -> Usage | None:
        return Usage(cpu=1.0, mem_mb=42.0)


@pytest.fixture
def console_factory(home: Path) -> Callable[..., CrewmuxApp]:
    """Build the console on a team under the test's root, with no ticking and a fixed probe."""

    def build(team: str = "t", **options: Any) -> CrewmuxApp:
        options.setdefault("probe", FixedProbe())
        options.setdefault("tick", 0)
        options.setdefault("remember", True)
        options.setdefault("shutdown_grace", 1.0)
        options.setdefault("life", False)  # resume, liveness and delivery: tests/console/test_console_life*.py
        return make_app(home, team, settings=options.pop("settings", ConsoleSettings()), **options)

    return build


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False)

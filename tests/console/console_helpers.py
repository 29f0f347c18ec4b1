"""Waiting helpers for Pilot tests: poll a condition with a generous deadline, never a fixed sleep."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

    from app.console.screens.main import MainScreen


async def until(pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until ``predicate()`` is true; fail with the predicate's name after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        await pilot.pause(0.05)


def main_screen(pilot: Pilot[Any]) -> MainScreen:
    from app.console.screens.main import MainScreen

    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    return screen


def notices(pilot: Pilot[Any]) -> list[str]:
    from app.console.widgets.feed import NotificationLog

    return main_screen(pilot).query_one(NotificationLog).lines


def noticed(pilot: Pilot[Any], needle: str) -> Callable[[], bool]:
    return lambda: any(needle in line for line in notices(pilot))

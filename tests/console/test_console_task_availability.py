"""The task panel draws the core's availability rule (Task.availability), not its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.console.widgets.tasks import TaskPanel
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.console.app import CrewmuxApp
    from app.core.tasks import TaskStore


async def test_in_progress_unowned_task_is_not_shown_available(
    console_factory: Callable[..., CrewmuxApp], team: str, tasks: TaskStore
) -> None:
    tasks.create("free")
    tasks.create("started, nobody owns it")
    tasks.update("2", status="in_progress")
    app = console_factory(team)
    async with app.run_test(size=(140, 44)) as pilot:
        panel = main_screen(pilot).query_one(TaskPanel)
        await until(pilot, lambda: len(panel.tasks) == 2)
        drawn = {tid: str(panel.get_row(tid)[-1]) for tid in ("1", "2")}  # cells are plain Text
        assert drawn == {"1": "available", "2": "in progress"}
        assert tasks.claim(None, "alice").id == "1"  # and claims agree: only task 1 was available

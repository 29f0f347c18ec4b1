"""Start-up order: what the first frame does not need waits until the team's first picture is drawn.

Resuming a large team (a tmux call and a process check per teammate) ran in a thread while the
first status pass was read and drawn, and held the first frame up; now the team's life (resume,
liveness, delivery), the full status pass and the shell's link start once the team is on screen.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from app.console import life
from app.console.widgets import watcher
from app.console.widgets.teammates import TeammateList
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest

    from app.console.app import CrewmuxApp

FIRST_READ_WAIT = 3.0  # the old code's resume starts within this; the new one never while the read is held


async def test_the_team_resumes_only_once_its_first_picture_is_drawn(
    console_factory: Callable[..., CrewmuxApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    resume_started = threading.Event()
    shown_at_resume: list[bool] = []
    reads = 0
    real_read, real_resume = watcher.read_team, life.TeamLife._resume

    def first_read_held(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        if reads == 1:  # hold the first pass until the resume starts (or the deadline passes)
            resume_started.wait(FIRST_READ_WAIT)
        return real_read(*args, **kwargs)

    def resume(self: life.TeamLife, *, asked: bool = False) -> None:
        screen: Any = self.screen  # the main screen (read from the resume's thread: a test's look only)
        shown_at_resume.append(screen.snapshot is not None and bool(screen.query_one(TeammateList).rows))
        resume_started.set()
        real_resume(self, asked=asked)

    monkeypatch.setattr(watcher, "read_team", first_read_held)
    monkeypatch.setattr(life.TeamLife, "_resume", resume)
    app = console_factory("startup", life=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, resume_started.is_set, timeout=FIRST_READ_WAIT + 15)
        assert shown_at_resume == [True], "the resume started before the team's first picture was drawn"
        await until(pilot, lambda: reads >= 2)  # the full pass followed the first frame
        assert main_screen(pilot).query_one(TeammateList).rows

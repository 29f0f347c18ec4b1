"""An idle console's periodic work does not grow with the team: one team-file read per status
pass, a slow tick that spreads out for a large team, and a composer cursor that does not blink."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import Input

from app.console.model import PsutilProbe
from app.console.ops import TeamContext
from app.console.seat import ViewerInbox
from app.console.widgets import watcher
from app.console.widgets.watcher import TeamWatcher, read_team, tick_interval
from app.core.liveness import create_time
from app.core.models import MemberRuntime
from app.core.team import TeamStore
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from app.console.app import CrewmuxApp

MEMBERS = 24


@pytest.fixture
def big_team(home: Path) -> Iterator[str]:
    teams = TeamStore(home)
    teams.create("big")
    procs = [subprocess.Popen(["sleep", "300"]) for _ in range(MEMBERS)]
    for n, proc in enumerate(procs):
        rt = MemberRuntime(pid=proc.pid, pid_create_time=create_time(proc.pid), agent_kind="command")
        teams.join("big", f"m{n}", backend_type="tmux", runtime=rt)
    yield "big"
    for proc in procs:
        proc.kill()
        proc.wait()


def test_a_status_pass_reads_the_team_file_a_fixed_number_of_times(
    home: Path, big_team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = TeamContext(home=home, team=big_team)
    loads: list[str] = []
    original = TeamStore.load

    def counted(self: TeamStore, team: str) -> Any:
        loads.append(team)
        return original(self, team)

    monkeypatch.setattr(TeamStore, "load", counted)
    try:
        refreshed = read_team(ctx, "team-lead", PsutilProbe(), dead=(), screens=True, viewer=ViewerInbox())
    finally:
        ctx.close()
    assert len(refreshed.snapshot.rows) == MEMBERS + 1
    assert len(loads) <= 4, f"{len(loads)} team-file reads for {MEMBERS} teammates (one per member before)"


def test_the_slow_tick_spreads_out_for_a_large_team() -> None:
    assert tick_interval(2.0, 0) == tick_interval(2.0, 16) == 2.0
    assert tick_interval(2.0, 100) == pytest.approx(100 * watcher.TICK_PER_MEMBER)
    # per second, 100 teammates cost what 16 do: the period grows with the team
    assert 100 / tick_interval(2.0, 100) <= 16 / tick_interval(2.0, 16)


async def test_the_tick_skips_a_read_not_yet_due_for_a_large_team(
    console_factory: Callable[..., CrewmuxApp], big_team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watcher, "TICK_PER_MEMBER", 1000.0)  # a read is due only after a very long time
    app = console_factory(big_team, tick=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None and len(screen.snapshot.rows) == MEMBERS + 1)
        team_watcher = screen.query_one(TeamWatcher)
        await until(pilot, lambda: not team_watcher._reading)
        reads: list[str] = []
        monkeypatch.setattr(team_watcher, "_refresh", reads.append)
        team_watcher._tick()
        assert reads == [], "a tick right after a read of a large team reads nothing"
        team_watcher._read_at -= 1000.0 * (MEMBERS + 1)
        team_watcher._tick()
        assert len(reads) == 1, "once due, the tick reads the team"


async def test_the_composer_cursor_does_not_blink(console_factory: Callable[..., CrewmuxApp], team: str) -> None:
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(Input, "cursor_blink", True)  # the suite turns blinking off: put Textual's default back
    try:
        app = console_factory(team)
        async with app.run_test(size=(120, 40)) as pilot:
            composer = main_screen(pilot).composer
            assert composer.has_focus and composer.cursor_blink is False
    finally:
        monkeypatch.undo()


def test_the_liveness_check_knows_the_team_size_it_is_spaced_by(teams: TeamStore, big_team: str) -> None:
    from app.lifecycle.monitor import LivenessMonitor

    monitor = LivenessMonitor(teams, big_team)
    assert monitor.check_once() == []
    assert monitor.members == MEMBERS + 1
    assert tick_interval(2.0, monitor.members) == (MEMBERS + 1) * watcher.TICK_PER_MEMBER > 2.0


def test_a_status_pass_reads_only_the_newest_archived_messages(
    home: Path, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console's memory and pass time stay flat however long the team has talked."""
    monkeypatch.setattr(watcher, "HISTORY_LIMIT", 20)
    ctx = TeamContext(home=home, team=team)
    try:
        for n in range(60):
            ctx.mailbox.send("team-lead", f"note {n}", sender="alice")
        ctx.lead_inbox.take()  # read: into the archive
        ctx.mailbox.send("team-lead", "still unread", sender="alice")
        history = watcher.lead_history(ctx)
        assert [m.text for m, _ in history] == [f"note {n}" for n in range(40, 60)] + ["still unread"]
        assert len(ctx.mailbox.history("team-lead")) == 61, "the full history is still there for who asks"
    finally:
        ctx.close()

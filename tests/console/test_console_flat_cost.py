"""An idle console's periodic work does not grow with the team: one team-file read per status
pass, a slow tick that spreads out for a large team and slows further while nothing changes
(posting nothing), a probe that reads idle processes the same each time, and a composer cursor
that does not blink."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import psutil
import pytest
from textual.widgets import Input

from app.console.messages import Refreshed, TeamChanged
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
        monkeypatch.setattr(team_watcher, "_refresh", lambda selected, first=False: reads.append(selected))
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


async def test_an_idle_team_is_read_less_and_less_and_posts_nothing(
    console_factory: Callable[..., CrewmuxApp], big_team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sixteen ticks over a team where nothing changes: a handful of reads, no picture posted (the
    screen does nothing); a change is read and shown at once, and the tick is brisk again."""
    tick = 3600.0  # the timer never fires by itself: the test ticks by hand on a fake clock
    clock = [1_000_000.0]
    monkeypatch.setattr(watcher, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    app = console_factory(big_team, tick=tick)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None and len(screen.snapshot.rows) == MEMBERS + 1)
        await until(pilot, lambda: screen.started)  # the full pass that follows the first frame has begun
        team_watcher = screen.query_one(TeamWatcher)
        for worker in [w for w in app.workers if w.group == "watch"]:
            worker.cancel()  # the directory watches: only the tick reads (the console's own writes settle)
        await until(pilot, lambda: not any(w.group == "watch" and w.is_running for w in app.workers))
        await until(pilot, lambda: not team_watcher._reading)
        before = team_watcher._shown
        reads: list[str] = []
        posted: list[object] = []
        original_read, original_post = watcher.read_team, team_watcher.post_message

        def counted_read(*args: Any, **kwargs: Any) -> Any:
            reads.append("read")
            return original_read(*args, **kwargs)

        def counted_post(message: Any) -> bool:
            posted.append(message)
            return original_post(message)

        monkeypatch.setattr(watcher, "read_team", counted_read)
        monkeypatch.setattr(team_watcher, "post_message", counted_post)
        for _ in range(16):
            clock[0] += tick
            team_watcher._tick()
            await until(pilot, lambda: not team_watcher._reading)
        assert 1 <= len(reads) <= 5, f"{len(reads)} reads in 16 quiet ticks (one per tick before)"
        ticked = [m for m in posted if isinstance(m, Refreshed)]
        assert ticked == [], f"a quiet read posts nothing; rows before: {before.snapshot.rows if before else None}"
        assert team_watcher._quiet == watcher.QUIET_TICKS
        screen.ctx.mailbox.send("team-lead", "news", sender="m0")
        team_watcher.post_message(TeamChanged("inboxes"))  # what the inbox watch posts: read and shown at once
        await until(pilot, lambda: any(isinstance(m, Refreshed) for m in posted))
        await until(pilot, lambda: not team_watcher._reading)
        assert team_watcher._quiet == 0
        reads.clear()
        clock[0] += tick
        team_watcher._tick()
        await until(pilot, lambda: not team_watcher._reading)
        assert reads == ["read"], "after a change the next tick reads again"


def _in_nanosleep(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read().strip()
    except OSError:
        return True  # no wchan here (not Linux): the status alone tells
    return wchan in ("", "0") or "nanosleep" in wchan  # "0": a kernel that hides it


def test_the_probe_reports_an_idle_process_the_same_each_time_and_scans_the_table_rarely() -> None:
    proc = subprocess.Popen(["sleep", "300"])
    try:
        deadline = time.monotonic() + 10
        # asleep in nanosleep: exec'd and loaded (its size grows while the loader maps libraries)
        while psutil.Process(proc.pid).status() != psutil.STATUS_SLEEPING or not _in_nanosleep(proc.pid):
            assert time.monotonic() < deadline, "sleep never went to sleep"
            time.sleep(0.01)
        probe = PsutilProbe()
        first = probe(proc.pid)
        again = [probe(proc.pid) for _ in range(10)]
        assert first is not None and all(u == first for u in again), "rounded as shown: nothing to redraw"
        assert first.cpu == round(first.cpu) and first.mem_mb == round(first.mem_mb)
        assert probe.scans == (0 if probe.child_lists else 1), "one scan of the process table for eleven reads"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's child lists are Linux's")
def test_on_linux_a_tree_is_read_from_the_kernels_child_lists_not_a_scan_of_every_process() -> None:
    """The same tree as a scan finds (a grandchild included), with no scan: an idle console's
    periodic pass read ~200 processes to find the trees of 16 sleeping teammates."""
    proc = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300 & wait"])
    try:
        listed, scanned = PsutilProbe(), PsutilProbe(child_lists=False)
        assert listed.child_lists
        deadline = time.monotonic() + 10
        while len(scanned._tree(proc.pid)) < 3:  # sh and its two sleeps (a scan may come before they start)
            assert time.monotonic() < deadline, "the shell never started its children"
            scanned = PsutilProbe(child_lists=False)
        assert sorted(listed._tree(proc.pid)) == sorted(scanned._tree(proc.pid))
        assert listed(proc.pid) is not None
        assert listed.scans == 0 and scanned.scans == 1
    finally:
        for child in psutil.Process(proc.pid).children():
            child.kill()
        proc.kill()
        proc.wait()


async def test_a_status_pass_gives_freed_memory_back(
    console_factory: Callable[..., CrewmuxApp], team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console's RSS stays flat over thousands of messages: after a pass (at most every
    TRIM_EVERY s) the heap's free pages go back to the system."""
    assert watcher.return_freed_memory() is (sys.platform.startswith("linux"))
    trims: list[str] = []

    def trim() -> bool:
        trims.append("trim")
        return True

    monkeypatch.setattr(watcher, "return_freed_memory", trim)
    app = console_factory(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None)
        assert trims, "the first pass handed its garbage back"


async def test_the_first_pass_shows_the_team_before_probing_it(
    console_factory: Callable[..., CrewmuxApp], big_team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first frame does not wait for psutil or the teammates' screens: the first pass shows the
    team without figures, and the full pass follows by itself."""
    passes: list[tuple[bool, bool]] = []  # (probed, screens read) per pass
    original = watcher.read_team

    def recorded(ctx: TeamContext, selected: str, probe: Any, **kwargs: Any) -> Any:
        passes.append((probe is not watcher._no_usage, bool(kwargs["screens"])))
        return original(ctx, selected, probe, **kwargs)

    monkeypatch.setattr(watcher, "read_team", recorded)
    app = console_factory(big_team, life=True)  # with life the console reads screens too
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: len(passes) >= 2 and not screen.query_one(TeamWatcher)._reading)
        await until(pilot, lambda: screen.snapshot is not None and screen.snapshot.rows[-1].usage is not None)
    assert passes[0] == (False, False), "the first pass: no probe, no screens"
    assert passes[1] == (True, True), "the full pass right after it"

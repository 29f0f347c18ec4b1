"""The lead console as shipped: idle, busy, memory and scale, each beside a baseline of the same run.

Figures (CPU is psutil's process CPU time over a window, as % of one core):

* idle: the real console (``python -m app console``) in a private tmux server with 16 idle tmux
  teammates (``sleep``), beside the same console with none. Target <= 1 %. The console with none
  is itself read against a bare Textual app (:mod:`bench.bare_app`: CPU, first frame, memory).
* scale: 100 idle tmux teammates: the console's idle CPU (target <= 2 %), its first frame
  (<= 1 s; the first paint), the team shown (the first teammate's row on screen), and one
  status pass — the team read the console does on every change
  (:func:`app.console.widgets.watcher.read_team`: team file, tasks, screens, inboxes, psutil),
  target <= 100 ms — beside the 16-teammate team.
* start-up: wall time of a fresh interpreter importing what the console imports before its first
  frame (``app.cli`` and ``app.console.app``) beside one importing ``textual.app`` alone, and of
  ``crewmux console --help`` (one command group's parser) beside ``crewmux --help`` (every group's).
* memory: the real console with 8 tmux teammates while 10,000 messages reach the lead: RSS at
  the start and after each 5,000 (target <= 60 MiB, flat), beside the console with none.
* busy: the console app (headless, this process) hosting 8 in-process teammates that each print
  a timestamped line every 10 ms, the selected one shown: the console's CPU (its pty reader and
  emulation included; target <= 20 %), Shift+Down / Shift+Up (Pilot press → handled, the view
  re-attached) p99 (target <= 30 ms) and printed → drawn delay. Baseline: the same screen drawn by
  updating a ``Static`` with Rich text on every change, instead of the Line API.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench import Row, percentile, print_table, quick, ratio_text, verdict

ROOT = Path(__file__).resolve().parent.parent
TEAMMATES = 8
IDLE_TEAM = 16
SCALE_TEAM = 100
MESSAGES = 10_000
KEY_PRESSES = 200
"""Shift+Down/Up presses timed under the busy load: a p99 of 40 was their slowest one."""
PRINTER = (
    "import sys, time\n"
    "i = 0\n"
    "while True:\n"
    "    i += 1\n"
    "    sys.stdout.write(f'L{i} @{time.monotonic_ns()}@\\n'); sys.stdout.flush()\n"
    "    time.sleep(0.01)\n"
)


def _status_pass(home: Path, team: str, runs: int) -> float:
    """Median seconds of one status pass (:func:`read_team`) on ``team``, as the console runs it."""
    from app.console.model import PsutilProbe
    from app.console.ops import TeamContext
    from app.console.seat import ViewerInbox
    from app.console.widgets.watcher import read_team

    ctx = TeamContext(home=home, team=team)
    probe, viewer, took = PsutilProbe(), ViewerInbox(), []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            read_team(ctx, "team-lead", probe, dead=(), screens=True, viewer=viewer)
            took.append(time.perf_counter() - start)
    finally:
        ctx.close()
    return percentile(took, 50)


def warm() -> None:
    """Write the .pyc files and warm the disk cache: whichever console started first paid for it (the
    empty team's first frame read ~1 s slower than the 100-teammate one's). compileall writes them even
    under ``PYTHONDONTWRITEBYTECODE`` (an import does not: every start compiled crewmux's ~130 modules
    again, ~0.1 s of CPU; an installed crewmux has its .pyc files)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "backends", "bench"], cwd=ROOT, check=False)
    subprocess.run([sys.executable, "-c", "import app.cli, app.console.app, bench.bare_app"], cwd=ROOT, check=False)


def _wall_ms(runs: int, *args: str) -> float:
    """Median milliseconds of ``python ARGS`` (a fresh interpreter each run), output dropped."""
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        took.append(time.perf_counter() - start)
    return percentile(took, 50) * 1000


def startup_figures(short: bool) -> list[Row]:
    """What starting costs before any team is read: imports, and one command's parser."""
    runs = 5 if short else 15
    warm()
    console = _wall_ms(runs, "-c", "import app.cli, app.console.app")
    bare = _wall_ms(runs, "-c", "import textual.app")
    one, every = _wall_ms(runs, "-m", "app", "console", "--help"), _wall_ms(runs, "-m", "app", "--help")
    return [
        Row("start-up: import the console (ms, median)", f"{console:.0f}", f"{bare:.0f} (textual.app)",
            ratio_text(console, bare)),
        Row("start-up: crewmux console --help (ms, median)", f"{one:.0f}", f"{every:.0f} (crewmux --help)",
            ratio_text(one, every)),
    ]  # fmt: skip


def live_figures(short: bool) -> list[Row]:
    """Idle, scale and memory figures of the real console in tmux (empty without tmux)."""
    from bench.console_live import SLEEPER, LiveConsole, PrivateTmux, tmux_team

    window = 3.0 if short else 20.0
    rows: list[Row] = []
    warm()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        results: dict[int, tuple[float, float, float, float]] = {}
        team_shown = 0.0  # from tmux new-session to the first teammate's row on screen (100 teammates)
        for count in (0, IDLE_TEAM, SCALE_TEAM):
            with PrivateTmux() as tmux:
                tmux_team(home, f"t{count}", count, SLEEPER, tmp)
                console = LiveConsole(tmux, home, f"t{count}")
                if count:  # " m0 " is its row (the resume's notice, later, lists "m0, m1, ...")
                    team_shown = console.wait_for(" m0 ", 60) - console.started
                    console.wait_for(f"m{min(count, 20) - 1}", 60)
                time.sleep(2.0)  # start-up work (resume, first reads) done before the window opens
                cpu, rss = console.cpu_percent(window), console.rss_mib()
                status = _status_pass(home, f"t{count}", 5 if short else 20)
                results[count] = (cpu, console.first_frame, rss, status)
        with PrivateTmux() as tmux:  # the floor: a bare Textual app (one Static) in the same terminal
            bare = LiveConsole(tmux, home, "bare", module="bench.bare_app")
            time.sleep(2.0)
            cb, fb, mb = bare.cpu_percent(window), bare.first_frame, bare.rss_mib()
        (c0, f0, m0, _s0), (c16, _f16, _m16, s16), (c100, f100, _m100, s100) = (
            results[0],
            results[IDLE_TEAM],
            results[SCALE_TEAM],
        )
        rows += [
            Row("idle console, no teammates (% core)", f"{c0:.2f}", f"{cb:.2f} (bare Textual)", ratio_text(c0, cb)),
            Row("first frame, no teammates (ms)", f"{f0 * 1000:.0f}", f"{fb * 1000:.0f} (bare Textual)",
                ratio_text(f0, fb)),
            Row("memory, no teammates (MiB)", f"{m0:.1f}", f"{mb:.1f} (bare Textual)", ratio_text(m0, mb)),
            Row(f"idle console, {IDLE_TEAM} idle tmux teammates, {window:.0f}s (% core)", f"{c16:.2f}",
                f"{c0:.2f} (none)", ratio_text(c16, c0), "<= 1", verdict(c16 <= 1.0)),
            Row(f"idle console, {SCALE_TEAM} idle tmux teammates (% core)", f"{c100:.2f}",
                f"{c16:.2f} ({IDLE_TEAM})", ratio_text(c100, c16), "<= 2", verdict(c100 <= 2.0)),
            Row(f"status pass, {SCALE_TEAM} teammates (ms, median)", f"{s100 * 1000:.0f}",
                f"{s16 * 1000:.0f} ({IDLE_TEAM})", ratio_text(s100, s16), "<= 100", verdict(s100 <= 0.1)),
            Row(f"first frame, {SCALE_TEAM} teammates (ms)", f"{f100 * 1000:.0f}", f"{f0 * 1000:.0f} (none)",
                ratio_text(f100, f0), "<= 1000", verdict(f100 <= 1.0)),
            Row(f"team shown, {SCALE_TEAM} teammates: the row of m0 (ms)", f"{team_shown * 1000:.0f}",
                f"{f100 * 1000:.0f} (first frame)", ratio_text(team_shown, f100), "<= 1000",
                verdict(team_shown <= 1.0)),
        ]  # fmt: skip
        rows += _memory(home, tmp, m0, short)
    return rows


def _memory(home: Path, tmp: str, baseline: float, short: bool) -> list[Row]:
    """RSS of the real console with 8 tmux teammates while ``MESSAGES`` messages reach the lead."""
    from app.core.mailbox import Mailbox
    from app.core.team import TeamStore
    from bench.console_live import SLEEPER, LiveConsole, PrivateTmux, tmux_team

    total = 1000 if short else MESSAGES
    with PrivateTmux() as tmux:
        tmux_team(home, "mem", TEAMMATES, SLEEPER, tmp)
        console = LiveConsole(tmux, home, "mem")
        console.wait_for(f"m{TEAMMATES - 1}", 60)
        time.sleep(2.0)
        mailbox = Mailbox(TeamStore(home), "mem")
        marks = [console.rss_mib()]
        for n in range(total):
            mailbox.send("team-lead", f"message {n}: " + "x" * 80, sender=f"m{n % TEAMMATES}")
            if (n + 1) % (total // 2) == 0:
                console.wait_for(f"message {n}:", 120)  # the console has shown the latest one
                marks.append(console.rss_mib())
    growth = (marks[-1] - marks[1]) * 1024 / (total // 2)
    return [
        Row(f"memory, {TEAMMATES} tmux teammates, start (MiB)", f"{marks[0]:.1f}", f"{baseline:.1f} (none)",
            ratio_text(marks[0], baseline), "<= 60", verdict(marks[0] <= 60)),
        Row(f"memory after {total // 2} / {total} messages (MiB)", f"{marks[1]:.1f} / {marks[2]:.1f}",
            f"{marks[0]:.1f} (start)", ratio_text(marks[2], marks[0]), "<= 60, flat", verdict(marks[2] <= 60)),
        Row("  growth over the second half (KiB per message)", f"{growth:.2f}", target="~0"),
    ]  # fmt: skip


def _static_view() -> Any:
    """The baseline view: a Static updated with Rich text of the whole screen on each change."""
    from rich.text import Text
    from textual.widgets import Static

    from app.console.widgets.terminal import TerminalView

    class StaticTerminal(TerminalView):
        def _poll(self) -> None:
            term = self.terminal
            if term is None or term.version == self._drawn_version:
                return
            self._last_poll = time.monotonic()  # paced like the real view (one draw per frame at most)
            with term.lock:
                lines = list(term.screen.display)
                self._drawn_version = term.version
            self.static.update(Text("\n".join(lines)))

        def compose(self) -> Any:
            self.static = Static()
            yield self.static

        def render_line(self, y: int) -> Any:
            return super(TerminalView, self).render_line(y)

    return StaticTerminal


async def _busy(seconds: float, baseline: bool) -> tuple[list[float], float, list[float]]:
    from rich.segment import Segment

    from app.console.app import make_app
    from app.console.ops import SpawnRequest, spawn
    from app.console.widgets.terminal import TerminalView
    from backends.inprocess import InProcessBackend

    delays: list[float] = []
    seen: set[str] = set()

    def record(text: str) -> None:
        now = time.monotonic_ns()
        for part in text.split("@")[1::2]:
            if part.isdigit() and part not in seen:
                seen.add(part)
                delays.append((now - int(part)) / 1e6)

    original_line = TerminalView.render_line

    renders: list[Any] = [0, 0.0, None]  # lines drawn; when the first line of a new selection was drawn; that selection

    def timed_line(self: TerminalView, y: int) -> Any:
        renders[0] += 1
        shown = getattr(self.screen, "selected", None)
        if shown != renders[2]:
            renders[1], renders[2] = time.perf_counter(), shown
        strip = original_line(self, y)
        record("".join(seg.text for seg in strip if isinstance(seg, Segment)))
        return strip

    TerminalView.render_line = timed_line  # type: ignore[method-assign]
    static_cls = _static_view() if baseline else None
    if static_cls is not None:
        from textual.widgets import Static

        original_render = Static.render

        def timed_render(self: Static) -> Any:
            renders[0] += 1
            shown = getattr(self.screen, "selected", None)
            if shown != renders[2]:
                renders[1], renders[2] = time.perf_counter(), shown
            out = original_render(self)
            record(str(out))
            return out

        Static.render = timed_render  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        backend = InProcessBackend()
        app = make_app(home, "busy", backend=backend, tick=float(os.environ.get("BENCH_TICK", "2.0")), remember=False)
        if static_cls is not None:
            import app.console.screens.main as main_mod

            setattr(main_mod, "TerminalView", static_cls)  # noqa: B010 - swap the view class for the baseline run
        try:
            async with app.run_test(size=(160, 48), headless=True) as pilot:
                for n in range(TEAMMATES):
                    req = SpawnRequest(name=f"busy-{n}", command=f"{sys.executable} -c {shlex.quote(PRINTER)}", cwd=tmp)
                    await asyncio.to_thread(spawn, app.ctx, req)
                screen: Any = app.screen
                deadline = time.monotonic() + 30
                while (
                    screen.snapshot is None or len(screen.snapshot.rows) <= TEAMMATES
                ) and time.monotonic() < deadline:
                    await pilot.pause(0.1)
                await pilot.press("shift+down")
                await pilot.pause(1.0)
                delays.clear()
                me = psutil.Process()
                before = sum(me.cpu_times()[:2])
                start = time.monotonic()
                while time.monotonic() - start < seconds:
                    await pilot.pause(0.1)
                cpu = 100.0 * (sum(me.cpu_times()[:2]) - before) / (time.monotonic() - start)
                samples = list(delays)
                keys = [
                    await _select_key(app, renders, "shift+down" if n % 2 == 0 else "shift+up")
                    for n in range(KEY_PRESSES)
                ]
        finally:
            TerminalView.render_line = original_line  # type: ignore[method-assign]
            if static_cls is not None:
                from textual.widgets import Static

                Static.render = original_render  # type: ignore[method-assign]
                import app.console.screens.main as main_mod

                setattr(main_mod, "TerminalView", TerminalView)  # noqa: B010
    return samples, cpu, keys


async def _select_key(app: Any, renders: list[Any], key: str) -> float:
    """Milliseconds from ``key`` (Shift+Down/Up) reaching the app to the first line drawn after the
    selection moved: the time the view drew its first line with the new selection, recorded by the
    view itself (a draw that came before this loop saw the selection move counts; waiting for the
    next line drawn would count the frame after it). (Pilot.press waits for an idle CPU, which
    never comes under this load.)"""
    from textual import events

    await asyncio.sleep(0.05)
    screen = app.screen
    was = screen.selected
    event = events.Key(key, None)
    event.set_sender(app)
    began = time.perf_counter()
    app._driver.send_message(event)
    deadline = began + 10
    while (screen.selected == was or renders[2] != screen.selected) and time.perf_counter() < deadline:
        await asyncio.sleep(0.0005)
    drawn: float = renders[1] if renders[2] == screen.selected != was else time.perf_counter()  # else: timed out
    return (drawn - began) * 1000


def main() -> None:
    short = quick()
    busy_s = 3.0 if short else 15.0
    live = startup_figures(short) + (live_figures(short) if shutil.which("tmux") else [])
    ours, ours_cpu, keys = asyncio.run(_busy(busy_s, baseline=False))
    base, base_cpu, base_keys = asyncio.run(_busy(busy_s, baseline=True))
    p50, p99 = percentile(ours, 50), percentile(ours, 99)
    b50, b99 = percentile(base, 50), percentile(base, 99)
    k99, bk99 = percentile(keys, 99), percentile(base_keys, 99)
    rows = [
        *live,
        Row(f"busy: console CPU, {TEAMMATES} in-process teammates (% core)", f"{ours_cpu:.1f}", f"{base_cpu:.1f}",
            ratio_text(ours_cpu, base_cpu), "<= 20", verdict(ours_cpu <= 20.0)),
        Row("busy: Shift+Down/Up p99 (ms)", f"{k99:.1f}", f"{bk99:.1f}", ratio_text(k99, bk99), "<= 30",
            verdict(k99 <= 30.0)),
        Row("busy: Shift+Down/Up p50 (ms)", f"{percentile(keys, 50):.1f}", f"{percentile(base_keys, 50):.1f}"),
        Row(f"busy: printed -> drawn p50 (ms), {len(ours)} lines", f"{p50:.1f}", f"{b50:.1f}", ratio_text(p50, b50)),
        Row("busy: printed -> drawn p99 (ms)", f"{p99:.1f}", f"{b99:.1f}", ratio_text(p99, b99), "<= 100",
            verdict(p99 <= 100.0)),
        Row("busy: lines seen on screen", str(len(ours)), str(len(base)), ratio_text(len(ours), len(base))),
    ]  # fmt: skip
    print_table("Lead console as shipped (busy baseline: Static + Rich redraw of the selected screen)", rows)
    if not shutil.which("tmux"):
        print("  (idle, scale and memory figures skipped: tmux is not installed)")


if __name__ == "__main__":
    main()

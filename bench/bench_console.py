"""The lead console: idle CPU with 16 idle teammates, and 16 busy in-process teammates.

Figures:

* idle: the real console (``python -m app console``) in a private tmux server, on a team of 16
  teammates whose recorded processes sleep, for 30 s (3 s quick): CPU of the console process, % of
  one core. Target <= 2 %.
* busy: the console app (headless, in this process) hosting 16 in-process teammates that each
  print a timestamped line every 10 ms; the selected teammate's screen is drawn. Delay from a line
  printed to the row holding it being drawn (p50/p99), and the console process's CPU (its pty
  readers and pyte emulation included; the teammates' own CPU is not). Target p99 <= 100 ms.
  Baseline: the same screen drawn by updating a ``Static`` with Rich text on every change (the way
  DESIGN measured at ~10 frames/s), instead of the Line API (``render_line``) with coalescing.
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
import uuid
from pathlib import Path
from typing import Any

import psutil

from bench import Row, percentile, print_table, quick, ratio_text, verdict

TEAMMATES = 16
PRINTER = (
    "import sys, time\n"
    "i = 0\n"
    "while True:\n"
    "    i += 1\n"
    "    sys.stdout.write(f'L{i} @{time.monotonic_ns()}@\\n'); sys.stdout.flush()\n"
    "    time.sleep(0.01)\n"
)


def _team_with_sleepers(home: Path, team: str) -> list[subprocess.Popen[bytes]]:
    from app.core.liveness import create_time
    from app.core.models import MemberRuntime
    from app.core.team import TeamStore

    teams = TeamStore(home)
    teams.create(team)
    procs = []
    for n in range(TEAMMATES):
        proc = subprocess.Popen(["sleep", "3600"])
        procs.append(proc)
        rt = MemberRuntime(pid=proc.pid, pid_create_time=create_time(proc.pid), agent_kind="shell")
        teams.join(team, f"idle-{n}", backend_type="tmux", runtime=rt)
    return procs


def idle_cpu(seconds: float) -> float:
    """% of one core used by the real console in tmux over ``seconds``; NaN without tmux."""
    if shutil.which("tmux") is None:
        return float("nan")
    socket = f"crewmux-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        procs = _team_with_sleepers(home, "bench")
        env = f"env -u COLUMNS -u LINES CREWMUX_HOME={home} TERM=xterm-256color"
        cmd = f"{env} {sys.executable} -m app console --team bench"
        try:
            subprocess.run(
                ["tmux", "-L", socket, "new-session", "-d", "-s", "c", "-x", "160", "-y", "48", cmd], check=True
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                shown = subprocess.run(
                    ["tmux", "-L", socket, "capture-pane", "-p", "-t", "c"], capture_output=True, text=True, check=False
                ).stdout
                if "idle-15" in shown:
                    break
                time.sleep(0.2)
            pane_pid = int(
                subprocess.run(
                    ["tmux", "-L", socket, "display", "-p", "-t", "c", "#{pane_pid}"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
            )
            console = psutil.Process(pane_pid)
            time.sleep(3.0)  # let start-up work finish before the window opens
            before = sum(console.cpu_times()[:2])
            start = time.monotonic()
            time.sleep(seconds)
            used = sum(console.cpu_times()[:2]) - before
            return 100.0 * used / (time.monotonic() - start)
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
            for p in procs:
                p.kill()
                p.wait()


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


async def _busy(seconds: float, baseline: bool) -> tuple[list[float], float]:
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

    def timed_line(self: TerminalView, y: int) -> Any:
        strip = original_line(self, y)
        record("".join(seg.text for seg in strip if isinstance(seg, Segment)))
        return strip

    TerminalView.render_line = timed_line  # type: ignore[method-assign]
    static_cls = _static_view() if baseline else None
    if static_cls is not None:
        from textual.widgets import Static

        original_render = Static.render

        def timed_render(self: Static) -> Any:
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
        finally:
            TerminalView.render_line = original_line  # type: ignore[method-assign]
            if static_cls is not None:
                from textual.widgets import Static

                Static.render = original_render  # type: ignore[method-assign]
                import app.console.screens.main as main_mod

                setattr(main_mod, "TerminalView", TerminalView)  # noqa: B010
    return samples, cpu


def main() -> None:
    short = quick()
    idle_s = 3.0 if short else 30.0
    busy_s = 3.0 if short else 15.0
    idle = idle_cpu(idle_s)
    ours, ours_cpu = asyncio.run(_busy(busy_s, baseline=False))
    base, base_cpu = asyncio.run(_busy(busy_s, baseline=True))
    p50, p99 = percentile(ours, 50), percentile(ours, 99)
    b50, b99 = percentile(base, 50), percentile(base, 99)
    rows = [
        Row(
            f"idle console, {TEAMMATES} idle teammates, {idle_s:.0f}s (% core)",
            f"{idle:.2f}",
            target="<= 2",
            verdict=verdict(None if idle != idle else idle <= 2.0),
        ),
        Row(f"busy: printed -> drawn p50 (ms), {len(ours)} lines", f"{p50:.1f}", f"{b50:.1f}", ratio_text(p50, b50)),
        Row(
            "busy: printed -> drawn p99 (ms)",
            f"{p99:.1f}",
            f"{b99:.1f}",
            ratio_text(p99, b99),
            "<= 100",
            verdict(p99 <= 100.0),
        ),
        Row("busy: lines seen on screen", str(len(ours)), str(len(base)), ratio_text(len(ours), len(base))),
        Row(
            f"busy: console CPU, {TEAMMATES} teammates (% core)",
            f"{ours_cpu:.1f}",
            f"{base_cpu:.1f}",
            ratio_text(ours_cpu, base_cpu),
        ),
    ]
    print_table("Lead console (baseline: Static + Rich redraw of the selected screen)", rows)
    if idle != idle:
        print("  (idle figure skipped: tmux is not installed)")


if __name__ == "__main__":
    main()

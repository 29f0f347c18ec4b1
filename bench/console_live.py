"""The console as shipped, for the benchmarks: ``python -m app console`` in a private tmux server.

:class:`LiveConsole` starts a team's real console in a tmux session (a terminal the size given),
waits for its first frame, and measures the console process (with its own ``tmux -C`` client):
CPU over a window from psutil's process CPU times, and its memory. Teams are made the way the
console makes them (:func:`app.console.ops.spawn`, tmux teammates on the same private server).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from types import TracebackType

SLEEPER = "exec sleep 3600"
BUSY = 'while true; do echo "T $(date +%s.%N) busy output line"; sleep 0.02; done'


class PrivateTmux:
    """A tmux server on a unique socket (``$CREWMUX_TMUX_SOCKET`` points there), killed on exit."""

    def __init__(self) -> None:
        self.name = f"crewmux-bench-{uuid.uuid4().hex[:8]}"
        self._old = os.environ.get("CREWMUX_TMUX_SOCKET")
        os.environ["CREWMUX_TMUX_SOCKET"] = self.name

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.name, *args], capture_output=True, text=True, check=False).stdout

    def __enter__(self) -> PrivateTmux:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.run("kill-server")
        if self._old is None:
            os.environ.pop("CREWMUX_TMUX_SOCKET", None)
        else:
            os.environ["CREWMUX_TMUX_SOCKET"] = self._old


def tmux_team(home: Path, team: str, count: int, command: str, cwd: str) -> None:
    """``team`` with ``count`` tmux teammates running ``command`` (spawned as the console does)."""
    from app.console import ops

    ctx = ops.TeamContext(home=home, team=team)
    ops.ensure_team(home, team)
    try:
        for n in range(count):
            ops.spawn(ctx, ops.SpawnRequest(name=f"m{n}", command=command, backend="tmux", cwd=cwd))
    finally:
        ctx.close()


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU of ``proc`` and its children (the console's ``tmux -C`` client), with
    what its finished children used (the commands it ran and waited for: ``tmux`` calls, probes)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class LiveConsole:
    """The real console on ``team`` under ``home``, in session ``console`` of ``tmux``."""

    def __init__(
        self, tmux: PrivateTmux, home: Path, team: str, size: tuple[int, int] = (160, 48), *, module: str = ""
    ) -> None:
        """``module``: run ``python -m module`` instead (the bare-Textual baseline, :mod:`bench.bare_app`)."""
        self.tmux = tmux
        env = f"env -u COLUMNS -u LINES CREWMUX_HOME={home} CREWMUX_TMUX_SOCKET={tmux.name} TERM=xterm-256color"
        program = f"-m {module}" if module else f"-m app console --team {team}"
        cmd = f"{env} {sys.executable} {program}"
        self.started = time.monotonic()
        tmux.run("new-session", "-d", "-s", "console", "-x", str(size[0]), "-y", str(size[1]), cmd)
        self.first_frame = self.wait_for("team-lead", 60) - self.started  # the composer's placeholder: the first paint
        self.proc = psutil.Process(int(tmux.run("display", "-p", "-t", "console", "#{pane_pid}").strip()))

    def shown(self) -> str:
        return self.tmux.run("capture-pane", "-p", "-t", "console")

    def wait_for(self, text: str, timeout: float) -> float:
        """Wait until ``text`` is on the console's screen; returns when (monotonic). TimeoutError."""
        deadline = time.monotonic() + timeout
        while text not in self.shown():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the console never showed {text!r}:\n{self.shown()}")
            time.sleep(0.02)
        return time.monotonic()

    def keys(self, *keys: str) -> None:
        self.tmux.run("send-keys", "-t", "console", *keys)

    def cpu_percent(self, seconds: float) -> float:
        """% of one core the console (and its tmux -C client) used over ``seconds``."""
        before, start = cpu_seconds(self.proc), time.monotonic()
        time.sleep(seconds)
        return 100.0 * (cpu_seconds(self.proc) - before) / (time.monotonic() - start)

    def rss_mib(self) -> float:
        return float(self.proc.memory_info().rss) / (1 << 20)

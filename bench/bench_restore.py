"""Whole-team restore: time for ``crewmux resume`` to bring back 8 teammates after ``tmux kill-server``.

Crewmux's part only: each teammate runs ``sleep`` (no agent CLI start-up). Measured from the call
until every teammate has a new pane, a live pid and its record rewritten. Baseline, in the same
run: the floor — 8 panes opened by plain ``tmux`` commands (new-session + 7 new-window, each pane's
pid read back), on a fresh server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from app.core.liveness import is_alive
from app.core.team import TeamStore
from app.lifecycle.teammates import SpawnRequest, Teammates
from bench import Row, percentile, print_table, quick, ratio_text, verdict

N = 8
TARGET_S = 2.0


def _kill_server(sock: str) -> None:
    subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, check=False)


def restore_round(home: Path, sock: str, team: str) -> float:
    """Spawn 8 teammates, kill the tmux server, and time ``resume``; returns seconds."""
    teams = TeamStore(home)
    teams.create(team)
    svc = Teammates(teams, team)
    for i in range(N):
        svc.spawn(SpawnRequest(name=f"t{i}", kind="shell", argv=["sleep", "600"], backend="tmux", cwd=str(home)))
    pids = [(m.crewmux.pid, m.crewmux.pid_create_time) for m in teams.load(team).members if m.crewmux]
    _kill_server(sock)
    deadline = time.monotonic() + 20
    while any(is_alive(p, c) for p, c in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.perf_counter()
    report = svc.resume()
    took = time.perf_counter() - start
    restarted = [e for e in report if e.action == "restarted"]
    if len(restarted) != N:
        raise RuntimeError(f"only {len(restarted)} of {N} restarted: {report}")
    _kill_server(sock)
    return took


def tmux_floor(sock: str, cwd: str) -> float:
    """8 panes by plain tmux commands, each pane's pid read back; returns seconds."""
    start = time.perf_counter()
    for i in range(N):
        verb = ["new-session", "-d", "-s", "floor"] if i == 0 else ["new-window", "-t", "floor"]
        out = subprocess.run(
            ["tmux", "-L", sock, *verb, "-c", cwd, "-P", "-F", "#{pane_id}", "sleep", "600"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        pane = out.stdout.strip()
        subprocess.run(
            ["tmux", "-L", sock, "display", "-p", "-t", pane, "#{pane_pid}"], capture_output=True, check=True
        )
    took = time.perf_counter() - start
    _kill_server(sock)
    return took


def main() -> None:
    if shutil.which("tmux") is None:
        print("bench_restore: tmux is not installed; skipped")
        return
    rounds = 2 if quick() else 5
    ours: list[float] = []
    floor: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        sock = f"crewmux-bench-restore-{uuid.uuid4().hex[:8]}"
        old = os.environ.get("CREWMUX_TMUX_SOCKET")
        os.environ["CREWMUX_TMUX_SOCKET"] = sock
        try:
            for r in range(rounds):
                home = Path(tmp) / f"home{r}"
                home.mkdir()
                ours.append(restore_round(home, sock, f"r{r}"))
                floor.append(tmux_floor(f"{sock}-floor", tmp))
        finally:
            _kill_server(sock)
            if old is None:
                os.environ.pop("CREWMUX_TMUX_SOCKET", None)
            else:
                os.environ["CREWMUX_TMUX_SOCKET"] = old
    p50, base = percentile(ours, 50), percentile(floor, 50)
    print_table(
        f"restore: {N} teammates after tmux kill-server, {rounds} rounds (crewmux's part; teammates run sleep)",
        [
            Row(f"resume {N} teammates p50", f"{p50 * 1000:.0f} ms", f"{base * 1000:.0f} ms plain tmux",
                ratio_text(p50, base), f"< {TARGET_S:.0f} s", verdict(p50 < TARGET_S)),
            Row(f"resume {N} teammates max", f"{max(ours) * 1000:.0f} ms", f"{max(floor) * 1000:.0f} ms"),
            Row("per teammate (p50)", f"{p50 / N * 1000:.0f} ms", f"{base / N * 1000:.0f} ms"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()

"""Pane backends: spawning 8 teammates, and following 8 busy panes' output.

Figures (on a private tmux server, reaped afterwards):

* time to spawn 8 teammates until each shows its first output — crewmux's tmux backend (one
  ``tmux`` process per step) and the in-process backend, beside libtmux's ``split()`` (the
  baseline: ~8 tmux processes per split);
* the console as shipped (``python -m app console`` in the same private tmux server) following 8
  tmux teammates that each print a line every 20 ms, one of them selected and drawn: the CPU of
  the console process and its one ``tmux -C`` client (psutil CPU times over the window), beside
  what the console did before — ``TmuxBackend.screen()`` (capture-pane) of the selected pane every
  100 ms, still how an iTerm2 pane is mirrored — measured here in the same run;
* the control-mode stream itself: all 8 panes through ``TmuxBackend.follow()`` (one client,
  ``%output``) beside polling ``capture-pane`` through libtmux every 50 ms (a tmux process per
  pane per refresh): CPU and line-written → readable latency.

Runs last 10 s (2 s quick). Targets: 8 spawns <= 1 s; following 8 busy panes <= 5 % of one core.
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench import Row, percentile, print_table, quick, ratio_text, verdict
from bench.console_live import PrivateTmux

TEAMMATES = 8
TICK = 0.02
BUSY = f"import time\nwhile True:\n    print('T', time.time(), flush=True)\n    time.sleep({TICK})\n"
FIRST = ["sh", "-c", "echo first-output; exec sleep 120"]


def _cpu_self() -> float:
    t = psutil.Process().cpu_times()
    return float(t.user + t.system)


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _pct(values: list[float], p: float) -> float:
    return percentile(values, p)


def spawn_tmux(cwd: str) -> float:
    from backends.base import PaneSpec
    from backends.tmux import TmuxBackend

    with PrivateTmux():
        backend = TmuxBackend()
        start = time.perf_counter()
        handles = [backend.spawn(PaneSpec(team="b", name=f"m{i}", argv=FIRST, cwd=cwd, rows=60)) for i in range(8)]
        pending = set(range(len(handles)))
        while pending:
            pending = {i for i in pending if "first-output" not in backend.screen(handles[i]).text}
        return time.perf_counter() - start


def spawn_inprocess(cwd: str) -> float:
    from backends.base import PaneSpec
    from backends.inprocess import InProcessBackend

    backend = InProcessBackend()
    start = time.perf_counter()
    handles = [backend.spawn(PaneSpec(team="b", name=f"m{i}", argv=FIRST, cwd=cwd)) for i in range(8)]
    for h in handles:
        backend.terminal(h).wait_for(lambda s: "first-output" in s.display[0], 30)
    took = time.perf_counter() - start
    for h in handles:
        backend.kill(h, grace=0.5)
    return took


def spawn_libtmux(cwd: str) -> float:
    import libtmux

    with PrivateTmux() as tmux:
        server = libtmux.Server(socket_name=tmux.name)
        start = time.perf_counter()
        session = server.new_session("b", window_command=" ".join(FIRST[:2]) + " 'echo first-output; exec sleep 120'")
        window = session.active_window
        first = window.active_pane
        assert first is not None
        panes = [first]
        for _ in range(7):
            panes.append(window.split(shell="echo first-output; exec sleep 120", start_directory=cwd))
            window.select_layout("tiled")
        pending = list(panes)
        while pending:
            pending = [p for p in pending if "first-output" not in "\n".join(p.capture_pane())]
        return time.perf_counter() - start


def follow_control(seconds: float, script: str) -> tuple[float, list[float]]:
    """CPU share of one core and latencies (s) following 8 busy panes over control mode."""
    from backends.base import PaneSpec
    from backends.tmux import TmuxBackend, session_name
    from backends.tmux_follow import TmuxControl

    with PrivateTmux():
        backend = TmuxBackend()
        argv = [sys.executable, script]
        for i in range(TEAMMATES):
            backend.spawn(PaneSpec(team="b", name=f"m{i}", argv=argv, cwd="/", rows=60))
        latencies: list[float] = []
        partial: dict[str, bytes] = {}

        def on_output(pane: str, data: bytes) -> None:
            now = time.time()
            buf = partial.get(pane, b"") + data
            *lines, partial[pane] = buf.split(b"\n")
            for line in lines:
                parts = line.split()
                if len(parts) == 2 and parts[0] == b"T":
                    latencies.append(now - float(parts[1]))

        control = TmuxControl(backend.server, session_name("b"), on_output)
        client = psutil.Process(control.proc.pid)
        c0, s0 = client.cpu_times(), _cpu_self()
        time.sleep(seconds)
        c1, s1 = client.cpu_times(), _cpu_self()
        control.close()
        used = (c1.user + c1.system - c0.user - c0.system) + (s1 - s0)
        return used / seconds, latencies


def _stamped(lines: list[str], seen: set[str], now: float) -> list[float]:
    """Latencies (s) of the timestamped lines in ``lines`` not seen before."""
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[0] == "T" and line not in seen:
            seen.add(line)
            out.append(now - float(parts[1]))
    return out


def mirror_selected(seconds: float, script: str, *, baseline: bool) -> tuple[float, list[float]]:
    """The console's mirror loop on one of 8 busy panes (``baseline``: libtmux's capture_pane)."""
    import libtmux

    from app.console.widgets.mirror import MIRROR_INTERVAL_S
    from backends.base import PaneSpec
    from backends.tmux import TmuxBackend

    with PrivateTmux() as tmux:
        backend = TmuxBackend()
        argv = [sys.executable, script]
        handles = [backend.spawn(PaneSpec(team="b", name=f"m{i}", argv=argv, cwd="/", rows=60)) for i in range(8)]
        selected = handles[0]
        pane = libtmux.Pane.from_pane_id(pane_id=selected.pane_id, server=libtmux.Server(socket_name=tmux.name))
        seen: set[str] = set()
        latencies: list[float] = []
        s0, k0 = _cpu_self(), _cpu_children()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            lines = pane.capture_pane() if baseline else backend.screen(selected).lines
            latencies.extend(_stamped(lines, seen, time.time()))
            time.sleep(MIRROR_INTERVAL_S)
        used = (_cpu_self() - s0) + (_cpu_children() - k0)
        return used / seconds, latencies


def console_following(seconds: float) -> float:
    """% of one core used by the real console (and its tmux -C client) with 8 busy tmux teammates,
    the first one selected and drawn."""
    from bench.console_live import BUSY, LiveConsole, tmux_team

    with tempfile.TemporaryDirectory() as tmp, PrivateTmux() as tmux:
        home = Path(tmp)
        tmux_team(home, "busy", TEAMMATES, BUSY, tmp)
        console = LiveConsole(tmux, home, "busy")
        console.wait_for(f"m{TEAMMATES - 1}", 60)
        console.keys("S-Down")
        console.wait_for("busy output line", 30)  # the selected teammate's screen is drawn
        time.sleep(1.0)
        return console.cpu_percent(seconds) / 100.0


def follow_polling(seconds: float, script: str) -> tuple[float, list[float]]:
    """The same with libtmux capture-pane polling every 50 ms (a tmux process per pane per poll)."""
    import libtmux

    from backends.base import PaneSpec
    from backends.tmux import TmuxBackend

    with PrivateTmux() as tmux:
        backend = TmuxBackend()
        argv = [sys.executable, script]
        ids = [backend.spawn(PaneSpec(team="b", name=f"m{i}", argv=argv, cwd="/", rows=60)).pane_id for i in range(8)]
        server = libtmux.Server(socket_name=tmux.name)
        panes = [libtmux.Pane.from_pane_id(pane_id=p, server=server) for p in ids]
        assert all(p is not None for p in panes)
        seen: set[str] = set()
        latencies: list[float] = []
        s0, k0 = _cpu_self(), _cpu_children()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for pane in panes:
                latencies.extend(_stamped(pane.capture_pane(), seen, time.time()))
            time.sleep(0.05)
        used = (_cpu_self() - s0) + (_cpu_children() - k0)
        return used / seconds, latencies


def pyte_feed_rates(size: int) -> dict[str, float]:
    """MB/s that pyte's Screen, HistoryScreen and crewmux's TerminalScreen parse of colored output."""
    import pyte

    from backends.pyte_screen import TerminalScreen

    line = "".join(f"\x1b[3{i % 8}m word{i} \x1b[1;4{(i + 3) % 8}m" for i in range(8)) + "\x1b[0m\r\n"
    data = (line * (size // len(line) + 1)).encode()[:size]
    rates = {}
    for label, screen in (
        ("pyte.Screen", pyte.Screen(120, 36)),
        ("pyte.HistoryScreen", pyte.HistoryScreen(120, 36, history=2000)),
        ("TerminalScreen (crewmux)", TerminalScreen(120, 36)),
    ):
        stream = pyte.ByteStream(screen)
        start = time.perf_counter()
        for i in range(0, len(data), 4096):
            stream.feed(data[i : i + 4096])
        rates[label] = len(data) / (time.perf_counter() - start) / 1e6
    return rates


def main() -> None:
    if shutil.which("tmux") is None:
        print("bench_panes: tmux is not installed; skipped")
        return
    seconds = 2.0 if quick() else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        script = str(Path(tmp) / "busy.py")
        Path(script).write_text(BUSY)
        t_tmux, t_inproc, t_lib = spawn_tmux(tmp), spawn_inprocess(tmp), spawn_libtmux(tmp)
        cpu_live = console_following(seconds)
        cpu_mir, lat_mir = mirror_selected(seconds, script, baseline=False)
        cpu_ctl, lat_ctl = follow_control(seconds, script)
        cpu_poll, lat_poll = follow_polling(seconds, script)
    rates = pyte_feed_rates(200_000 if quick() else 2_000_000)
    p50c, p99c = _pct(lat_ctl, 50) * 1000, _pct(lat_ctl, 99) * 1000
    p50p, p99p = _pct(lat_poll, 50) * 1000, _pct(lat_poll, 99) * 1000
    title = f"panes: 8 teammates; following 8 panes x {1 / TICK:.0f} lines/s for {seconds:.0f}s"
    rows = [
        Row("spawn 8 until first output (tmux)", f"{t_tmux * 1000:.0f} ms", f"{t_lib * 1000:.0f} ms libtmux",
            ratio_text(t_tmux, t_lib), "<= 1000 ms", verdict(t_tmux <= 1.0)),
        Row("spawn 8 until first output (in-process)", f"{t_inproc * 1000:.0f} ms", f"{t_lib * 1000:.0f} ms libtmux",
            ratio_text(t_inproc, t_lib), "<= 1000 ms", verdict(t_inproc <= 1.0)),
        Row("console as shipped, 8 busy tmux teammates, 1 shown: CPU", f"{cpu_live:.1%}",
            f"{cpu_mir:.1%} capture 100 ms", ratio_text(cpu_live, cpu_mir), "<= 5%", verdict(cpu_live <= 0.05)),
        Row("  baseline (the console before) written -> shown p50/p99", "-",
            f"{_pct(lat_mir, 50) * 1000:.0f}/{_pct(lat_mir, 99) * 1000:.0f} ms"),
        Row("control-mode stream of all 8 panes: CPU", f"{cpu_ctl:.1%} (tmux -C)",
            f"{cpu_poll:.1%} (capture poll)", ratio_text(cpu_ctl, cpu_poll)),
        Row("  line written -> readable p50", f"{p50c:.1f} ms", f"{p50p:.1f} ms", ratio_text(p50c, p50p)),
        Row("  line written -> readable p99", f"{p99c:.1f} ms", f"{p99p:.1f} ms", ratio_text(p99c, p99p)),
        Row("lines seen", str(len(lat_ctl)), str(len(lat_poll))),
        Row("in-process emulator feed, MB/s", f"{rates['TerminalScreen (crewmux)']:.2f} (scrollback on)",
            f"{rates['pyte.HistoryScreen']:.2f} HistoryScreen",
            ratio_text(rates["TerminalScreen (crewmux)"], rates["pyte.HistoryScreen"])),
        Row("  plain pyte.Screen (no scrollback), MB/s", f"{rates['pyte.Screen']:.2f}"),
    ]  # fmt: skip
    print_table(title, rows)


if __name__ == "__main__":
    main()

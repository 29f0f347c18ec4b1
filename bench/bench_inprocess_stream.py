"""A 5 MB stream through an in-process teammate, beside the same stream into tmux and into /dev/null.

The producer writes the stream as fast as the terminal takes it and records when it started and
its own elapsed time; the figures are MB/s from the producer's first write until the screen shows
the stream's last line (checked against the file: the screen is correct at the end; the
interpreter's start-up, ~0.1-0.7 s on a loaded machine, is left out of both sides) and that
producer time. The Ghostty screen is measured on
the full stream; pyte (the fallback) on 1 MB, to show that a slow screen no longer slows the
program (it is drained at once; the screen catches up behind it).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Row, print_table, quick, ratio_text, verdict

PRODUCER = """
import os, sys, time
data = open(sys.argv[1], "rb").read()
wall, start = time.time(), time.perf_counter()
view = memoryview(data)
while view:
    view = view[os.write(1, view[:65536]):]
open(sys.argv[2], "w").write(f"{wall} {time.perf_counter() - start}")
"""


def make_stream(path: Path, size: int) -> list[str]:
    """Write ``size`` bytes of coloured lines (SGR, wide chars) to ``path``; returns its last lines as text."""
    lines, total, i = [], 0, 0
    while total < size:
        text = f"line {i:07d} 中文 colour {i % 8} " + "x" * (i % 40)
        lines.append(text)
        total += len(f"\x1b[3{i % 8}m{text}\x1b[0m\r\n".encode())
        i += 1
    path.write_bytes(b"".join(f"\x1b[3{n % 8}m{t}\x1b[0m\r\n".encode() for n, t in enumerate(lines)))
    return lines[-5:]


def _producer(timing: Path) -> tuple[float, float]:
    """(wall-clock start, own seconds) the producer recorded."""
    wall, own = timing.read_text().split()
    return float(wall), float(own)


def run_inprocess(tmp: Path, stream: Path, tail: list[str], screen: str) -> tuple[float, float, bool, float]:
    """(seconds from the first write until the screen shows the last line, the producer's own
    seconds, screen correct, CPU seconds of this process: the pty host's threads)."""
    from backends.pty_host import PtyTerminal
    from backends.terminal_screen import new_screen

    os.environ["CREWMUX_SCREEN"] = screen
    new_screen(10, 2)  # load the emulator first (pyghostty's bindings cost ~0.3 s of CPU once per process)
    timing = tmp / f"producer-{screen}.txt"
    cpu = time.process_time()
    term = PtyTerminal([sys.executable, "-c", PRODUCER, str(stream), str(timing)], cwd=str(tmp), env={}, cols=120,
                       rows=36)  # fmt: skip
    size = stream.stat().st_size  # parsed everything (a cheap check, as the console draws at most 60 times a second)
    shown = term.wait_for(lambda s: term.bytes_fed >= size, timeout=600)
    shown_at, cpu = time.time(), time.process_time() - cpu
    term.join(30)
    with term.lock:
        rows = [r for r in term.screen.text_lines() if r]
    os.environ.pop("CREWMUX_SCREEN", None)
    wall, own = _producer(timing)
    return shown_at - wall, own, shown and rows[-len(tail) :] == tail, cpu


def run_tmux(tmp: Path, stream: Path, tail: list[str]) -> tuple[float, float, float]:
    """(seconds from the first write until tmux's pane shows the last line, the producer's own
    seconds, the tmux server's CPU seconds) on a private server."""
    import psutil

    sock, timing = f"crewmux-bench-{os.getpid()}", tmp / "producer-tmux.txt"
    tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
    cmd = f"{sys.executable} -c '{PRODUCER}' {stream} {timing}; sleep 60"
    try:
        subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "36", cmd], check=True)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            shown = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout
            if tail[-1] in shown:
                break
            time.sleep(0.005)
        shown_at = time.time()
        pid = subprocess.run([*tmux, "display-message", "-p", "#{pid}"], capture_output=True, text=True).stdout
        times = psutil.Process(int(pid)).cpu_times()
        wall, own = _producer(timing)
        return shown_at - wall, own, times.user + times.system
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)


def run_devnull(tmp: Path, stream: Path) -> float:
    timing = tmp / "producer-null.txt"
    with open(os.devnull, "wb") as null:
        subprocess.run([sys.executable, "-c", PRODUCER, str(stream), str(timing)], stdout=null, check=True)
    return _producer(timing)[1]


def main() -> None:
    size = 1_000_000 if quick() else 5_000_000
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        stream, small = tmp / "stream.bin", tmp / "small.bin"
        tail, small_tail = make_stream(stream, size), make_stream(small, min(size, 1_000_000))
        mb, small_mb = stream.stat().st_size / 1e6, small.stat().st_size / 1e6
        g_shown, g_prod, g_ok, g_cpu = run_inprocess(tmp, stream, tail, "ghostty")
        p_shown, p_prod, p_ok, _ = run_inprocess(tmp, small, small_tail, "pyte")
        null_prod = run_devnull(tmp, stream)
        t_shown, t_prod, t_cpu = run_tmux(tmp, stream, tail) if shutil.which("tmux") else (math.nan,) * 3
    rows = [
        Row(f"in-process (Ghostty) {mb:.1f} MB: shown, MB/s", f"{mb / g_shown:.1f}", f"{mb / t_shown:.1f} tmux",
            ratio_text(mb / g_shown, mb / t_shown), ">= 10", verdict(mb / g_shown >= 10 and g_ok)),
        Row("  screen correct at the end", str(g_ok), "-", "-", "True", verdict(g_ok)),
        Row("  producer's own time", f"{g_prod:.2f} s", f"{t_prod:.2f} s tmux", ratio_text(g_prod, t_prod)),
        Row("  producer into /dev/null (same stream)", f"{null_prod * 1000:.1f} ms"),
        Row("  CPU of the host (crewmux's threads / tmux server)", f"{g_cpu:.2f} s", f"{t_cpu:.2f} s tmux",
            ratio_text(g_cpu, t_cpu)),
        Row(f"in-process (pyte fallback) {small_mb:.1f} MB: shown, MB/s", f"{small_mb / p_shown:.2f}", "-", "-"),
        Row("  producer's own time (not held up by the screen)", f"{p_prod:.2f} s", f"{p_shown:.1f} s screen",
            ratio_text(p_prod, p_shown)),
        Row("  screen correct at the end", str(p_ok), "-", "-", "True", verdict(p_ok)),
    ]  # fmt: skip
    print_table("in-process stream: a teammate printing flat out (cat of a coloured file)", rows)


if __name__ == "__main__":
    main()

"""The pty is drained at once: a program printing faster than its screen parses is never held up,
the screen catches up behind it, and past the backlog's bound it shows the newest output."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import backends.pty_host as pty_host
from backends.pty_host import PtyTerminal

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

PRODUCER = (
    "import os, sys\n"
    "line = b'\\x1b[3%dmline %06d \\xe4\\xb8\\xad text\\x1b[0m\\r\\n'\n"
    "data = b''.join(line % (i % 8, i) for i in range(int(sys.argv[1])))\n"
    "view = memoryview(data)\n"
    "while view:\n"
    "    view = view[os.write(1, view[:65536]):]\n"
)
LINES = 36_000  # ~1 MB: pyte needs seconds for it, the program a fraction of one


def _start(tmp_path: Path) -> PtyTerminal:
    return PtyTerminal([sys.executable, "-c", PRODUCER, str(LINES)], cwd=str(tmp_path), env={}, cols=60, rows=10)


def _last_shown(term: PtyTerminal) -> bool:
    last = f"line {LINES - 1:06d} 中 text"
    return term.wait_for(lambda s: any(line.rstrip() == last for line in s.text_lines()), timeout=180)


def test_a_slow_screen_does_not_slow_the_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWMUX_SCREEN", "pyte")  # ~0.3 MB/s: far slower than the program
    term = _start(tmp_path)
    assert term.proc.wait(timeout=60) == 0  # the program wrote everything and ended...
    behind = term.bytes_read - term.bytes_fed
    total = term.bytes_read
    assert behind > 300_000, (behind, total)  # ...while its screen was still far behind (not holding it up)
    assert _last_shown(term), term.screen.text_lines()  # and the screen catches up, exact at the end
    term.join(30)
    assert term.bytes_fed == term.bytes_read and term.bytes_dropped == 0


def test_past_the_bound_the_oldest_output_is_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWMUX_SCREEN", "pyte")
    monkeypatch.setattr(pty_host, "BACKLOG_MAX", 100_000)
    term = _start(tmp_path)
    assert _last_shown(term), term.screen.text_lines()  # the newest output is on the screen
    term.join(30)
    assert term.bytes_dropped > 0
    assert term.bytes_fed + term.bytes_dropped == term.bytes_read

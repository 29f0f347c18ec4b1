"""A teammate nobody shows nor waits on is not emulated as it prints: its output waits, and is
brought to the screen in one batch when someone reads it (the state judge, a resize), when it is
shown (a listener), or at once when the program asks the terminal a question it waits to hear."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import pytest

import backends.pty_host as pty_host
from backends.pty_host import PtyTerminal

if TYPE_CHECKING:
    from pathlib import Path

STEPS = (
    "import sys, tty\n"
    "tty.setraw(0)\n"
    "print('one', end='\\r\\n', flush=True)\n"
    "sys.stdin.read(1)\n"
    "print('two', end='\\r\\n', flush=True)\n"
    "sys.stdin.read(1)\n"
)
ASKS = (  # asks where the cursor is (as codex and gemini do at start) and ends once answered
    "import os, sys, tty\n"
    "tty.setraw(0)\n"
    "print('one', end='\\r\\n', flush=True)\n"
    "sys.stdin.read(1)\n"
    "os.write(1, b'\\x1b[6n')\n"
    "reply = b''\n"
    "while not reply.endswith(b'R'):\n"
    "    reply += os.read(0, 1)\n"
)


@pytest.fixture(autouse=True)
def _lazy_for_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pty_host, "LAZY_PERIOD", 60.0)  # held back for the whole test unless brought up


def _read_all(term: PtyTerminal, text: bytes) -> None:
    """Wait (up to 20 s) until the reader has drained ``text``'s bytes from the pty (not fed them)."""
    deadline = time.monotonic() + 20
    while term.bytes_read < len(text):
        assert time.monotonic() < deadline, "the output never reached the reader"
        time.sleep(0.01)


def _raw_lines(term: PtyTerminal) -> list[str]:
    with term.lock.raw:  # the screen as fed so far, without bringing it up to date
        return list(term.screen.text_lines())


def _started(tmp_path: Path, program: str) -> PtyTerminal:
    term = PtyTerminal([sys.executable, "-c", program], cwd=str(tmp_path), env={}, cols=40, rows=6)
    assert term.wait_for(lambda s: "one" in s.text_lines(), 20)  # waited on: fed at once
    return term


def test_a_hidden_screen_waits_and_is_brought_up_to_date_when_read(tmp_path: Path) -> None:
    term = _started(tmp_path, STEPS)
    try:
        term.write(b"x")
        _read_all(term, b"one\r\ntwo\r\n")
        assert "two" not in _raw_lines(term) and term.bytes_fed < term.bytes_read  # not emulated yet
        with term.lock:  # a reader (the state judge) takes the lock: the screen is exact
            assert term.screen.text_lines()[:2] == ["one", "two"]
            assert term.bytes_fed == term.bytes_read
    finally:
        term.proc.kill()


def test_a_hidden_screen_is_brought_up_to_date_when_shown(tmp_path: Path) -> None:
    term = _started(tmp_path, STEPS)
    try:
        term.write(b"x")
        _read_all(term, b"one\r\ntwo\r\n")
        assert "two" not in _raw_lines(term)
        term.add_listener(lambda: None)  # the view shows it
        assert _raw_lines(term)[:2] == ["one", "two"]
    finally:
        term.proc.kill()


def test_a_hidden_program_asking_the_terminal_is_answered_at_once(tmp_path: Path) -> None:
    term = _started(tmp_path, ASKS)
    term.write(b"x")
    assert term.proc.wait(timeout=20) == 0  # it heard where its cursor is, long before the lazy period

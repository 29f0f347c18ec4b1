"""Keys in the terminal view: every key reaches the program as an xterm sends it; ctrl+] leaves."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any

import pytest
from textual import events

from app.console.widgets.terminal import TerminalView
from tests.console.console_helpers import main_screen, noticed, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp

inprocess = pytest.importorskip("backends.inprocess", reason="the in-process backend is not installed")

# Raw mode, bracketed paste on; prints each read as hex: what the program really received.
HEX_ECHO = (
    "import os, sys, tty; tty.setraw(0); os.write(1, b'\\x1b[?2004hREADY\\r\\n')\n"
    "while True:\n"
    "    data = os.read(0, 4096)\n"
    "    os.write(1, b'GOT:' + data.hex().encode() + b'\\r\\n')\n"
)


def _screen_text(pilot: Any) -> str:
    view = main_screen(pilot).query_one(TerminalView)
    return "\n".join("".join(seg.text for seg in row) for row in view._rows)


async def test_every_key_reaches_the_program_and_ctrl_bracket_leaves(
    console_factory: Callable[..., CrewmuxApp], team: str, tmp_path: Path
) -> None:
    script = tmp_path / "hexecho.py"
    script.write_text(HEX_ECHO)
    app = console_factory(team, backend=inprocess.InProcessBackend(), tick=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None)
        await pilot.press("f2")
        await until(pilot, lambda: type(app.screen).__name__ == "SpawnForm")
        await pilot.press(*"hex")
        form = app.screen
        form.query_one("#command").value = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"  # type: ignore[attr-defined]
        form.query_one("#cwd").value = str(tmp_path)  # type: ignore[attr-defined]
        await pilot.click("#ok")
        await until(pilot, noticed(pilot, "spawn hex: started"))
        await until(pilot, lambda: screen.snapshot is not None and "hex" in screen.snapshot.names())
        while screen.selected != "hex":
            await pilot.press("shift+down")
        await until(pilot, lambda: "READY" in _screen_text(pilot))
        await pilot.press("enter")  # empty composer: open the view
        view = screen.query_one(TerminalView)
        assert view.has_focus
        expected = {
            "escape": b"\x1b",
            "shift+tab": b"\x1b[Z",
            "tab": b"\t",
            "f1": b"\x1bOP",
            "f5": b"\x1b[15~",
            "f12": b"\x1b[24~",
            "insert": b"\x1b[2~",
            "shift+up": b"\x1b[1;2A",
            "shift+down": b"\x1b[1;2B",
            "ctrl+left": b"\x1b[1;5D",
            "alt+x": b"\x1bx",
            "ctrl+t": b"\x14",
            "ctrl+q": b"\x11",
        }
        for key, data in expected.items():
            await pilot.press(key)
            await until(pilot, lambda data=data: f"GOT:{data.hex()}" in _screen_text(pilot))  # type: ignore[misc]
            assert view.has_focus, key
        assert not screen.delegate and screen.selected == "hex"  # no screen key acted
        view.post_message(events.Paste("two\nlines"))  # as a terminal's bracketed paste arrives
        pasted = b"\x1b[200~two\nlines\x1b[201~".hex()
        await until(pilot, lambda: pasted in _screen_text(pilot).replace("\n", ""))
        await pilot.press("ctrl+right_square_bracket")
        assert not view.has_focus
        assert "1d" not in _screen_text(pilot).split("GOT:")[-1]

"""Keys and mouse in the modes the program set, end to end: a real program on a real pty asks for
application cursor keys (DECCKM) and mouse reporting, and reads what the view sends it."""

from __future__ import annotations

import shlex
import sys
import textwrap
from typing import TYPE_CHECKING, cast

import pytest
from textual.app import App, ComposeResult

from app.console.widgets.terminal import TerminalView
from backends.base import PaneSpec
from backends.inprocess import InProcessBackend

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from backends.pty_host import PtyTerminal

ECHO = textwrap.dedent(
    """
    import os, sys, termios, tty
    tty.setraw(0)
    os.write(1, sys.argv[1].encode() + b"READY\\r\\n")
    while True:
        data = os.read(0, 1024)
        os.write(1, b"GOT " + data.hex().encode() + b"\\r\\n")
        if data == b"m":  # turn mouse reporting off again
            os.write(1, b"\\x1b[?1000lMOUSE-OFF\\r\\n")
        if data == b"q":
            break
    """
)


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TerminalView(id="terminal")

    def on_terminal_view_typed(self, event: TerminalView.Typed) -> None:
        view = self.query_one(TerminalView)
        assert view.terminal is not None
        view.terminal.write(event.data)


def _start(tmp_path: Path, modes: str) -> tuple[InProcessBackend, PtyTerminal]:
    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    backend = InProcessBackend()
    spec = PaneSpec(team="t", name="e", argv=[sys.executable, str(script), modes], cwd=str(tmp_path), cols=60, rows=10)
    term = backend.terminal(backend.spawn(spec))
    assert term.wait_for(lambda s: any("READY" in line for line in s.display), 20), term.screen.display
    return backend, term


def _got(term: PtyTerminal, hexed: str) -> bool:
    return term.wait_for(lambda s: any(f"GOT {hexed}" in line for line in s.display), 20)


@pytest.mark.parametrize(("modes", "up"), [("\x1b[?1h", "1b4f41"), ("", "1b5b41")])
async def test_arrows_follow_application_cursor_mode(tmp_path: Path, modes: str, up: str) -> None:
    _backend, term = _start(tmp_path, modes)
    try:
        async with ViewApp().run_test(size=(80, 20)) as pilot:
            view = pilot.app.query_one(TerminalView)
            view.attach(term)
            view.focus()
            await pilot.press("up")
            assert _got(term, up), term.screen.display
            await pilot.press("end")
            assert _got(term, "1b4f46" if modes else "1b5b46"), term.screen.display
    finally:
        term.write(b"q")
        term.join()


async def test_mouse_is_reported_in_sgr_when_asked(tmp_path: Path) -> None:
    _backend, term = _start(tmp_path, "\x1b[?1000h\x1b[?1006h")
    try:
        async with ViewApp().run_test(size=(80, 20)) as pilot:
            view = pilot.app.query_one(TerminalView)
            view.attach(term)
            await pilot.click(TerminalView, offset=(6, 4))  # the border is one cell: content cell (5, 3)
            assert _got(term, b"\x1b[<0;6;4M".hex()), term.screen.display
            assert _got(term, b"\x1b[<0;6;4m".hex()), term.screen.display
    finally:
        term.write(b"q")
        term.join()


async def test_mouse_in_the_classic_encoding_and_not_at_all_unasked(tmp_path: Path) -> None:
    _backend, term = _start(tmp_path, "\x1b[?1000h")
    try:
        async with ViewApp().run_test(size=(80, 20)) as pilot:
            view = pilot.app.query_one(TerminalView)
            view.attach(term)
            await pilot.click(TerminalView, offset=(3, 2), button=3)  # right button at content cell (2, 1)
            assert _got(term, (b"\x1b[M" + bytes([32 + 2, 33 + 2, 33 + 1])).hex()), term.screen.display
            await pilot.press("m")
            assert term.wait_for(lambda s: any("MOUSE-OFF" in line for line in s.display), 20)
            await pilot.click(TerminalView, offset=(3, 2))
            await pilot.press("x")
            assert _got(term, "78"), term.screen.display
            lines = [line.strip() for line in term.screen.display if line.strip()]
            assert lines[-2:] == ["MOUSE-OFF", "GOT 78"], lines  # no report between: the click was not sent
    finally:
        term.write(b"q")
        term.join()


def test_a_restarted_teammate_starts_at_the_view_size(tmp_path: Path) -> None:
    backend = InProcessBackend()
    backend.resize_all(70, 20)  # the console's view, told before the teammate (re)starts
    spec = PaneSpec(team="t", name="r", argv=["sh", "-c", "echo START $(stty size); sleep 30"], cwd=str(tmp_path))
    handle = backend.spawn(spec)  # a resume passes no size: the PaneSpec default (120x36)
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: any("START 20 70" in line for line in s.display), 20), term.screen.display
        assert (term.screen.columns, term.screen.lines) == (70, 20)
    finally:
        backend.kill(handle, grace=0.5)


async def test_focus_in_and_out_are_reported_when_asked(tmp_path: Path) -> None:
    _backend, term = _start(tmp_path, "\x1b[?1004h")
    try:
        async with ViewApp().run_test(size=(80, 20)) as pilot:
            view = pilot.app.query_one(TerminalView)
            view.attach(term)
            assert view.has_focus  # the app's only focusable widget
            view.blur()
            await pilot.pause()  # the blur, then the view's message, handled
            assert _got(term, b"\x1b[O".hex()), term.screen.display
            view.focus()
            await pilot.pause()
            assert _got(term, b"\x1b[I".hex()), term.screen.display
    finally:
        term.write(b"q")
        term.join()


async def test_in_the_console_a_click_reaches_a_teammate_that_asked_for_the_mouse(
    console_factory: Callable[..., CrewmuxApp], team: str, tmp_path: Path
) -> None:
    """The same through the console's main screen: the teammate selected, its view clicked."""
    import asyncio

    from app.console import ops
    from tests.console.console_helpers import main_screen, until

    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    backend = InProcessBackend()
    app = console_factory(team, backend=backend)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None)
        modes = "\"$(printf '\\033[?1002h\\033[?1006h')\""  # button-event tracking, SGR encoding
        command = f"exec {shlex.quote(sys.executable)} {shlex.quote(str(script))} {modes}"
        req = ops.SpawnRequest(name="m1", command=command, backend="in-process", cwd=str(tmp_path))
        await asyncio.to_thread(ops.spawn, app.ctx, req)
        await until(pilot, lambda: screen.snapshot is not None and "m1" in screen.snapshot.names(), timeout=20)
        while screen.selected != "m1":
            await pilot.press("shift+down")
        view = screen.query_one(TerminalView)
        await until(pilot, lambda: view.terminal is not None and "READY" in "\n".join(view.terminal.screen.display))
        term = cast("PtyTerminal", view.terminal)  # an in-process teammate's
        assert term is not None
        await pilot.click(TerminalView, offset=(3, 2))  # content cell (2, 1)
        assert _got(term, b"\x1b[<0;3;2M".hex()), term.screen.display

"""In-process specifics: a full-screen curses program, resize, and the console link."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

from app.core.team import TeamStore
from backends import console_link
from backends.base import PaneSpec
from backends.inprocess import InProcessBackend

CURSES_APP = textwrap.dedent(
    """
    import curses, os
    def main(scr):
        curses.start_color(); curses.use_default_colors()
        curses.init_pair(1, curses.COLOR_RED, -1)
        def draw():
            scr.erase()
            rows, cols = scr.getmaxyx()
            scr.addstr(0, 0, "TOP-LEFT", curses.color_pair(1))
            scr.addstr(rows - 1, 0, f"SIZE {cols}x{rows}")
            scr.refresh()
        size = os.get_terminal_size()
        draw()
        scr.timeout(50)
        while True:
            ch = scr.getch()
            if os.get_terminal_size() != size:  # the pty's new size (TIOCSWINSZ)
                size = os.get_terminal_size()
                curses.resizeterm(size.lines, size.columns); draw()
            if ch == ord("q"):
                return
    curses.wrapper(main)
    """
)


def test_full_screen_program_shows_correctly(tmp_path: Path, screen_kind: str) -> None:
    from app.console.widgets.screen_rows import screen_row

    backend = InProcessBackend()
    script = tmp_path / "app.py"
    script.write_text(CURSES_APP)
    argv = ["sh", "-c", f"echo before-app; {sys.executable} {script}; echo after-app; sleep 30"]
    handle = backend.spawn(PaneSpec(team="t", name="tui", argv=argv, cwd=str(tmp_path), cols=50, rows=12))
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: s.display[11].startswith("SIZE 50x12"), 20), term.screen.display
        with term.lock:
            assert term.screen.in_alternate
            assert term.screen.display[0].startswith("TOP-LEFT")
            first = screen_row(term.screen, 0, None)[0]
            assert first.text.startswith("T") and first.style is not None and first.style.color is not None
            assert first.style.color.number == 1  # red, as drawn
            assert "before-app" not in "\n".join(term.screen.display)
        seen = term.version
        term.resize(60, 15)
        assert term.wait_for(lambda s: s.display[14].startswith("SIZE 60x15"), 20), term.screen.display
        assert term.version > seen
        backend.write(handle, "q", paste=False, enter=False)
        assert term.wait_for(lambda s: any("after-app" in line for line in s.display), 20), term.screen.display
        with term.lock:
            assert not term.screen.in_alternate
            assert term.screen.display[0].startswith("before-app")
    finally:
        backend.kill(handle, grace=0.5)
    term.join(timeout=30.0)  # the last output drained and the status recorded (kill waits 5 s; CI runs loaded)
    assert term.exit_status is not None


def test_resize_sends_sigwinch(tmp_path: Path) -> None:
    backend = InProcessBackend()
    loop = "trap 'echo WINCH $(stty size)' WINCH; echo start $(stty size); while :; do sleep 0.05; done"
    argv = ["bash", "-c", loop]
    handle = backend.spawn(PaneSpec(team="t", name="w", argv=argv, cwd=str(tmp_path), cols=50, rows=12))
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: any("start 12 50" in line for line in s.display), 20), term.screen.display
        term.resize(70, 20)
        assert term.wait_for(lambda s: any("WINCH 20 70" in line for line in s.display), 20), term.screen.display
    finally:
        backend.kill(handle, grace=0.5)


def test_scrollback_keeps_rows_that_scroll_off(tmp_path: Path) -> None:
    backend = InProcessBackend()
    argv = ["sh", "-c", "i=0; while [ $i -lt 40 ]; do echo row$i; i=$((i+1)); done; sleep 30"]
    handle = backend.spawn(PaneSpec(team="t", name="s", argv=argv, cwd=str(tmp_path), cols=40, rows=10))
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: any("row39" in line for line in s.display), 20)
        shown = backend.screen(handle, scrollback=100)
        assert shown.scrollback[0] == "row0" and "row39" in shown.text
        assert [*shown.scrollback, *shown.lines][:40] == [f"row{i}" for i in range(40)]
    finally:
        backend.kill(handle, grace=0.5)


def test_console_link_spawns_through_the_console(cli: Any, teams: TeamStore, tmp_path: Path) -> None:
    teams.create("t")
    backend = InProcessBackend()
    server = console_link.ConsoleLinkServer(teams.paths("t"), console_link.inprocess_handler(backend))
    try:
        r = cli(
            "spawn",
            "ivy",
            "--team",
            "t",
            "--backend",
            "in-process",
            "--json",
            "--",
            "sh",
            "-c",
            "echo via-link; sleep 30",
        )
        assert r.code == 0, r.err
        [handle] = backend.list_panes("t")
        assert backend.terminal(handle).wait_for(lambda s: any("via-link" in x for x in s.display), 20)
        member = teams.member("t", "ivy")
        assert member.backend_type == "in-process" and member.tmux_pane_id == "in-process"
        assert member.crewmux is not None and member.crewmux.pid == handle.pid
        k = cli("kill", "ivy", "--team", "t", "--grace", "0.5")
        assert k.code == 0, k.err
        assert backend.list_panes("t") == []
    finally:
        server.close()
    assert not console_link.socket_path(teams.paths("t")).exists()

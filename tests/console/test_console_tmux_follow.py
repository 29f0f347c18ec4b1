"""tmux teammates are followed through one control-mode client per team, drawn like in-process ones.

Each test runs the console (Pilot) against a real tmux server on a private socket.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
from typing import TYPE_CHECKING, Any

import pytest

from app.console import ops
from app.console.widgets.mirror import PaneMirror
from app.console.widgets.terminal import PANE_WATCH_FRAME_RATE, TerminalView
from backends.tmux_view import FollowedPane
from tests.console.console_helpers import main_screen, noticed, until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]
tmux_mod = pytest.importorskip("backends.tmux", reason="the tmux backend is not installed")
SIZE = (140, 44)


@pytest.fixture
def tmux_backend(tmux_socket: str) -> Any:
    from backends.tmux_server import TmuxServer

    return tmux_mod.TmuxBackend(TmuxServer(socket_name=tmux_socket))


def _view(pilot: Any) -> TerminalView:
    return main_screen(pilot).query_one(TerminalView)


def _view_text(pilot: Any) -> str:
    view = _view(pilot)
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


async def _spawn(app: CrewmuxApp, name: str, command: str, cwd: Path) -> None:
    req = ops.SpawnRequest(name=name, command=command, backend="tmux", cwd=str(cwd))
    await asyncio.to_thread(ops.spawn, app.ctx, req)


async def _select(pilot: Any, name: str) -> None:
    screen = main_screen(pilot)
    await until(pilot, lambda: screen.snapshot is not None and name in screen.snapshot.names())
    while screen.selected != name:
        await pilot.press("shift+down")


def _control_clients(backend: Any) -> list[str]:
    rows: list[str] = backend.server.run("list-clients", "-F", "#{client_control_mode}\t#{client_session}")
    return [r for r in rows if r.startswith("1\t")]


async def test_tmux_teammates_are_followed_by_one_control_client_and_drawn_as_a_screen(
    console_factory: Callable[..., CrewmuxApp], tmux_backend: Any, teams: TeamStore, tmp_path: Path
) -> None:
    app = console_factory("t", backend=tmux_backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await _spawn(app, "tm1", "sh -c 'printf \"\\033[31mRED-tm1\\033[0m\\n\"; exec cat'", tmp_path)
        await _select(pilot, "tm1")
        await until(pilot, lambda: "RED-tm1" in _view_text(pilot))
        view = _view(pilot)
        assert isinstance(view.terminal, FollowedPane), "a tmux teammate's screen is an emulated screen"
        assert view._watch_fps == PANE_WATCH_FRAME_RATE, "watched at the pane copy's rate: tmux shows it live"
        assert not any(w.group == "mirror" and w.is_running for w in app.workers), "no capture-pane polling"
        red = [seg for y in range(view.size.height) for seg in view.render_line(y) if "RED-tm1" in seg.text]
        assert red and red[0].style is not None and red[0].style.color is not None, "colors come through"
        # the pane (alone in a detached session) is made the view's size, the control client notwithstanding
        pane = teams.member("t", "tm1").tmux_pane_id
        shown = f"{view.size.width}x{view.size.height}"
        fmt = "#{pane_width}x#{pane_height}"
        await until(pilot, lambda: tmux_backend.server.run("display-message", "-p", "-t", pane, fmt) == [shown])
        # keys typed into the view reach the pane through the same connection
        await pilot.press("enter")
        await pilot.press(*"typed-through", "enter", "ctrl+right_square_bracket")
        await until(pilot, lambda: _view_text(pilot).count("typed-through") >= 2)
        await _spawn(app, "tm2", "sh -c 'read go; echo HELLO-tm2; exec cat'", tmp_path)
        await _select(pilot, "tm2")
        tm2 = teams.member("t", "tm2").tmux_pane_id

        def same_as_tmux() -> bool:  # the view shows tm2's screen as tmux has it (whatever its layout made it)
            seen = [line.strip() for line in _view_text(pilot).splitlines() if line.strip()]
            return "HELLO-tm2" in "".join(seen) and seen == [
                r.strip() for r in tmux_backend.server.run("capture-pane", "-p", "-t", tm2) if r.strip()
            ]

        await until(pilot, lambda: isinstance(view.terminal, FollowedPane) and view.terminal.seeds > 0)
        tmux_backend.server.run("send-keys", "-t", tm2, "Enter")  # its output now arrives as %output
        await until(pilot, same_as_tmux)
        assert len(_control_clients(tmux_backend)) == 1, "one control client for the team, whoever is shown"


async def test_a_hidden_teammates_output_is_neither_emulated_nor_drawn(
    console_factory: Callable[..., CrewmuxApp], tmux_backend: Any, teams: TeamStore, tmp_path: Path
) -> None:
    app = console_factory("t", backend=tmux_backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await _spawn(app, "quiet", "sh -c 'echo QUIET-READY; exec cat'", tmp_path)
        await _spawn(app, "loud", "sh -c 'read go; seq 1 3000; echo LOUD-DONE; exec cat'", tmp_path)
        await _select(pilot, "quiet")
        await until(pilot, lambda: "QUIET-READY" in _view_text(pilot))
        view = _view(pilot)
        shown = view.terminal
        assert isinstance(shown, FollowedPane)
        follower = main_screen(pilot).query_one(PaneMirror).follower
        assert follower is not None
        loud = teams.member("t", "loud")
        dropped = follower.dropped
        version, drawn = shown.version, view._drawn_version
        tmux_backend.server.run("send-keys", "-t", loud.tmux_pane_id, "Enter")
        await until(pilot, lambda: "LOUD-DONE" in "\n".join(tmux_backend.screen(ops.handle_of(loud)).lines), timeout=30)
        await until(pilot, lambda: follower.dropped >= dropped + 3000)  # read by the client, and dropped
        await pilot.pause(0.2)  # let the UI process anything that came (there must be nothing)
        assert (shown.version, view._drawn_version) == (version, drawn), "nothing was fed or drawn"


async def test_a_pane_taller_than_the_view_shows_its_bottom_rows(
    console_factory: Callable[..., CrewmuxApp], tmux_backend: Any, teams: TeamStore, tmp_path: Path
) -> None:
    app = console_factory("t", backend=tmux_backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await _spawn(app, "tall", "sh -c 'read go; seq 1 200; echo MARKER-END; exec cat'", tmp_path)
        pane = teams.member("t", "tall").tmux_pane_id
        srv = tmux_backend.server
        srv.run("resize-window", "-t", pane, "-x", "100", "-y", "120")  # taller than the view ...
        srv.run("split-window", "-d", "-h", "-t", pane, "sleep 300")  # ... and not alone: not fitted
        await _select(pilot, "tall")
        view = _view(pilot)
        await until(pilot, lambda: isinstance(view.terminal, FollowedPane) and view.terminal.seeds > 0)
        srv.run("send-keys", "-t", pane, "Enter")
        await until(pilot, lambda: "MARKER-END" in _view_text(pilot), timeout=20)
        terminal = view.terminal
        assert isinstance(terminal, FollowedPane)
        height = int(srv.run("display-message", "-p", "-t", pane, "#{pane_height}")[0])
        assert terminal.screen.lines == height > view.size.height, "the screen keeps the pane's size"
        assert "200" in _view_text(pilot), "the rows just above the newest are shown too"
        with terminal.lock:
            top_row = terminal.screen.display[0].strip()
        assert top_row and top_row not in [line.strip() for line in _view_text(pilot).splitlines()], top_row


async def test_a_followed_pane_that_dies_or_a_server_that_exits_is_reported(
    console_factory: Callable[..., CrewmuxApp], tmux_backend: Any, teams: TeamStore, tmp_path: Path
) -> None:
    app = console_factory("t", backend=tmux_backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await _spawn(app, "doomed", "sh -c 'echo DOOMED; exec cat'", tmp_path)
        await _spawn(app, "other", "sh -c 'echo OTHER; exec cat'", tmp_path)
        await _select(pilot, "doomed")
        await until(pilot, lambda: "DOOMED" in _view_text(pilot))
        follower = main_screen(pilot).query_one(PaneMirror).follower
        assert follower is not None
        tmux_backend.server.run("kill-pane", "-t", teams.member("t", "doomed").tmux_pane_id)
        await until(pilot, noticed(pilot, "doomed: the pane is gone"))
        assert "DOOMED" in _view_text(pilot), "the view keeps the pane's screen as it ended"
        assert follower._thread.is_alive()
        await _select(pilot, "other")
        await until(pilot, lambda: "OTHER" in _view_text(pilot))
        tmux_backend.server.run("kill-server")
        await until(pilot, noticed(pilot, "other: the tmux server exited"))
        assert follower._thread.is_alive(), "the follower outlives its server"
        assert not [w for w in app.workers if w.state.name == "ERROR"]


async def test_a_teammate_that_dies_keeps_its_last_output_on_screen(
    console_factory: Callable[..., CrewmuxApp], tmux_backend: Any, teams: TeamStore, tmp_path: Path
) -> None:
    """What a teammate printed as it died stays in the view, and shows again when it is selected
    again while dead (before: one line "the pane is gone", then "is dead; it has no live pane").
    tmux drops the output a pane had not yet sent to a control client when its program exits (the
    error line was lost in 1 run of 3 under load): the shown pane is kept on exit, read, then closed."""
    app = console_factory("t", backend=tmux_backend, life=True)  # liveness: the row turns dead
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        script = "echo READY; read x; echo 'fatal: the model server refused the key'; exit 3"
        await _spawn(app, "fragile", f"sh -c {shlex.quote(script)}", tmp_path)
        await _spawn(app, "other", "sh -c 'echo OTHER; exec cat'", tmp_path)
        await _select(pilot, "fragile")
        await until(pilot, lambda: "READY" in _view_text(pilot))
        fragile = teams.member("t", "fragile").tmux_pane_id
        tmux_backend.server.run("send-keys", "-t", fragile, "go", "Enter")
        await until(pilot, noticed(pilot, "fragile: its program exited"))  # "(status 3)" once tmux has reaped it
        await until(pilot, lambda: "fatal: the model server refused the key" in _view_text(pilot))
        screen = main_screen(pilot)

        def dead() -> bool:
            rows = screen.snapshot.rows if screen.snapshot is not None else []
            return any(r.name == "fragile" and r.state == "dead" for r in rows)

        await until(pilot, dead)
        panes = tmux_backend.server.run("list-panes", "-a", "-F", "#{pane_id}")
        assert fragile not in panes, "kept only to be read: the pane closes as it would have"
        await _select(pilot, "other")
        await until(pilot, lambda: "OTHER" in _view_text(pilot))
        other = teams.member("t", "other").tmux_pane_id
        setting = "#{remain-on-exit}#{@crewmux-kept}"
        assert tmux_backend.server.run("display-message", "-p", "-t", other, setting) == ["on1"], "kept while shown"
        await _select(pilot, "fragile")
        await until(pilot, lambda: tmux_backend.server.run("display-message", "-p", "-t", other, setting) == ["off"])
        await until(pilot, lambda: "fatal: the model server refused the key" in _view_text(pilot))
        assert "no live pane" not in _view_text(pilot)

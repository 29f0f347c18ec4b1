"""A tmux teammate the CLI started on another tmux server (its socket in the team file) is
mirrored from THAT server, never as the pane with the same id on the console's own server."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app.console.widgets.terminal import TerminalView
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


@pytest.fixture
def other_server() -> Iterator[str]:
    """A second private tmux server (the console's own is ``tmux_socket``)."""
    name = f"crewmux-other-{uuid.uuid4().hex[:10]}"
    yield name
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False)


def _view_text(pilot: Any) -> str:
    view = main_screen(pilot).query_one(TerminalView)
    return "\n".join("".join(seg.text for seg in row) for row in view._rows)


async def test_a_teammate_on_another_tmux_server_is_mirrored_from_that_server(
    console_factory: Callable[..., CrewmuxApp],
    teams: TeamStore,
    team: str,
    tmux_socket: str,
    other_server: str,
    cli: Any,
) -> None:
    # the console's server: its first pane is %0 and says so
    mine = ["tmux", "-L", tmux_socket, "-f", "/dev/null"]
    subprocess.run([*mine, "new-session", "-d", "-s", "own", "sh -c 'echo CONSOLE-OWN-PANE; exec cat'"], check=True)
    assert subprocess.run([*mine, "display-message", "-p", "-t", "own", "#{pane_id}"], capture_output=True,
                          text=True, check=True).stdout.strip() == "%0"  # fmt: skip
    # the CLI, run against the other server, starts w1 there: the first pane of that server, %0 too
    done = cli("spawn", "w1", "--team", team, "--backend", "tmux", "--", "sh", "-c", "echo FROM-OTHER-SERVER; exec cat",
               env={"CREWMUX_TMUX_SOCKET": other_server})  # fmt: skip
    assert done.code == 0, done.err
    member = teams.member(team, "w1")
    assert (
        member.tmux_pane_id == "%0"
        and member.crewmux is not None
        and other_server in (member.crewmux.pane_session or "")
    )
    app = console_factory(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None and "w1" in screen.snapshot.names())
        while screen.selected != "w1":
            await pilot.press("shift+down")
        await until(pilot, lambda: "FROM-OTHER-SERVER" in _view_text(pilot), timeout=20)
        assert "CONSOLE-OWN-PANE" not in _view_text(pilot)


async def test_a_teammate_on_the_default_server_is_not_the_console_servers_pane(
    console_factory: Callable[..., CrewmuxApp],
    teams: TeamStore,
    team: str,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI, run outside tmux, starts w1 on the default server (its locator names no socket);
    the console runs inside another tmux server. A bare ``tmux`` there talks to ``$TMUX``'s server:
    the teammate must still be read from the default one."""
    # every server here, the default one too, lives under this private TMUX_TMPDIR (short: a socket
    # path has ~100 bytes, and pytest's tmp_path under xdist is longer)
    tmpdir = Path(tempfile.mkdtemp(prefix="cmx-def-", dir="/tmp"))
    monkeypatch.setenv("TMUX_TMPDIR", str(tmpdir))
    monkeypatch.delenv("CREWMUX_TMUX_SOCKET", raising=False)
    console_server = f"crewmux-console-{uuid.uuid4().hex[:8]}"
    mine = ["tmux", "-L", console_server, "-f", "/dev/null"]
    try:
        subprocess.run([*mine, "new-session", "-d", "-s", "own", "sh -c 'echo CONSOLE-OWN-PANE; exec cat'"], check=True)
        socket = subprocess.run([*mine, "display-message", "-p", "#{socket_path}"], capture_output=True, text=True,
                                check=True).stdout.strip()  # fmt: skip
        done = cli("spawn", "w1", "--team", team, "--backend", "tmux", "--", "sh", "-c", "echo FROM-DEFAULT; exec cat",
                   env={"TMUX": "", "TMUX_PANE": ""})  # fmt: skip
        assert done.code == 0, done.err
        member = teams.member(team, "w1")
        assert member.tmux_pane_id == "%0" and member.crewmux is not None
        monkeypatch.setenv("TMUX", f"{socket},1,0")  # the console runs inside the other server
        app = console_factory(team)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = main_screen(pilot)
            await until(pilot, lambda: screen.snapshot is not None and "w1" in screen.snapshot.names())
            while screen.selected != "w1":
                await pilot.press("shift+down")
            await until(pilot, lambda: "FROM-DEFAULT" in _view_text(pilot), timeout=20)
            assert "CONSOLE-OWN-PANE" not in _view_text(pilot)
    finally:
        subprocess.run([*mine, "kill-server"], capture_output=True, check=False)
        subprocess.run(["tmux", "-L", "default", "kill-server"], capture_output=True, check=False)
        shutil.rmtree(tmpdir, ignore_errors=True)

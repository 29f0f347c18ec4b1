"""End to end: the real console inside a private tmux server, driven only by send-keys/capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from app.core.team import TeamStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


class Tmux:
    """A private tmux server (``tmux -L <unique>``), killed when the test ends."""

    def __init__(self) -> None:
        self.socket = f"crewmux-console-{uuid.uuid4().hex[:10]}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False)
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "console")

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched within {timeout}s; last screen:\n{text}")
            time.sleep(0.1)

    def focused(self, placeholder: str, timeout: float = 20.0) -> None:
        """Wait until the input showing ``placeholder`` has focus: its cursor splits the text's colors."""
        deadline = time.monotonic() + timeout
        while True:
            plain = self.screen().count(placeholder)
            raw = self("capture-pane", "-p", "-e", "-t", "console").count(placeholder)
            if plain > raw:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{placeholder!r} never got focus; screen:\n{self.screen()}")
            time.sleep(0.05)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "console", *keys)

    def type(self, text: str) -> None:
        self("send-keys", "-t", "console", "-l", text)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "console"], check=False).returncode == 0


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    yield server
    subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True, check=False)


def test_console_in_tmux_spawns_shows_messages_and_quits(tmux: Tmux, home: Path, tmp_path: Path) -> None:
    # (pytest's environment may carry COLUMNS/LINES, which would pin Textual's size)
    env = f"env -u COLUMNS -u LINES CREWMUX_HOME={home} TERM=xterm-256color"
    command = f"cd {tmp_path} && {env} {sys.executable} -m app console --team e2e"
    tmux("new-session", "-d", "-s", "console", "-x", "150", "-y", "45", command)
    tmux("resize-window", "-t", "console", "-x", "150", "-y", "45")
    tmux.wait_for(lambda s: "Team" in s and "team-lead" in s)
    tmux.keys("F2")
    tmux.wait_for(lambda s: "Spawn a teammate" in s)
    tmux.focused("name, e.g. worker-1")
    tmux.type("w1")
    tmux.wait_for(lambda s: "w1 " in s)
    tmux.keys("Enter")  # on to the command field
    tmux.focused("command (optional")
    tmux.type("sh -c 'echo E2E-HELLO-$CREWMUX_AGENT; exec cat'")
    screen = tmux.wait_for(lambda s: "exec cat'" in s)
    assert "w1sh" not in screen, screen
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "spawn w1: started" in s)
    tmux.keys("S-Down")
    screen = tmux.wait_for(lambda s: "E2E-HELLO-w1" in s)
    assert "message to w1" in screen
    tmux.type("hello from the lead")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "hello from the lead" in s and "delivered" in s)
    tmux.keys("C-t")
    tmux.wait_for(lambda s: "Tasks" in s and "availability" in s)
    tmux.keys("n")
    tmux.wait_for(lambda s: "New task" in s)
    tmux.focused("subject")
    tmux.type("ship it")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "ship it" in s and "available" in s)
    tmux.keys("C-q")
    deadline = time.monotonic() + 20
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), "the console did not quit on ctrl+q"
    team = TeamStore(home).load("e2e")
    assert [m.name for m in team.members] == ["team-lead", "w1"]

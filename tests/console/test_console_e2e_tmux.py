"""End to end: the real console inside a private tmux server, driven only by send-keys/capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from app.core.team import TeamStore

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


class Tmux:
    """The test's private tmux server (``tmux_socket``), driven as a user would."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self.target = "console"  # the console's pane: the session's active one until pinned

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False)
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", self.target)

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
            raw = self("capture-pane", "-p", "-e", "-t", self.target).count(placeholder)
            if plain > raw:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{placeholder!r} never got focus; screen:\n{self.screen()}")
            time.sleep(0.05)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        self("send-keys", "-t", self.target, "-l", text)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "console"], check=False).returncode == 0


@pytest.fixture
def tmux(tmux_socket: str, monkeypatch: pytest.MonkeyPatch) -> Tmux:
    # The console runs *inside* this server and must find it through $TMUX, as a user's would.
    monkeypatch.delenv("CREWMUX_TMUX_SOCKET")
    return Tmux(tmux_socket)


def _inbox_has(home: Path, team: str, name: str, needle: str) -> bool:
    inbox = home / "teams" / team / "inboxes" / f"{name}.json"
    return inbox.exists() and needle in inbox.read_text()


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.05)


def test_console_in_tmux_spawns_beside_itself_confirms_and_keeps_text_out_of_commands(
    tmux: Tmux, home: Path, tmp_path: Path
) -> None:
    # (pytest's environment may carry COLUMNS/LINES, which would pin Textual's size)
    env = f"env -u COLUMNS -u LINES CREWMUX_HOME={home} TERM=xterm-256color"
    command = f"cd {tmp_path} && {env} {sys.executable} -m app console --team e2e"
    tmux("new-session", "-d", "-s", "console", "-x", "200", "-y", "50", command)
    tmux("resize-window", "-t", "console", "-x", "200", "-y", "50")
    tmux.wait_for(lambda s: "Team" in s and "team-lead" in s)
    # the spawn form: name, Tab, Tab and a shell loop sent in one burst (keys typed right after Tab)
    tmux.keys("F2")
    tmux.wait_for(lambda s: "Spawn a teammate" in s and "auto (tmux here)" in s)
    tmux.focused("name, e.g. worker-1")
    loop = "i=0; while [ $i -lt 2 ]; do echo E2E-HELLO-$CREWMUX_AGENT-$i; i=$((i+1)); done; exec cat"
    tmux.keys("w1", "Tab", "Tab", loop)
    screen = tmux.wait_for(lambda s: "exec cat" in s)
    assert "w1i=0" not in screen and "w1 " in screen, screen
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "spawn w1: started" in s and "│ w1 " in s)  # started, and in the team list
    # side by side: w1's pane is in the console's own window, right of it (main-vertical)
    listed = tmux("list-panes", "-t", "console", "-F", "#{pane_id} #{pane_left} #{pane_current_command}")
    panes = [p.split() for p in listed.splitlines() if p.strip()]
    assert len(panes) == 2, panes
    assert panes[0][1] == "0" and int(panes[1][1]) > 0, panes
    assert "E2E-HELLO-w1-1" in tmux("capture-pane", "-p", "-t", panes[1][0])
    tmux.keys("S-Down")
    screen = tmux.wait_for(lambda s: "E2E-HELLO-w1-1" in s)  # mirrored in the console
    assert "message to w1" in screen
    tmux.target = panes[0][0]  # keys keep going to the console while another pane is active
    tmux.keys("F4")  # jump: w1's pane becomes the active one, at once
    _wait(
        lambda: tmux("display-message", "-p", "-t", "console", "#{pane_id}").strip() == panes[1][0],
        "F4 jumped with no further key",
        timeout=10,
    )
    tmux("select-pane", "-t", panes[0][0])
    # focus: after ctrl+t the task panel has it, yet typed text goes to the composer, not to task keys
    tmux.keys("C-t")
    tmux.wait_for(lambda s: "keys act on tasks" in s)
    tmux.keys("n")
    tmux.wait_for(lambda s: "New task" in s)
    tmux.focused("subject")
    tmux.type("ship it")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "ship it" in s and "available" in s)
    tmux.type("hello everyone, assume nothing")  # h, e, a, s, u, n: text, not commands
    screen = tmux.wait_for(lambda s: "hello everyone, assume" in s)
    assert "Edit task" not in screen and "New task" not in screen, screen
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "hello everyone, assume nothing" in s and "unread" in s)
    tasks = list(TeamStore(home).paths("e2e").tasks_dir.glob("*.json"))
    assert len(tasks) == 1 and '"ship it"' in tasks[0].read_text() and '"owner"' not in tasks[0].read_text()
    # F10 asks first; Esc keeps everything running
    tmux.keys("F10")
    tmux.wait_for(lambda s: "Stop team e2e and quit?" in s)
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Stop team e2e" not in s)
    # F3 (SS3 "ESC O R" through tmux) with the mirrored tmux teammate selected: the question shows at
    # once, and after "y" the shutdown request goes out with no further key pressed
    tmux.keys("F3")
    tmux.wait_for(lambda s: "Shut down w1?" in s, timeout=15)
    tmux.keys("y")
    _wait(lambda: _inbox_has(home, "e2e", "w1", "shutdown_request"), "the shutdown request reached w1", timeout=15)
    tmux.wait_for(lambda s: "shut down w1" in s, timeout=30)  # cat never answers: killed after the grace
    _wait(lambda: len(tmux("list-panes", "-t", "console").splitlines()) == 1, "w1's pane closed")
    assert "is dead" not in tmux.screen() and "died" not in tmux.screen()
    tmux.keys("C-q")
    deadline = time.monotonic() + 20
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), "the console did not quit on ctrl+q"
    team = TeamStore(home).load("e2e")
    assert [m.name for m in team.members] == ["team-lead"]


def test_every_key_acts_when_it_arrives_through_tmux(tmux: Tmux, home: Path, tmp_path: Path) -> None:
    """Each binding, sent by tmux as a real terminal would (F1-F4 as SS3 ``ESC O P``…), shows its effect
    before any other key is sent: no key waits for the next one."""
    env = f"env -u COLUMNS -u LINES CREWMUX_HOME={home} TERM=xterm-256color"
    command = f"cd {tmp_path} && {env} {sys.executable} -m app console --team keys"
    tmux("new-session", "-d", "-s", "console", "-x", "120", "-y", "40", command)
    tmux("resize-window", "-t", "console", "-x", "120", "-y", "40")
    tmux.wait_for(lambda s: "Team" in s and "team-lead" in s)
    help_shown: Callable[[str], bool] = lambda s: "Keys (also in the command palette" in s  # noqa: E731
    # (key, what shows it acted — for a notice, its start, which never wraps); each key is sent
    # only once the previous one showed its effect, and nothing else is sent while waiting
    steps: list[tuple[str, Callable[[str], bool]]] = [
        ("F1", help_shown),
        ("Escape", lambda s: not help_shown(s)),
        ("C-t", lambda s: "keys act on tasks" in s),
        ("?", help_shown),  # off the composer, ? is help
        ("q", lambda s: not help_shown(s) and "keys act on tasks" in s),
        ("Escape", lambda s: "tab or click here to use its keys" in s),  # the panel stays, unfocused
        ("C-t", lambda s: "tab or click here" not in s and "keys act on tasks" not in s),
        ("F2", lambda s: "Spawn a teammate" in s),
        ("Escape", lambda s: "Spawn a teammate" not in s),
        ("F3", lambda s: "shut down: refused" in s),
        ("F4", lambda s: "jump to team-lead: refused" in s),
        ("F5", lambda s: "interrupt team-lead: refused" in s),
        ("F7", lambda s: "no plan from team-lead" in s),
        ("F9", lambda s: "resume: no teammate" in s),
        ("F10", lambda s: "Stop team keys and quit?" in s),
        ("n", lambda s: "Stop team keys and quit?" not in s),
        ("C-b", lambda s: "message to everyone" in s),
        ("C-b", lambda s: "message to team-lead" in s),
        ("BTab", lambda s: "DELEGATE MODE" in s),
        ("BTab", lambda s: "DELEGATE MODE" not in s),
        ("C-p", lambda s: "Search for commands" in s),
        ("Escape", lambda s: "Search for commands" not in s),
    ]
    for key, acted in steps:
        tmux.keys(key)
        try:
            tmux.wait_for(acted, timeout=15)  # no other key is sent meanwhile: it acts on its own
        except AssertionError as exc:
            raise AssertionError(f"{key} did not act on arrival: {exc}") from None
    tmux.keys("C-q")
    deadline = time.monotonic() + 20
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), "the console did not quit on ctrl+q"

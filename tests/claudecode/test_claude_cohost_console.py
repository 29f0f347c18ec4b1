"""``crewmux claude`` as a person uses it: the console and the real Claude Code lead in one real tmux.

Everything goes through the keyboard (``send-keys``) and the screen (``capture-pane``) of a private
tmux server: the console runs in the first window, ``crewmux claude`` puts the real claude lead in a
second one, the fake Anthropic server scripts the lead's tool calls (``Agent``, the task tools,
``Write``). A picture of the console is saved (``console.png`` in the test's tmp dir).
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from app.core.team import TeamStore
from tests.fakemodels.anthropic import answers_tool, in_conversation, tool_results, tool_use, user_says
from tests.fakemodels.anthropic import text as text_block

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.claudecode.harness import ClaudeRig


def _user_env(rig: ClaudeRig) -> dict[str, str]:
    """The person's environment: the rig's, less ``$CREWMUX_TMUX_SOCKET`` — crewmux finds the tmux
    it runs in through ``$TMUX``, as a user's does, and puts the lead in a new window of it."""
    return {k: v for k, v in rig.env.items() if k not in ("CREWMUX_TMUX_SOCKET", "COLUMNS", "LINES")}


def _start_users_tmux(rig: ClaudeRig, command: str) -> str:
    """The person's tmux (the private server, holding their environment, as a tmux they started
    would) with ``command`` in its first pane; that pane's id."""
    env = _user_env(rig)
    argv = ["tmux", "-L", rig.sock, "new-session", "-d", "-P", "-F", "#{pane_id}", "-s", "console", "-x", "200"]
    pane = subprocess.run([*argv, "-y", "50", command], env=env, capture_output=True, text=True, check=True)
    for key, value in env.items():  # in case the fixture's server was up first, with the test's environment
        rig.tmux("set-environment", "-g", key, value)
    rig.tmux("resize-window", "-t", "console", "-x", "200", "-y", "50")
    return pane.stdout.strip()


def _console_command(rig: ClaudeRig, script: Path) -> str:
    """A script running ``crewmux claude`` in the console's pane with the person's environment."""
    env = _user_env(rig)
    lines = [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    claude = [sys.executable, "-m", "app", "claude", "--", "--permission-mode", "acceptEdits"]
    lines += [f"cd {shlex.quote(str(rig.project))}", "unset CREWMUX_TMUX_SOCKET COLUMNS LINES", shlex.join(claude)]
    script.write_text("\n".join(lines) + "\n")
    return f"sh {shlex.quote(str(script))}"


def _screen_until(rig: ClaudeRig, pane: str, ok: Callable[[str], bool], what: str, timeout: float = 60) -> str:
    def shown() -> str:
        screen = rig.screen(pane)
        return screen if ok(screen) else ""

    found = rig.wait(shown, timeout, what, pane)
    assert isinstance(found, str)
    return found


def save_picture(rig: ClaudeRig, pane: str, png: Path) -> Path:
    """The pane as the person sees it (colors too): capture-pane -e -> rich's SVG -> a PNG by headless
    chromium when it is installed (the SVG otherwise); the file written."""
    ansi = rig.tmux("capture-pane", "-p", "-e", "-t", pane)
    width = int(rig.tmux("display-message", "-p", "-t", pane, "#{pane_width}").strip() or 200)
    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=width, force_terminal=True, color_system="truecolor", file=sink)
        console.print(Text.from_ansi(ansi), end="")
    svg = png.with_suffix(".svg")
    svg.write_text(console.export_svg(title="crewmux claude"))
    chromium = shutil.which("chromium")
    if chromium is None:
        return svg
    box = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text())
    size = f"{math.ceil(float(box[1]))},{math.ceil(float(box[2]))}" if box else "2400,1400"
    shot = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={size}"]
    subprocess.run([*shot, f"--screenshot={png}", svg.as_uri()], check=True, capture_output=True, timeout=120)
    return png


def _keys(rig: ClaudeRig, pane: str, *keys: str) -> None:
    rig.tmux("send-keys", "-t", pane, *keys)


def _row(screen: str, name: str) -> str:
    """The console's team-list row of ``name`` ("" when it is not listed)."""
    return next((line for line in screen.splitlines() if line.startswith(f"│ {name} ")), "")


def _state(screen: str, name: str) -> str:
    """The state column of ``name``'s row: ``│ name kind backend state ...``."""
    cells = _row(screen, name).split()
    return cells[4] if len(cells) > 4 else ""


def _bobs_screen_and_board(screen: str) -> bool:
    # bob's screen as it moves on: his answer, then the task the lead gave him (Claude Code shows it)
    return ("bob's line" in screen or "Task #1 assigned by team-lead" in screen) and "╭─ Tasks" in screen


def test_crewmux_claude_opens_the_console_on_the_leads_team(claude_rig: ClaudeRig, tmp_path: Path) -> None:
    rig = claude_rig
    console = _start_users_tmux(rig, _console_command(rig, tmp_path / "run.sh"))
    _screen_until(rig, console, lambda s: "team-lead" in s and "message to team-lead" in s, "the console", 120)
    (config,) = (rig.home / ".claude" / "teams").glob("session-*/config.json")  # the lead's session team
    team, store = config.parent.name, TeamStore(rig.home / ".claude", interop=True)
    windows = rig.tmux("list-panes", "-a", "-F", "#{pane_id} #{window_name} #{window_active}").splitlines()
    (lead_pane,) = [w.split()[0] for w in windows if " claude-lead " in w]
    assert any(w.startswith(f"{console} ") and w.endswith(" 1") for w in windows), windows  # the console in front

    # the real lead spawns bob with its Agent tool: the console lists him, live, and mirrors his screen
    spawn = {"description": "helper", "prompt": "You are bob; say hello", "name": "bob"}
    rig.fake.reply(tool_use("Agent", spawn), when=user_says("please spawn bob"))
    said = "\n\n".join(f"bob's line {i}" for i in range(30))  # a full screen: the console shows its bottom
    rig.fake.reply(text_block(f"{said}\n\nBOB-SAYS-HELLO from his pane"), when=user_says("You are bob"))
    rig.type_prompt(lead_pane, "please spawn bob")
    rig.fake.wait_for(user_says("You are bob"), timeout=120)
    live = ("idle", "working", "waiting", "starting")
    screen = _screen_until(rig, console, lambda s: _state(s, "bob") in live, "bob listed, live")
    assert "tmux" in _row(screen, "bob") and "died" not in screen, screen
    _keys(rig, console, "S-Down")
    _screen_until(rig, console, lambda s: "BOB-SAYS-HELLO" in s, "bob's screen mirrored", 90)

    # the lead makes a task with Claude Code's task tools and gives it to bob: the board (ctrl+t) shows it
    rig.fake.reply(tool_use("ToolSearch", {"query": "select:TaskCreate,TaskUpdate"}), when=user_says("plan the docs"))
    task = {"subject": "Write the cohost docs", "description": "for bob"}
    rig.fake.reply(tool_use("TaskCreate", task), when=answers_tool("ToolSearch"))
    rig.fake.reply(tool_use("TaskUpdate", {"taskId": "1", "owner": "bob"}), when=answers_tool("TaskCreate"))
    rig.type_prompt(lead_pane, "plan the docs")
    rig.fake.wait_for(answers_tool("TaskUpdate"), timeout=120)
    _keys(rig, console, "C-t")
    screen = _screen_until(rig, console, lambda s: "Write the cohost docs" in s and "keys act on tasks" in s, "board")
    board = next(line for line in screen.splitlines() if "Write the cohost docs" in line)
    assert "bob" in board, board
    _keys(rig, console, "Escape")

    # the lead adds a shell teammate to the same team from the console (F2)
    _keys(rig, console, "F2")
    _screen_until(rig, console, lambda s: "Spawn a teammate" in s, "the spawn form")
    _keys(rig, console, "sh1", "Tab", "Tab", "echo COHOST-SHELL-$CREWMUX_AGENT; exec cat")
    _screen_until(rig, console, lambda s: "exec cat" in s, "the typed command")
    _keys(rig, console, "Enter")
    _screen_until(rig, console, lambda s: "spawn sh1: started" in s and bool(_row(s, "sh1")), "sh1 started", 90)
    members = {m.name for m in store.load(team).members}
    assert {"team-lead", "bob", "sh1"} <= members, members

    # delegate mode from the console (shift+tab) reaches the running lead: its Write is refused
    _keys(rig, console, "BTab")
    _screen_until(rig, console, lambda s: "DELEGATE MODE" in s, "the delegate banner")
    target = rig.project / "lead-wrote.txt"
    rig.fake.reply(tool_use("Write", {"file_path": str(target), "content": "x"}), when=user_says("write it yourself"))
    rig.type_prompt(lead_pane, "write it yourself")
    req = rig.fake.wait_for(lambda r: answers_tool("Write")(r) and in_conversation("write it yourself")(r), timeout=90)
    assert "cannot edit files in delegate mode" in json.dumps(tool_results(req)) and not target.exists()

    # the picture: the banner, the team (bob, sh1), the notifications, bob's screen, the board
    screen = _screen_until(rig, console, _bobs_screen_and_board, "bob's screen, board")
    assert "corrupt" not in screen and "died" not in screen, screen  # Claude Code's files are left alone
    picture = save_picture(rig, console, tmp_path / "console.png")
    assert picture.stat().st_size > 10_000
    print(f"picture: {picture}")

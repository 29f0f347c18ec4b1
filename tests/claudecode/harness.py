"""Run the REAL Claude Code against :mod:`tests.fakemodels.anthropic` in a private HOME.

The ``claude_rig`` fixture (see ``conftest.py``; the pinned binary comes from the project's
``real_cli`` fixture, ``tests/realcli``) gives a :class:`ClaudeRig`: a fake Anthropic
server, a private ``HOME`` whose ``~/.claude.json`` skips Claude Code's first-run screens
(``hasCompletedOnboarding``, the fake key approved, the project dir trusted), a crewmux root, a
project dir, and a private tmux socket. ``rig.env`` is the environment for every process of the
test (crewmux commands and the claude they start)::

    def test_x(claude_rig):
        rig = claude_rig
        rig.fake.reply(tool_use("ToolSearch", {"query": "select:SendMessage"}), when=user_says("PING"))
        rig.fake.reply(tool_use("SendMessage", {"to": "team-lead", "message": "PONG"}))
        rig.crewmux("team", "create", "t")
        rig.crewmux("spawn", "alice", "--team", "t", "--agent", "claude", "--prompt", "PING", "--backend", "tmux")
        rig.fake.wait_for(user_says("PING"), timeout=90)

Scripting a tool call: ``fake.reply(tool_use(NAME, INPUT), when=MATCHER)`` (matchers in
``tests/fakemodels/anthropic.py``: ``user_says``, ``answers_tool``, ``in_conversation``).
Claude Code 2.1.332 defers ``SendMessage`` (and the task tools) behind ``ToolSearch``: script
``tool_use("ToolSearch", {"query": "select:SendMessage"})`` first, then the call itself
``when=answers_tool("ToolSearch")``. ``fake.respond(fn, when=…)`` builds the reply from the
request (e.g. to echo a request id the model was shown). Extra environment for claude (e.g.
``--mcp-config`` files, ``CLAUDE_CODE_ENABLE_TODO_TOOLS``) goes into ``rig.env`` before spawning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakemodels.anthropic import FAKE_KEY, AnthropicServer

REPO = Path(__file__).resolve().parents[2]


def write_claude_json(path: Path, *, trusted: list[Path], key: str = FAKE_KEY) -> None:
    """A ``.claude.json`` that lets ``claude`` start with no first-run screen."""
    doc = {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": [key.strip()[-20:]], "rejected": []},
        "projects": {str(p.resolve()): {"hasTrustDialogAccepted": True} for p in trusted},
    }
    path.write_text(json.dumps(doc, indent=2))


@dataclass
class ClaudeRig:
    fake: AnthropicServer
    claude: Path
    home: Path
    """The private HOME (its ``.claude.json`` and ``.claude/`` are the user's, for claude)."""
    root: Path
    """crewmux's root ($CREWMUX_HOME)."""
    project: Path
    sock: str
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        """``python -m app ARGS`` in the project dir with the rig's environment."""
        argv = [sys.executable, "-m", "app", *args]
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=self.env, cwd=self.project, check=False
        )

    def crewmux(self, *args: str, timeout: float = 90) -> Any:
        """Run a crewmux command that must succeed; its stdout parsed as JSON when it is JSON."""
        proc = self.run(*args, timeout=timeout)
        assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        try:
            return json.loads(proc.stdout)
        except ValueError:
            return proc.stdout

    def tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True, check=False)
        return out.stdout

    def screen(self, pane_id: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", pane_id)

    def start_lead(self, *args: str) -> str:
        """Start the real ``claude`` as a lead (agent teams on) in a new tmux session; its pane id."""
        self.env["CLAUDE_CODE_EXPERIMENTAL_AGENT_TEAMS"] = "1"
        argv = ["tmux", "-L", self.sock, "new-session", "-d", "-P", "-F", "#{pane_id}", "-x", "150", "-y", "45"]
        out = subprocess.run(
            [*argv, "-c", str(self.project), "claude", *args], env=self.env, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    def type_prompt(self, pane: str, text: str, timeout: float = 60) -> None:
        """Type ``text`` into claude's prompt once it shows (``❯``), then Enter."""
        self.wait(lambda: "❯" in self.screen(pane), timeout, "claude's prompt", pane)
        self.tmux("send-keys", "-t", pane, "-l", text)
        self.wait(lambda: text[-20:] in self.screen(pane), 10, "the typed prompt", pane)
        self.tmux("send-keys", "-t", pane, "Enter")

    def wait(self, check: Callable[[], object], timeout: float, what: str, pane: str | None = None) -> object:
        """``check()``'s first truthy value; fails naming ``what`` (and showing ``pane``) at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                shown = f"\n--- screen of {pane} ---\n{self.screen(pane)}" if pane else ""
                raise AssertionError(f"timed out after {timeout}s waiting for {what}{shown}")
            time.sleep(0.1)


def make_rig(tmp_path: Path, fake: AnthropicServer, claude: Path, sock: str) -> ClaudeRig:
    """Dirs, ``.claude.json`` and environment for one test (claude first on PATH)."""
    home, root, project = tmp_path / "userhome", tmp_path / "root", tmp_path / "project"
    for d in (home, root, project):
        d.mkdir()
    write_claude_json(home / ".claude.json", trusted=[project])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "ANTHROPIC", "CREWMUX_", "TMUX"))}
    if "TMUX_TMPDIR" in os.environ:  # the run's private socket folder (tests/conftest.py): same servers as the test
        env["TMUX_TMPDIR"] = os.environ["TMUX_TMPDIR"]
    env.update(
        HOME=str(home),
        PATH=f"{claude.parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        TERM="xterm-256color",
        ANTHROPIC_BASE_URL=fake.url,
        ANTHROPIC_API_KEY=FAKE_KEY,
        DISABLE_AUTOUPDATER="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        CREWMUX_HOME=str(root),
        CREWMUX_TMUX_SOCKET=sock,
        PYTHONPATH=str(REPO),
    )
    return ClaudeRig(fake=fake, claude=claude, home=home, root=root, project=project, sock=sock, env=env)

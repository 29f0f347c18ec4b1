"""The delegate gate a Claude Code lead runs before its editing and shell tools (``app.core.lead_gate``).

The real Claude Code running it is in ``tests/claudecode/test_claude_lead_gate.py``; these pin
the decisions and the hook's stdin/stdout as a process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

from app.core.lead_gate import GATED_TOOLS, PreToolUse, session_team, settings_json, verdict
from app.core.paths import team_paths
from app.core.policy import set_delegate

if TYPE_CHECKING:
    from pathlib import Path

SESSION = "0A1b2c3d-0000-4000-8000-000000000000"


def _call(tool: str, agent_id: str | None = None) -> PreToolUse:
    return PreToolUse(session_id=SESSION, tool_name=tool, agent_id=agent_id)


def test_the_session_teams_setting_decides_at_each_call(tmp_path: Path) -> None:
    paths = team_paths(tmp_path, session_team(SESSION), interop=True)
    assert paths.team.startswith("session-0a1b2c3d")
    paths.team_dir.mkdir(parents=True)
    assert verdict(tmp_path, _call("Write")) is None  # no settings file: off unless started with --delegate
    assert "cannot edit files in delegate mode" in str(verdict(tmp_path, _call("Write"), default_on=True))
    set_delegate(paths, True)
    assert "cannot run commands in delegate mode" in str(verdict(tmp_path, _call("Bash")))
    assert all(verdict(tmp_path, _call(tool)) for tool in GATED_TOOLS)
    for free in ("Agent", "SendMessage", "TaskCreate", "Read", "mcp__crewmux__task_claim"):
        assert verdict(tmp_path, _call(free)) is None, free
    assert verdict(tmp_path, _call("Edit", agent_id="a1")) is None  # a subagent / in-process teammate
    set_delegate(paths, False)
    assert verdict(tmp_path, _call("Write"), default_on=True) is None  # the file, once there, wins


def test_the_gate_speaks_claude_codes_hook_protocol(tmp_path: Path) -> None:
    paths = team_paths(tmp_path, session_team(SESSION), interop=True)
    paths.team_dir.mkdir(parents=True)
    set_delegate(paths, True)
    stdin = json.dumps(
        {
            "session_id": SESSION,
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
            "tool_use_id": "t1",
            "cwd": "/",
        }
    )
    settings = json.loads(settings_json(sys.executable, tmp_path, delegate=False))
    (group,) = settings["hooks"]["PreToolUse"]
    assert set(group["matcher"].split("|")) == set(GATED_TOOLS)
    (hook,) = group["hooks"]
    argv = ["sh", "-c", hook["command"]]
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse" and out["permissionDecision"] == "deny"
    assert "delegate mode" in out["permissionDecisionReason"]
    set_delegate(paths, False)
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "")  # no decision: Claude Code's own rules apply
    bad = subprocess.run(argv, input="not json", capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "unreadable hook input" in bad.stderr  # non-blocking for Claude Code


def test_crewmux_claude_installs_the_gate_and_refuses_a_second_settings(tmp_path: Path) -> None:
    import pytest

    from app.cli.cohost_cmds import claude_argv
    from app.core.errors import BadInput

    argv = claude_argv("claude", ["--model", "m"], home=tmp_path, delegate=True)
    assert argv[:3] == ["claude", "--model", "m"] and argv[3:5] == ["--teammate-mode", "tmux"]
    assert argv[-2] == "--settings"
    (hook,) = json.loads(argv[-1])["hooks"]["PreToolUse"][0]["hooks"]
    assert hook["command"].endswith(f"-m app.core.lead_gate --home {tmp_path} --delegate")
    with pytest.raises(BadInput, match="own --settings"):
        claude_argv("claude", ["--settings", "x.json"], home=tmp_path, delegate=False)

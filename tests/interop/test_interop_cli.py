"""``crewmux --claude`` / ``$CREWMUX_CLAUDE``: Claude Code's root as home, interop mode on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.core.interop import claude_home, interop_from_env


def test_claude_home_is_the_config_dir_else_dot_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert claude_home() == (tmp_path / "cfg").resolve()
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert claude_home() == (tmp_path / "user" / ".claude").resolve()
    for value, on in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("CREWMUX_CLAUDE", value)
        assert interop_from_env() is on


def test_the_flag_and_the_variable_work_on_claude_codes_root(home: Path, tmp_path: Path, cli: Any) -> None:
    claude = tmp_path / "claude"
    env = {"CLAUDE_CONFIG_DIR": str(claude), "CREWMUX_CLAUDE": "0"}
    assert cli("--claude", "team", "create", "crew", env=env).code == 0
    assert (claude / "teams" / "crew" / "config.json").is_file()
    assert not (home / "teams").exists()  # $CREWMUX_HOME is not used in interop mode
    assert cli("--claude", "team", "join", "alice", "--team", "crew", env=env).code == 0

    by_env = {"CLAUDE_CONFIG_DIR": str(claude), "CREWMUX_CLAUDE": "1"}
    sent = cli("msg", "send", "alice", "hello", "--team", "crew", "--as", "team-lead", "--json", env=by_env)
    assert sent.code == 0, sent.err
    inbox = json.loads((claude / "teams" / "crew" / "inboxes" / "alice.json").read_text())
    assert [(m["from"], m["text"], m["type"], m["msgV"]) for m in inbox] == [("team-lead", "hello", "message", 1)]
    assert not [p for p in claude.rglob("*.lock") if p.is_dir()]  # every mkdir lock released

    other = tmp_path / "other"
    assert cli("--claude", "--home", str(other), "team", "create", "x", env=env).code == 0
    assert (other / "teams" / "x" / "config.json").is_file()
    # Without interop, the same command works on crewmux's own root.
    own = cli("team", "list", env={"CREWMUX_CLAUDE": "0"})
    assert own.code == 0 and "crew" not in own.out
    assert "crew" in cli("--claude", "team", "list", env=env).out

"""What a spawned teammate gets to reach crewmux's MCP server as itself, per agent kind (real files)."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

from app.agents.mcp_wiring import mcp_args, wire
from app.core.team import TeamStore
from app.lifecycle.teammates import SpawnRequest, Teammates


def _server_args(wiring_args: list[str]) -> list[str]:
    """The ``crewmux`` arguments from ``mcp`` on, without the spawn-race wait."""
    tail = wiring_args[wiring_args.index("mcp") :]
    at = tail.index("--wait-member")
    return tail[:at] + tail[at + 2 :]


def test_claude_gets_an_mcp_config_for_its_own_identity(tmp_path: Path) -> None:
    wiring = mcp_args("claude", "t", "alice", tmp_path)
    assert wiring.argv[0] == "--mcp-config" and wiring.argv[2:] == ["--allowedTools", "mcp__crewmux"]
    server = json.loads(wiring.argv[1])["mcpServers"]["crewmux"]
    assert server["command"] == sys.executable
    assert _server_args(server["args"]) == ["mcp", "--team", "t", "--as", "alice"]
    assert server["env"] == {"CREWMUX_HOME": str(tmp_path), "CREWMUX_TEAM": "t", "CREWMUX_AGENT": "alice"}
    assert not wiring.env and not wiring.files


def test_codex_gets_per_process_overrides(tmp_path: Path) -> None:
    wiring = mcp_args("codex", "t", "bob", tmp_path)
    flags, values = wiring.argv[0::2], wiring.argv[1::2]
    assert set(flags) == {"-c"}
    keys = {}
    for value in values:
        key, _, toml_value = value.partition("=")
        assert key.startswith("mcp_servers.crewmux.")
        keys[key.removeprefix("mcp_servers.crewmux.")] = tomllib.loads(f"v = {toml_value}")["v"]
    assert _server_args(keys["args"]) == ["mcp", "--team", "t", "--as", "bob"]
    assert keys["env"]["CREWMUX_AGENT"] == "bob" and keys["env"]["CREWMUX_HOME"] == str(tmp_path)
    assert keys["required"] is True and keys["default_tools_approval_mode"] == "approve"
    assert keys["tool_timeout_sec"] > 300  # wait_for_message may wait 300 s


def test_gemini_gets_a_private_home_that_keeps_the_users_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    gem = user / ".gemini"
    gem.mkdir(parents=True)
    mine = {"mcpServers": {"other": {"command": "other-server"}}, "ui": {"theme": "dark"}}
    (gem / "settings.json").write_text(json.dumps(mine))
    (gem / "oauth_creds.json").write_text("{}")
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    root = tmp_path / "crew"
    wiring = mcp_args("gemini", "t", "carol", root)
    assert wiring.argv == []
    wiring.write_files()
    wiring.write_files()  # again (a respawn): same result, no error
    private = Path(wiring.env["GEMINI_CLI_HOME"])
    assert root in private.parents
    settings = json.loads((private / ".gemini" / "settings.json").read_text())
    assert settings["ui"] == {"theme": "dark"} and settings["mcpServers"]["other"] == {"command": "other-server"}
    crewmux = settings["mcpServers"]["crewmux"]
    assert _server_args(crewmux["args"]) == ["mcp", "--team", "t", "--as", "carol"] and crewmux["trust"] is True
    assert (private / ".gemini" / "oauth_creds.json").resolve() == (gem / "oauth_creds.json").resolve()
    assert json.loads((gem / "settings.json").read_text()) == mine  # the user's own file is untouched


@pytest.mark.parametrize("kind", ["aider", "shell", "worker"])
def test_kinds_without_mcp_get_nothing(tmp_path: Path, kind: str) -> None:
    wiring = mcp_args(kind, "t", "alice", tmp_path)
    assert not wiring.argv and not wiring.env and not wiring.files
    argv = ["aider", "--model", "m"]
    assert wire(argv, kind, "t", "alice", tmp_path) == argv


def test_interop_points_the_server_at_claude_codes_root(tmp_path: Path) -> None:
    server = json.loads(mcp_args("claude", "t", "alice", tmp_path, interop=True).argv[1])["mcpServers"]["crewmux"]
    assert "--claude" in server["args"]
    assert server["env"]["CLAUDE_CONFIG_DIR"] == str(tmp_path) and server["env"]["CREWMUX_CLAUDE"] == "1"


def test_wire_splices_after_the_program_and_into_the_env_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude = wire(["env", "A=1", "claude", "--agent-id", "x@t"], "claude", "t", "x", tmp_path)
    assert claude[:4] == ["env", "A=1", "claude", "--mcp-config"] and claude[-2:] == ["--agent-id", "x@t"]
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    gemini = wire(["gemini", "--prompt-interactive", "go"], "gemini", "t", "x", tmp_path)
    assert (
        gemini[0] == "env"
        and gemini[1].startswith("GEMINI_CLI_HOME=")
        and gemini[2:]
        == [
            "gemini",
            "--prompt-interactive",
            "go",
        ]
    )


def test_spawn_builds_codex_with_the_wiring_and_the_prompt_last(tmp_path: Path) -> None:
    req = SpawnRequest(name="alice", kind="codex", prompt="do #1")
    argv, _cwd = Teammates(TeamStore(tmp_path), "t").command_for(req, color="blue", cwd=str(tmp_path))
    assert argv[0] == "codex" and argv[-1] == "do #1"
    assert any(a.startswith("mcp_servers.crewmux.args=") and '"alice"' in a for a in argv)

"""End to end with the REAL agent CLIs: the fake model asks for ``task_claim``, the CLI calls crewmux's
MCP server (wired in by :func:`app.agents.mcp_wiring.mcp_args`, as at spawn), the task file shows the owner.

How each CLI names the tool (seen in the requests they send): codex 0.169 offers a Responses
``namespace`` tool ``mcp__crewmux`` holding ``task_claim``; gemini 0.61 declares
``mcp_crewmux_task_claim``; Claude Code 2.1.332 defers MCP tools behind ``ToolSearch`` (listed by
name, schemas fetched on demand) and calls them ``mcp__crewmux__task_claim``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from app.agents.mcp_wiring import mcp_args
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from tests.claudecode.harness import make_rig
from tests.fakemodels import openai_responses
from tests.fakemodels.anthropic import AnthropicServer, answers_tool, body, text, tool_names, tool_use, user_says
from tests.fakemodels.base import Reply, ToolCall
from tests.fakemodels.gemini import GeminiServer
from tests.fakemodels.openai_responses import ResponsesServer
from tests.mcp.mcp_helpers import task_file
from tests.realcli.agent_home import AgentHome

pytestmark = pytest.mark.slow


def _crew(root: Path) -> TeamStore:
    teams = TeamStore(root)
    teams.create("t")
    teams.join("t", "alice")
    TaskStore(teams.paths("t")).create("first job")
    return teams


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL, check=False
    )


def test_codex_claims_through_crewmux_mcp(
    tmp_path: Path, real_cli: Callable[[str], Path], agent_home: AgentHome, responses_server: ResponsesServer
) -> None:
    root = tmp_path / "crew"
    _crew(root)
    responses_server.script(
        Reply(text="", tool_calls=[ToolCall(name="task_claim", namespace="mcp__crewmux")]), Reply(text="claimed")
    )
    env = agent_home.for_codex(responses_server)
    wiring = mcp_args("codex", "t", "alice", root)
    argv = [str(real_cli("codex")), "exec", "--skip-git-repo-check", *wiring.argv, "claim the next task"]
    proc = _run(argv, {**env, **wiring.env}, agent_home.workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert task_file(root, "t", "1")["owner"] == "alice"
    first = responses_server.model_calls[0].json
    crewmux = next(t for t in first["tools"] if t.get("name") == "mcp__crewmux")
    assert {"task_claim", "send_message", "wait_for_message"} <= {t["name"] for t in crewmux["tools"]}
    outputs = [o for r in responses_server.model_calls for o in openai_responses.function_outputs(r)]
    assert any('"owner":"alice"' in str(o.get("output")).replace(" ", "") for o in outputs), outputs


def test_gemini_claims_through_crewmux_mcp(
    tmp_path: Path,
    real_cli: Callable[[str], Path],
    agent_home: AgentHome,
    gemini_server: GeminiServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "crew"
    _crew(root)
    gemini_server.script(Reply(text="", tool_calls=[ToolCall(name="mcp_crewmux_task_claim")]), Reply(text="claimed"))
    env = agent_home.for_gemini(gemini_server)
    user_settings = (agent_home.home / ".gemini" / "settings.json").read_text()
    monkeypatch.setenv("HOME", env["HOME"])  # the wiring copies the user's gemini settings from here
    wiring = mcp_args("gemini", "t", "alice", root)
    wiring.write_files()
    proc = _run([str(real_cli("gemini")), "-p", "claim the next task"], {**env, **wiring.env}, agent_home.workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert task_file(root, "t", "1")["owner"] == "alice"
    assert (agent_home.home / ".gemini" / "settings.json").read_text() == user_settings  # global config untouched
    declared = {
        d["name"]
        for r in gemini_server.model_calls
        for t in (r.json or {}).get("tools", [])
        for d in t.get("functionDeclarations", [])
    }
    assert "mcp_crewmux_task_claim" in declared


def test_claude_claims_through_crewmux_mcp(tmp_path: Path, real_cli: Callable[[str], Path]) -> None:
    claude = real_cli("claude")
    with AnthropicServer() as fake:
        rig = make_rig(tmp_path, fake, claude, "unused")
        _crew(rig.root)
        # 2.1.332 defers MCP tools: the model fetches the schema with ToolSearch, then calls the tool
        fake.reply(tool_use("ToolSearch", {"query": "select:mcp__crewmux__task_claim"}), when=user_says("CLAIM"))
        fake.reply(tool_use("mcp__crewmux__task_claim", {}), when=answers_tool("ToolSearch"))
        fake.reply(text("claimed"), when=answers_tool("mcp__crewmux__task_claim"))
        wiring = mcp_args("claude", "t", "alice", rig.root)
        proc = _run([str(claude), "-p", "CLAIM", *wiring.argv], {**rig.env, **wiring.env}, rig.project)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert task_file(rig.root, "t", "1")["owner"] == "alice"
        first = next(r for r in fake.model_calls if body(r).get("tools"))
        assert "mcp__crewmux__task_claim" not in tool_names(first)  # deferred, not loaded up front...
        assert "mcp__crewmux__task_claim" in json.dumps(body(first).get("messages"))  # ...but named to the model
        loaded = [r for r in fake.model_calls if "mcp__crewmux__task_claim" in tool_names(r)]
        assert loaded, "ToolSearch never loaded the crewmux tool"

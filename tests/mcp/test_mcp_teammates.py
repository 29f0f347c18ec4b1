"""Teammates crewmux spawns (real CLIs in tmux panes, fake models) work the board through crewmux's MCP tools:
claim a task, complete it, and tell the lead — nothing typed for them, no CLI of crewmux's called by them."""

from __future__ import annotations

import json

import pytest

from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import answers_tool, text, tool_use, user_says

pytestmark = pytest.mark.slow


def _task(rig: ClaudeRig, team: str, task_id: str) -> dict[str, object]:
    path = rig.root / "tasks" / team / f"{task_id}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _lead_heard(rig: ClaudeRig, team: str, sender: str, needle: str) -> bool:
    doc = rig.crewmux("msg", "inbox", "--team", team, "--as", "team-lead", "--json")
    return any(m["from"] == sender and needle in m["text"] for m in doc)


def test_a_claude_teammate_claims_completes_and_reports_through_mcp(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    rig.crewmux("team", "create", "t")
    rig.crewmux("task", "add", "build the parser", "--team", "t")
    fake = rig.fake
    wanted = "select:mcp__crewmux__task_claim,mcp__crewmux__task_update,mcp__crewmux__send_message"
    fake.reply(tool_use("ToolSearch", {"query": wanted}), when=user_says("WORK"))
    fake.reply(tool_use("mcp__crewmux__task_claim", {}), when=answers_tool("ToolSearch"))
    fake.reply(
        tool_use("mcp__crewmux__task_update", {"task_id": "1", "status": "completed"}),
        when=answers_tool("mcp__crewmux__task_claim"),
    )
    fake.reply(
        tool_use("mcp__crewmux__send_message", {"to": "team-lead", "text": "DONE #1"}),
        when=answers_tool("mcp__crewmux__task_update"),
    )
    fake.reply(text("finished"), when=answers_tool("mcp__crewmux__send_message"))
    spawned = rig.crewmux(
        "spawn", "alice", "--team", "t", "--agent", "claude", "--prompt", "WORK on the board",
        "--backend", "tmux", "--cwd", str(rig.project), "--json",
    )  # fmt: skip
    pane = str(spawned["paneId"])
    rig.wait(lambda: _task(rig, "t", "1").get("status") == "completed", 180, "task 1 completed", pane)
    assert _task(rig, "t", "1")["owner"] == "alice"
    rig.wait(lambda: _lead_heard(rig, "t", "alice", "DONE #1"), 60, "alice's message to the lead", pane)

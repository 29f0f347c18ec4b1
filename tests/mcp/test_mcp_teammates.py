"""Teammates crewmux spawns (real CLIs in tmux panes, fake models) work the board through crewmux's MCP tools:
claim a task, complete it, and tell the lead — nothing typed for them, no CLI of crewmux's called by them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.claudecode.harness import ClaudeRig
from tests.fakemodels import openai_responses
from tests.fakemodels.anthropic import answers_tool, text, tool_use, user_says
from tests.fakemodels.base import LoggedRequest, Reply, ToolCall
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import PROFILES, Crew, wait_until

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


def _calls_made(kind: str, req: LoggedRequest) -> int:
    """How many tool results the agent has sent back so far in this conversation."""
    doc = req.json if isinstance(req.json, dict) else {}
    if kind == "codex":
        return len(openai_responses.function_outputs(req))
    return sum(
        1
        for turn in doc.get("contents") or []
        for part in turn.get("parts") or []
        if isinstance(part, dict) and "functionResponse" in part
    )


def _board_script(kind: str) -> Callable[[LoggedRequest], Reply]:
    """Claim, complete task 1, tell the lead, then stop — one step per model call of the WORK turn."""
    steps = [
        ("task_claim", {}),
        ("task_update", {"task_id": "1", "status": "completed"}),
        ("send_message", {"to": "team-lead", "text": "DONE #1"}),
    ]

    def step(req: LoggedRequest) -> Reply:
        if not any("WORK" in t for t in PROFILES[kind].user_texts(req)):
            return Reply(text="ok")
        done = _calls_made(kind, req)
        if done >= len(steps):
            return Reply(text="finished")
        name, args = steps[done]
        if kind == "codex":
            return Reply(text="", tool_calls=[ToolCall(name=name, arguments=args, namespace="mcp__crewmux")])
        return Reply(text="", tool_calls=[ToolCall(name=f"mcp_crewmux_{name}", arguments=args)])

    return step


@pytest.mark.parametrize("kind", ["codex", "gemini"])
def test_a_spawned_teammate_claims_completes_and_reports_through_mcp(
    tmp_path: Path, real_cli: Callable[[str], Path], kind: str
) -> None:
    real_cli(kind)
    profile = PROFILES[kind]
    crew = Crew(tmp_path, profile, profile.server().start(), AgentHome.create(tmp_path / "agent")).start()
    try:
        crew.server.script(*[_board_script(kind)] * 12)
        assert crew.crewmux("task", "add", "build the parser", "--team", crew.team).returncode == 0
        crew.spawn("mate", "--prompt", "WORK on the board")
        task = crew.crewmux_home / "tasks" / crew.team / "1.json"
        wait_until(
            lambda: json.loads(task.read_text()).get("status") == "completed",
            180,
            lambda: f"task 1 completed; screen:\n{crew.screen_text('mate')}",
            step=0.2,
        )
        assert json.loads(task.read_text())["owner"] == "mate"
        wait_until(
            lambda: any(m.sender == "mate" and "DONE #1" in m.text for m in crew.mailbox.inbox("team-lead")),
            60,
            "mate's message to the lead",
            step=0.2,
        )
    finally:
        crew.close()

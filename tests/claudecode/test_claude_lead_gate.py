"""Delegate mode reaches a RUNNING Claude Code lead (``crewmux claude``'s PreToolUse gate), both ways."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakemodels.anthropic import answers_tool, in_conversation, tool_results, tool_use, user_says

if TYPE_CHECKING:
    from tests.claudecode.harness import ClaudeRig


def _result_of(rig: ClaudeRig, tool: str, turn: str) -> dict[str, Any]:
    """The tool_result Claude Code sent back for the ``tool`` call of the turn prompted with ``turn``."""
    req = rig.fake.wait_for(lambda r: answers_tool(tool)(r) and in_conversation(turn)(r), timeout=90)
    (result,) = tool_results(req)
    return result


def _text(result: dict[str, Any]) -> str:
    content = result.get("content")
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content)


def test_toggling_delegate_restricts_and_restores_the_running_leads_tools(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    doc = rig.crewmux(
        "claude", "--no-console", "--json", "--delegate", "--", "--permission-mode", "acceptEdits", timeout=120
    )
    team, pane = str(doc["team"]), str(doc["paneId"])
    target = rig.project / "by-the-lead.txt"
    write = {"file_path": str(target), "content": "the lead wrote this\n"}

    # delegate on (from the start): the lead's Write and Bash are refused with crewmux's reason
    rig.fake.reply(tool_use("Write", write), when=user_says("turn-1 write it"))
    rig.type_prompt(pane, "turn-1 write it")
    refused = _result_of(rig, "Write", "turn-1")
    assert refused.get("is_error") and "cannot edit files in delegate mode" in _text(refused), refused
    assert not target.exists()
    rig.fake.reply(tool_use("Bash", {"command": "touch ran-by-bash", "description": "t"}), when=user_says("turn-2"))
    rig.type_prompt(pane, "turn-2 run it")
    refused = _result_of(rig, "Bash", "turn-2")
    assert "cannot run commands in delegate mode" in _text(refused), refused
    assert not (rig.project / "ran-by-bash").exists()

    # lifted with the CLI, same claude process: the next Write goes through
    rig.crewmux("--claude", "team", "delegate", team, "off")
    rig.fake.reply(tool_use("Write", write), when=user_says("turn-3 write it"))
    rig.type_prompt(pane, "turn-3 write it")
    allowed = _result_of(rig, "Write", "turn-3")
    assert not allowed.get("is_error") and "File created successfully" in _text(allowed), allowed
    rig.wait(target.exists, 30, "the lead's Write to land", pane)

    # on again: refused again, without a restart
    rig.crewmux("--claude", "team", "delegate", team, "on")
    rig.fake.reply(tool_use("Bash", {"command": "touch ran-by-bash", "description": "t"}), when=user_says("turn-4"))
    rig.type_prompt(pane, "turn-4 run it")
    assert "cannot run commands in delegate mode" in _text(_result_of(rig, "Bash", "turn-4"))
    assert not (rig.project / "ran-by-bash").exists()

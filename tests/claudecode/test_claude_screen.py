"""crewmux's screen rules for claude (app/agents/rules/claude.json) against the real 2.1.332 screen."""

from __future__ import annotations

import threading

from app.agents.adapters import classify, input_text, load_rules
from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import tool_use, user_says
from tests.fakemodels.base import Reply


def test_idle_busy_and_permission_screens_are_told_apart(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    rules = load_rules("claude")
    hold = threading.Event()
    rig.fake.script(Reply(text="done", hold=hold))  # the first turn stays busy until released
    target = rig.project / "x.txt"
    rig.fake.reply(tool_use("Write", {"file_path": str(target), "content": "hi\n"}), when=user_says("write it"))
    pane = rig.start_lead("--permission-mode", "default")

    def state() -> str:
        return classify(rig.screen(pane).splitlines(), rules)

    rig.wait(lambda: state() == "waiting", 60, "the idle prompt (❯) to read as waiting", pane)
    assert input_text(rig.screen(pane).splitlines(), rules) == ""
    rig.type_prompt(pane, "be busy")
    try:
        rig.wait(lambda: state() == "busy", 30, "the spinner / 'esc to interrupt' to read as busy", pane)
    finally:
        hold.set()
    rig.wait(lambda: state() == "waiting", 30, "waiting again after the turn", pane)
    rig.type_prompt(pane, "write it")
    rig.wait(lambda: state() == "permission", 30, "'Do you want to create x.txt?' to read as permission", pane)
    assert not target.exists()

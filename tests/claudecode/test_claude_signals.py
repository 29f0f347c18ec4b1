"""A claude teammate's own hooks (passed by spawn through ``--settings``) report its state, with
the real Claude Code 2.1.332: busy during a turn (from its first tool use) and waiting after it;
a tool that needs approval reaches the lead once, as Claude Code's own ``permission_request``."""

from __future__ import annotations

import json
import threading
import time

import pytest

from app.agents.agent_state import StateSource
from app.core.agent_status import reported
from app.core.mailbox import Mailbox
from app.core.team import TeamStore
from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import tool_results, tool_use, user_says
from tests.fakemodels.base import Reply

pytestmark = pytest.mark.timeout(300)


def _spawn(rig: ClaudeRig, name: str, prompt: str) -> dict[str, object]:
    doc = rig.crewmux(
        "spawn", name, "--team", "t", "--agent", "claude", "--prompt", prompt,
        "--backend", "tmux", "--cwd", str(rig.project), "--json",
    )  # fmt: skip
    assert isinstance(doc, dict)
    return doc


def test_a_claude_teammates_hooks_report_busy_then_waiting_within_a_second(claude_rig: ClaudeRig) -> None:
    """Claude Code runs no hook when a teammate takes a message from its inbox (no
    ``UserPromptSubmit``: that is for typed prompts); its first tool use (``PreToolUse``) reports
    busy, ``Stop`` waiting."""
    rig = claude_rig
    rig.crewmux("team", "create", "t")
    paths = TeamStore(rig.root).paths("t")
    notes = rig.project / "notes.txt"
    notes.write_text("crewmux\n")
    _spawn(rig, "alice", "Say ready")
    rig.fake.wait_for(user_says("Say ready"), timeout=90)
    rig.wait(lambda: (r := reported(paths, "alice")) and r.state == "waiting", 60, "alice's Stop hook after turn one")
    hold = threading.Event()
    rig.fake.reply(tool_use("Read", {"file_path": str(notes)}), when=user_says("HOLD this turn"))
    rig.fake.script(Reply(text="done", hold=hold))  # the answer to the tool's result stays held
    Mailbox(TeamStore(rig.root), "t").send("alice", "HOLD this turn", sender="team-lead")
    states = StateSource(paths)
    try:
        rig.fake.wait_for(user_says("HOLD this turn"), timeout=60)
        tool_answered = rig.fake.wait_for(lambda r: "crewmux" in json.dumps(tool_results(r)), timeout=60)
        got = reported(paths, "alice")
        assert got is not None and got.state == "busy" and got.event in ("PreToolUse", "PostToolUse"), got
        assert got.at <= tool_answered.at + 1.0  # reported before the tool's result went back to the model
        verdict = states.judge("alice", None, None)
        assert (verdict.state, verdict.source) == ("busy", "report")
    finally:
        released = time.time()
        hold.set()
    # Claude Code itself runs Stop ~1 s after the answer's last byte (1.02 s seen here on a loaded
    # machine, hook included): 2 s is its bound, not crewmux's
    rig.wait(
        lambda: (r := reported(paths, "alice")) and r.state == "waiting" and r.at >= released, 2.0, "waiting after Stop"
    )
    verdict = states.judge("alice", None, None)
    assert (verdict.state, verdict.source) == ("waiting", "report")


def test_a_claude_teammates_permission_question_reaches_the_lead_once(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    rig.crewmux("team", "create", "t")
    paths = TeamStore(rig.root).paths("t")
    target = rig.project / "x.txt"
    rig.fake.reply(tool_use("Write", {"file_path": str(target), "content": "hi\n"}), when=user_says("Write x"))
    _spawn(rig, "fay", "Write x")  # --permission-mode default: Write needs the lead's yes
    box = Mailbox(TeamStore(rig.root), "t")

    def questions() -> list[str]:
        found = []
        for m in box.inbox("team-lead"):
            try:
                doc = json.loads(m.text)
            except ValueError:
                continue
            if isinstance(doc, dict) and doc.get("type") == "permission_request":
                found.append(m.text)
        return found

    rig.wait(questions, 90, "fay's permission_request in the lead's inbox")
    # Claude Code 2.1.332 runs no PermissionRequest/Notification hook for a teammate: it asks the
    # lead itself. Its PreToolUse hook said it is at work on the Write.
    got = reported(paths, "fay")
    assert got is not None and (got.state, got.event) == ("busy", "PreToolUse"), got
    # fay waits for the answer: exactly one question, and crewmux raised none of its own
    assert len(questions()) == 1, questions()
    assert "x.txt" in questions()[0] and '"tool_name":"Write"' in questions()[0].replace(" ", "")
    assert not [m for m in box.inbox("team-lead") if m.summary == "permission requested"]

"""Inboxes Claude Code consumes: crewmux reads them and never marks them (real claude, fake model)."""

from __future__ import annotations

import pytest

from app.core.interop import claude_home
from app.core.mailbox import Mailbox
from app.core.team import TeamStore
from app.lifecycle.lead_inbox import LeadInbox
from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import tool_use, user_says


@pytest.mark.parametrize("mode", ["default", "interop"])
def test_a_message_claude_code_took_from_its_inbox_is_read(claude_rig: ClaudeRig, mode: str) -> None:
    rig = claude_rig
    flags = ["--claude"] if mode == "interop" else []
    rig.crewmux(*flags, "team", "create", "t")
    rig.crewmux(
        *flags, "spawn", "alice", "--team", "t", "--agent", "claude", "--prompt", "Hello",
        "--backend", "tmux", "--cwd", str(rig.project), "--json",
    )  # fmt: skip
    rig.fake.wait_for(user_says("Hello"), timeout=90)
    sent = rig.crewmux(*flags, "msg", "send", "alice", "Say KIWI", "--team", "t", "--as", "team-lead", "--json")
    msg_id = sent["msgId"] if isinstance(sent, dict) else str(sent).strip()
    rig.fake.wait_for(user_says("Say KIWI"), timeout=60)
    root = rig.home / ".claude" if mode == "interop" else rig.root
    inbox = root / "teams" / "t" / "inboxes" / "alice.json"
    rig.wait(lambda: msg_id not in inbox.read_text(), 30, "Claude Code to remove the delivered message")
    status = rig.crewmux(*flags, "msg", "status", msg_id, "--team", "t", "--json")
    assert status["state"] == "read" and status["to"] == "alice"


def _lead_team(rig: ClaudeRig) -> str:
    teams = rig.home / ".claude" / "teams"
    found = rig.wait(lambda: sorted(p.name for p in teams.glob("session-*")), 60, "the lead's session team")
    assert isinstance(found, list)
    return str(found[0])


def test_the_console_reads_a_claude_code_leads_inbox_without_taking_its_messages(
    claude_rig: ClaudeRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = claude_rig
    spawn = {"description": "helper", "prompt": "Wait for the lead", "name": "bob"}
    rig.fake.reply(tool_use("Agent", spawn), when=user_says("spawn bob"))
    pane = rig.start_lead("--permission-mode", "default")
    team = _lead_team(rig)
    rig.type_prompt(pane, "please spawn bob")
    monkeypatch.setenv("HOME", str(rig.home))
    teams = TeamStore(claude_home(), interop=True)
    rig.wait(lambda: teams.load(team).member("bob") is not None, 60, "Claude Code's lead to add bob", pane)
    rig.fake.wait_for(user_says("Wait for the lead"), timeout=60)
    box = Mailbox(teams, team)
    assert "team-lead" in box.claude_code_inboxes()
    msg_id = box.send("team-lead", "Lead, say GRAPEFRUIT", sender="bob")
    lead = LeadInbox.of(box)
    taken = lead.take()  # what the attached console's refresh does
    assert [m.msg_id for m in taken] == [msg_id]
    assert lead.take() == []  # each message is returned once
    rig.fake.wait_for(user_says("GRAPEFRUIT"), timeout=60)  # the real lead still got it
    rig.wait(lambda: box.status(msg_id).state == "read", 30, "the message to count as read")

"""A budget stops a real claude teammate: --max-tokens 10000 with replies of 6,000 tokens — after
the first reply (60 %) nothing happens; the second (120 %) pauses it and tells the lead; its third
message is held (never reaches the model); raising the budget releases it."""

from __future__ import annotations

from typing import Any

from app.core.mailbox import Mailbox
from app.core.team import TeamStore
from app.lifecycle.budgets import held_messages
from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import user_says
from tests.realcli.teammates import wait_until


def test_claude_over_budget_gets_its_third_message_held(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    rig.fake.output_tokens = 6000
    rig.crewmux("team", "create", "t")
    rig.crewmux(
        "spawn", "alice", "--team", "t", "--agent", "claude", "--prompt", "Say FIRST", "--max-tokens", "10000",
        "--backend", "tmux", "--cwd", str(rig.project), "--json",
    )  # fmt: skip

    def usage() -> dict[str, Any]:
        return dict(next(r for r in rig.crewmux("usage", "--team", "t", "--json") if r["name"] == "alice"))

    def lead_texts() -> list[str]:
        return [m.text for m in Mailbox(TeamStore(rig.root), "t").inbox("team-lead")]

    rig.fake.wait_for(user_says("FIRST"), timeout=90)
    wait_until(lambda: usage()["turns"] == 1, 60, "first turn in the transcript")
    rig.crewmux("monitor", "--team", "t", "--once")
    assert usage()["tokensOut"] == 6000 and usage()["state"] == "running"
    assert not any("budget" in t for t in lead_texts())  # 6,012 of 10,000: under 80 %

    rig.crewmux("msg", "send", "alice", "Say SECOND", "--team", "t", "--as", "team-lead")
    rig.fake.wait_for(user_says("SECOND"), timeout=90)
    wait_until(lambda: usage()["turns"] == 2, 60, "second turn in the transcript")
    rig.crewmux("monitor", "--team", "t", "--once")
    assert usage()["state"] == "over-budget"
    assert any("alice is over budget" in t for t in lead_texts())

    rig.crewmux("msg", "send", "alice", "Say THIRD", "--team", "t", "--as", "team-lead")
    mail = Mailbox(TeamStore(rig.root), "t")
    assert [m.text for m in held_messages(TeamStore(rig.root), "t", "alice")] == ["Say THIRD"]
    assert all("THIRD" not in m.text for m in mail.inbox("alice"))
    calls = len(rig.fake.requests)
    rig.crewmux("monitor", "--team", "t", "--once")  # nothing new reaches the model while paused
    assert not any("THIRD" in r.body.decode(errors="replace") for r in rig.fake.requests[calls - 1 :])

    released = rig.crewmux("budget", "alice", "--team", "t", "--max-tokens", "100000", "--json")
    assert len(released["released"]) == 1 and usage()["state"] == "running"
    rig.fake.wait_for(user_says("THIRD"), timeout=90)

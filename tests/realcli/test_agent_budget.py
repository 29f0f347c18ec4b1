"""A budget stops a real codex, gemini or aider teammate (with the claude test in
tests/claudecode/test_claude_budget.py: a teammate of each kind). ``--max-tokens 10000``; the fake
server reports 8,500 output tokens for the first reply and 6,000 for each next one, and the
teammate's own CLI records them (codex's ``token_count`` events, gemini's chat file from its
``usageMetadata``, aider's ``Tokens: … received`` lines from the chat-completions ``usage``):

- after the first reply (85 %) the lead is told ONCE, with the numbers;
- the second reply pauses it: ``over-budget`` in ``crewmux usage``, ``crewmux panes`` and the MCP
  ``team_status``; its third message is held and nothing is typed into it;
- raising the budget releases the message, which then reaches the model.

The same with ``--max-usd 0.1`` for codex: its cost comes from the price table
(app/lifecycle/prices.json, gpt-5-codex at $1.25/$10 per million), $0.085 after the first reply.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from app.lifecycle.budgets import held_messages
from app.mcp.tools import TeamTools
from tests.fakemodels.base import Reply, Usage
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import PROFILES, Crew, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(300)]

EXTRA = {"aider": ["--env", "AIDER_STREAM=false"]}
"""aider counts a streamed reply's tokens itself (litellm's stream gives it no usage); unstreamed
it reports the server's ``usage`` — what this test scripts."""


LIMITS = {
    "tokens": (["--max-tokens", "10000"], r"mate has used 8\d% of its budget \(8,\d{3} of 10,000 tokens\)"),
    "usd": (["--max-usd", "0.1"], r"mate has used 85% of its budget \(\$0\.0850 of \$0\.1\)"),
}


@pytest.mark.parametrize(
    ("kind", "limit"), [("codex", "tokens"), ("gemini", "tokens"), ("aider", "tokens"), ("codex", "usd")]
)
def test_over_budget_teammate_is_warned_paused_and_held(
    kind: str, limit: str, real_cli: Callable[[str], Path], tmp_path: Path
) -> None:
    real_cli(kind)
    profile = PROFILES[kind]
    server = profile.server().start()
    server.script(Reply(text="ready", usage=Usage(input_tokens=12, output_tokens=8500)))
    server.default = Reply(text="ready", usage=Usage(input_tokens=12, output_tokens=6000))
    crew = Crew(tmp_path, profile, server, AgentHome.create(tmp_path / "agent")).start()

    def sent(word: str) -> bool:
        return any(word in " ".join(profile.user_texts(r)) for r in server.model_calls)

    def row() -> dict[str, Any]:
        out = crew.crewmux("usage", "--team", crew.team, "--json")
        return dict(next(r for r in json.loads(out.stdout) if r["name"] == "mate"))

    def monitor() -> None:
        assert crew.crewmux("monitor", "--team", crew.team, "--once").returncode == 0

    def lead_texts() -> list[str]:
        return [m.text for m in crew.mailbox.inbox("team-lead")]

    def pane_state() -> str:
        out = crew.crewmux("panes", "--team", crew.team, "--json")
        return str(next(r for r in json.loads(out.stdout) if r["name"] == "mate")["state"])

    try:
        crew.start_deliverer()
        budget, warning = LIMITS[limit]
        crew.spawn("mate", "--prompt", "Say FIRST", *budget, *EXTRA.get(kind, []))
        wait_until(lambda: sent("Say FIRST"), 90, "turn 1")
        wait_until(lambda: row()["turns"] == 1, 60, f"turn 1 in {kind}'s own record")
        assert 8500 <= row()["tokensIn"] + row()["tokensOut"] < 10000, row()
        monitor()
        monitor()  # told once, not at every check
        warnings = [t for t in lead_texts() if "of its budget" in t]
        assert len(warnings) == 1, lead_texts()
        assert re.search(warning, warnings[0]), warnings
        assert row()["state"] == "running" and pane_state() == "running"
        crew.wait_state("mate", "waiting", timeout=60)
        crew.mailbox.send("mate", "Say SECOND", sender="team-lead")
        wait_until(lambda: sent("Say SECOND"), 90, "turn 2")
        wait_until(lambda: row()["turns"] == 2, 60, f"turn 2 in {kind}'s own record")
        monitor()
        assert row()["state"] == "over-budget" and row()["tokensOut"] >= 14000, row()
        assert pane_state() == "over-budget"
        status = TeamTools(crew.teams, crew.team, "team-lead").team_status()
        assert next(m for m in status["members"] if m["name"] == "mate")["state"] == "over-budget"
        assert any("mate is over budget" in t for t in lead_texts())
        crew.mailbox.send("mate", "Say THIRD", sender="team-lead")
        assert [m.text for m in held_messages(crew.teams, crew.team, "mate")] == ["Say THIRD"]
        assert all("THIRD" not in m.text for m in crew.mailbox.inbox("mate"))  # the deliverer cannot see it
        monitor()
        assert not sent("Say THIRD")
        raise_to = ["--max-tokens", "100000"] if limit == "tokens" else ["--max-usd", "10"]
        out = crew.crewmux("budget", "mate", "--team", crew.team, *raise_to, "--json")
        assert out.returncode == 0 and len(json.loads(out.stdout)["released"]) == 1, out.stderr
        wait_until(lambda: sent("Say THIRD"), 90, "the released message typed and sent")
    finally:
        crew.close()

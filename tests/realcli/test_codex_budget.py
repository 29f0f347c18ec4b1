"""A budget stops a real codex teammate: --max-tokens 10000 with replies of 6,000 tokens (codex's
own token_count events) — the second reply pauses it, its third message is held and nothing is
typed into it; raising the budget releases the message, which then reaches the model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from app.lifecycle.budgets import held_messages
from tests.fakemodels.base import Reply, Usage
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import PROFILES, Crew, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(240)]


def test_codex_over_budget_gets_its_third_message_held(real_cli: Callable[[str], Path], tmp_path: Path) -> None:
    real_cli("codex")
    profile = PROFILES["codex"]
    server = profile.server().start()
    server.default = Reply(text="ready", usage=Usage(input_tokens=12, output_tokens=6000))
    crew = Crew(tmp_path, profile, server, AgentHome.create(tmp_path / "agent")).start()

    def sent(word: str) -> bool:
        return any(word in r.body.decode(errors="replace") for r in server.model_calls)

    def row() -> dict[str, Any]:
        out = crew.crewmux("usage", "--team", crew.team, "--json")
        return dict(next(r for r in json.loads(out.stdout) if r["name"] == "mate"))

    def monitor() -> None:
        assert crew.crewmux("monitor", "--team", crew.team, "--once").returncode == 0

    try:
        crew.start_deliverer()
        crew.spawn("mate", "--prompt", "Say FIRST", "--max-tokens", "10000")
        wait_until(lambda: sent("Say FIRST"), 60, "turn 1")
        wait_until(lambda: row()["turns"] == 1, 30, "turn 1 in codex's session file")
        monitor()
        assert row()["state"] == "running"
        crew.wait_state("mate", "waiting", timeout=30)
        crew.mailbox.send("mate", "Say SECOND", sender="team-lead")
        wait_until(lambda: sent("Say SECOND"), 60, "turn 2")
        wait_until(lambda: row()["turns"] == 2, 30, "turn 2 in codex's session file")
        monitor()
        assert row()["state"] == "over-budget" and row()["tokensOut"] == 12000
        crew.mailbox.send("mate", "Say THIRD", sender="team-lead")
        assert [m.text for m in held_messages(crew.teams, crew.team, "mate")] == ["Say THIRD"]
        assert all("THIRD" not in m.text for m in crew.mailbox.inbox("mate"))  # the deliverer cannot see it
        monitor()
        assert not sent("Say THIRD")
        out = crew.crewmux("budget", "mate", "--team", crew.team, "--max-tokens", "100000", "--json")
        assert out.returncode == 0 and len(json.loads(out.stdout)["released"]) == 1, out.stderr
        wait_until(lambda: sent("Say THIRD"), 60, "the released message typed and sent")
    finally:
        crew.close()

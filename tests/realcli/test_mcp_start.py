"""The REAL gemini 0.61 and codex 0.169: nothing is typed into them before they have loaded their MCP servers.

gemini draws its empty input line, then starts MCP discovery (its footer's ``1 MCP server`` counts
the configured servers, drawn at once) and, until discovery completes, holds a submitted prompt
in its own queue ("Queued (press ↑ to edit)"); codex does the same until its required crewmux
server is up ("Queued follow-up inputs"). crewmux's MCP server records when the agent lists its
tools; the deliverer waits for that before the first message (app/core/mcp_ready.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from app.core.ledger import Ledger
from app.core.mcp_ready import ToolsListed, listed_path
from app.core.paths import LEAD_NAME
from tests.fakemodels.base import Reply
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import PROFILES, Crew, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(240)]


@pytest.mark.parametrize("kind", ["codex", "gemini"])
def test_the_first_message_waits_for_the_agents_mcp_servers(
    kind: str, real_cli: Callable[[str], Path], tmp_path: Path
) -> None:
    real_cli(kind)
    profile = PROFILES[kind]
    server = profile.server().start()
    server.default = Reply(text="ok", chunks=1)
    crew = Crew(tmp_path, profile, server, AgentHome.create(tmp_path / "agent")).start()
    try:
        crew.start_deliverer()
        crew.spawn("mate")  # returns once the agent drew its UI: before its MCP servers are loaded
        text = "the very first message, sent at once"
        msg_id = crew.mailbox.send("mate", text, sender=LEAD_NAME)
        wait_until(
            lambda: any(text in t for r in server.model_calls for t in profile.user_texts(r)), 60,
            lambda: f"the message at the model server; screen:\n{crew.screen_text('mate')}",
        )  # fmt: skip
        member = crew.teams.member(crew.team, "mate")
        assert member.crewmux is not None and member.crewmux.pid_create_time
        listed = ToolsListed.model_validate_json(listed_path(crew.mailbox.paths, "mate").read_text())
        assert listed.at >= member.crewmux.pid_create_time  # this agent listed crewmux's tools
        typing = [e for e in Ledger(crew.mailbox.paths).history(msg_id) if e.state == "typing"]
        assert len(typing) == 1 and typing[0].at >= listed.at  # typed once, after MCP start-up was over
        assert "Queued" not in crew.screen_text("mate")  # the agent did not hold it back in its own queue
        assert not [e for e in crew.events if e.error], crew.events
    finally:
        crew.close()

"""``crewmux hook-event`` with codex 0.169.0's notify payload (its exact shape, captured from the
real program) records the thread id as the codex teammate's ``sessionId`` — and only a codex
teammate's; the state is recorded even for a name the team file does not know. The real-codex
proof is tests/realcli/test_codex_two_sessions.py."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from app.cli import main
from app.core.agent_status import reported
from app.core.models import MemberRuntime

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.core.models import Member
    from app.core.team import TeamStore

PAYLOAD = {
    "type": "agent-turn-complete",
    "thread-id": "01a23a88-30e4-7523-af55-c9632d387fde",
    "turn-id": "01a23a88-30fa-7fc0-935e-fd9b17c86e8f",
    "cwd": "/w",
    "client": "codex_exec",
    "input-messages": ["Say hi"],
    "last-assistant-message": "hi",
}


def test_notify_binds_a_codex_teammate_to_its_thread(teams: TeamStore, team: str) -> None:
    def kind(agent: str) -> Callable[[Member], None]:
        def change(m: Member) -> None:
            m.crewmux = MemberRuntime(agent_kind=agent)

        return change

    teams.set_member(team, "alice", kind("codex"))
    teams.set_member(team, "bob", kind("aider"))
    for name in ("alice", "bob", "stranger"):
        assert main(["hook-event", "--team", team, "--as", name, json.dumps(PAYLOAD), "--json"]) == 0
    alice, bob = teams.member(team, "alice").crewmux, teams.member(team, "bob").crewmux
    assert alice is not None and alice.session_id == PAYLOAD["thread-id"]
    assert bob is not None and bob.session_id is None
    assert all(reported(teams.paths(team), n) is not None for n in ("alice", "bob", "stranger"))

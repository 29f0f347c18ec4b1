"""One approval queue: plan approvals and Claude Code's permission requests, answered with f7 / f8."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.protocol import PermissionResponse, parse_protocol
from tests.console.console_helpers import main_screen, noticed, notices, until

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

SIZE = (140, 44)


def _permission_request(request_id: str, tool: str) -> str:
    """A permission_request exactly as Claude Code 2.1.332 writes it (snake_case keys)."""
    return json.dumps({
        "type": "permission_request", "request_id": request_id, "agent_id": "alice", "tool_name": tool,
        "tool_use_id": f"toolu_{request_id[-4:]}", "description": "Write a file to the local filesystem.",
        "input": {"file_path": "/tmp/x.txt", "content": "hi\n"},
        "permission_suggestions": [{"type": "setMode", "mode": "acceptEdits", "destination": "session"}],
    })  # fmt: skip


async def test_f7_allows_and_f8_denies_a_claude_teammates_permission_requests(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str
) -> None:
    app = console_factory(team)
    mailbox = Mailbox(teams, team)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        mailbox.send(LEAD_NAME, _permission_request("perm-1796222509539-k2m388z", "Write"), sender="alice")
        mailbox.send(LEAD_NAME, _permission_request("perm-1796222509540-aaaa1", "Bash"), sender="alice")
        await until(pilot, noticed(pilot, "alice asks permission to use Write"))
        await pilot.press("shift+down", "f7")  # alice is the first teammate: her oldest request
        await until(pilot, lambda: len(mailbox.inbox("alice")) == 1)
        await pilot.press("f8")
        await until(pilot, lambda: len(mailbox.inbox("alice")) == 2)
        allowed, denied = (json.loads(m.text) for m in mailbox.inbox("alice"))
        assert allowed["request_id"] == "perm-1796222509539-k2m388z" and allowed["subtype"] == "success"
        assert allowed["response"]["updated_input"] == {"file_path": "/tmp/x.txt", "content": "hi\n"}
        assert allowed["tool_use_id"] == "toolu_388z"
        assert denied["request_id"] == "perm-1796222509540-aaaa1" and denied["subtype"] == "error"
        assert denied["error"]
        parsed: Any = parse_protocol(mailbox.inbox("alice")[0].text)
        assert isinstance(parsed, PermissionResponse) and parsed.approved
        assert not any("asks permission" in line for line in notices(pilot))

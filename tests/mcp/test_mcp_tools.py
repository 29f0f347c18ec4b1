"""``crewmux mcp`` through the official MCP client SDK: every tool, its refusals, and who it acts as."""

from __future__ import annotations

import json
from pathlib import Path

from app.core import policy
from app.core.agent_reports import report_path
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from tests.mcp.mcp_helpers import call, connect, refused, task_file

TOOLS = {
    "team_status",
    "task_list",
    "task_get",
    "task_create",
    "task_claim",
    "task_update",
    "send_message",
    "read_inbox",
    "wait_for_message",
    "report_status",
}


async def test_initialize_names_the_server_and_lists_described_tools(home: Path, team: str) -> None:
    async with connect(home, team, "alice") as client:
        assert client.server_info is not None
        assert client.server_info.name == "crewmux"
        assert "'alice'" in (client.instructions or "")
        listed = (await client.list_tools()).tools
        by_name = {t.name: t for t in listed}
        assert set(by_name) >= TOOLS
        for tool in listed:
            assert tool.description and len(tool.description) > 40, tool.name
            assert tool.input_schema["type"] == "object", tool.name
        claim = by_name["task_claim"].input_schema["properties"]
        assert set(claim) == {"task_id"}  # nothing to say who acts
        send = by_name["send_message"].input_schema
        assert set(send["properties"]) == {"to", "text", "summary"}
        assert set(send["required"]) == {"to", "text"}
        state = by_name["report_status"].input_schema["properties"]["state"]
        assert set(state["enum"]) == {"working", "blocked", "idle", "done"}


async def test_task_tools_follow_the_core_rules(home: Path, team: str) -> None:
    async with connect(home, team, "alice") as client:
        first = await call(client, "task_create", {"subject": "design", "description": "the plan"})
        second = await call(client, "task_create", {"subject": "build", "blocked_by": [first["id"]]})
        assert second["openBlockers"] == [first["id"]] and second["available"] is False

        listed = await call(client, "task_list")
        assert [t["id"] for t in listed["tasks"]] == [first["id"], second["id"]]
        assert [t["available"] for t in listed["tasks"]] == [True, False]

        why = await refused(client, "task_claim", {"task_id": second["id"]})
        assert "refused" in why and f"blocked by task(s) {first['id']}" in why
        assert task_file(home, team, second["id"]).get("owner") is None

        claimed = await call(client, "task_claim")  # no id: the lowest available
        assert claimed["id"] == first["id"] and claimed["owner"] == "alice"
        assert task_file(home, team, first["id"])["owner"] == "alice"

        await call(client, "task_update", {"task_id": first["id"], "status": "in_progress"})
        done = await call(client, "task_update", {"task_id": first["id"], "status": "completed"})
        assert done["status"] == "completed"
        assert (await call(client, "task_get", {"task_id": second["id"]}))["available"] is True

        mine = await call(client, "task_claim", {"task_id": second["id"]})
        assert mine["owner"] == "alice"
        assert task_file(home, team, second["id"])["owner"] == "alice"
        assert (await call(client, "task_list", {"owner": "alice", "status": "pending"}))["count"] == 1

        handed = await call(client, "task_update", {"task_id": second["id"], "owner": "bob", "subject": "build it"})
        assert handed["owner"] == "bob" and handed["subject"] == "build it"
        taken = await refused(client, "task_claim", {"task_id": second["id"]})
        assert "already claimed by bob" in taken
        gone = await call(client, "task_update", {"task_id": first["id"], "status": "deleted"})
        assert gone == {"id": first["id"], "deleted": True}


async def test_messages_go_through_the_ledger(home: Path, teams: TeamStore, team: str) -> None:
    box = Mailbox(teams, team)
    async with connect(home, team, "alice") as alice, connect(home, team, "bob") as bob:
        sent = await call(alice, "send_message", {"to": "bob", "text": "review #1 please", "summary": "review"})
        assert box.status(sent["msgId"]).state == "sent"
        inbox = await call(bob, "read_inbox")
        assert [(m["from"], m["text"], m["msg_id"]) for m in inbox["messages"]] == [
            ("alice", "review #1 please", sent["msgId"])
        ]
        assert box.status(sent["msgId"]).state == "read"  # taken through the tool: the ledger says read
        assert (await call(bob, "read_inbox"))["count"] == 0
        everything = await call(bob, "read_inbox", {"unread_only": False, "mark_read": False})
        assert everything["count"] <= 1  # read messages are compacted into the archive

        fanned = await call(bob, "send_message", {"to": "*", "text": "standup"})
        assert set(fanned["msgIds"]) == {LEAD_NAME, "alice"}

        why = await refused(alice, "send_message", {"to": "nobody", "text": "hi"})
        assert "not a member" in why and "nobody" in why
        assert not (home / "teams" / team / "inboxes" / "nobody.json").exists()  # no phantom inbox


async def test_identity_cannot_be_forged(home: Path, teams: TeamStore, team: str) -> None:
    async with connect(home, team, "alice") as client:
        forged = {"to": "bob", "text": "it was me", "sender": "bob", "from": "bob", "as": "bob", "agent": "bob"}
        await call(client, "send_message", forged)
        [message] = Mailbox(teams, team).inbox("bob")
        assert message.sender == "alice"
        await call(client, "task_create", {"subject": "x"})
        claimed = await call(client, "task_claim", {"agent": "bob", "owner": "bob", "as": "bob"})
        assert claimed["owner"] == "alice"
        await call(client, "report_status", {"state": "working", "agent": "bob"})
        assert report_path(teams.paths(team), "alice").exists()
        assert not report_path(teams.paths(team), "bob").exists()


async def test_a_stranger_cannot_start_a_server(cli: object, team: str) -> None:
    ran = cli("mcp", "--team", team, "--as", "mallory")  # type: ignore[operator]
    assert ran.code == 2
    assert "'mallory' is not a member" in ran.err


async def test_delegate_mode_refuses_the_lead_only(home: Path, teams: TeamStore, team: str) -> None:
    TaskStore(teams.paths(team)).create("work")
    policy.set_delegate(teams.paths(team), True)
    async with connect(home, team, LEAD_NAME) as lead:
        why = await refused(lead, "task_claim")
        assert "refused" in why and "delegate mode" in why
        why = await refused(lead, "task_update", {"task_id": "1", "owner": LEAD_NAME})
        assert "delegate mode" in why
        assigned = await call(lead, "task_update", {"task_id": "1", "owner": "bob"})
        assert assigned["owner"] == "bob"
        await call(lead, "send_message", {"to": "bob", "text": "yours"})
        assert (await call(lead, "team_status"))["delegateMode"] is True
    async with connect(home, team, "alice") as alice:
        await call(alice, "task_create", {"subject": "more"})
        assert (await call(alice, "task_claim"))["owner"] == "alice"


async def test_bad_arguments_are_tool_errors_and_the_server_lives_on(home: Path, team: str) -> None:
    async with connect(home, team, "alice") as client:
        assert "task_id" in await refused(client, "task_claim", {"task_id": "abc"})
        assert "no task 999" in await refused(client, "task_get", {"task_id": "999"})
        assert "no task 42" in await refused(client, "task_create", {"subject": "x", "blocked_by": ["42"]})
        assert "status" in await refused(client, "task_update", {"task_id": "1", "status": "bogus"})
        assert "subject" in await refused(client, "task_create", {"subject": ""})
        assert "text" in await refused(client, "send_message", {"to": "bob"})
        assert "yourself" in await refused(client, "send_message", {"to": "alice", "text": "hi"})
        assert "timeout_s" in await refused(client, "wait_for_message", {"timeout_s": -1})
        assert "state" in await refused(client, "report_status", {"state": "sleeping"})
        assert "no task is available" in await refused(client, "task_claim")
        unknown = await client.call_tool("no_such_tool", {})
        assert unknown.is_error
        a = await call(client, "task_create", {"subject": "a"})
        b = await call(client, "task_create", {"subject": "b", "blocked_by": [a["id"]]})
        assert "cycle" in await refused(client, "task_update", {"task_id": a["id"], "add_blocked_by": [b["id"]]})
        assert (await call(client, "team_status"))["you"] == "alice"


async def test_report_status_is_recorded_for_the_lead(home: Path, teams: TeamStore, team: str) -> None:
    async with connect(home, team, "alice") as client:
        await call(client, "report_status", {"state": "blocked", "working_on": "#3 parser", "blocked_on": "bob's API"})
        path = report_path(teams.paths(team), "alice")
        assert path.parent.parent == teams.paths(team).runtime_dir
        assert json.loads(path.read_text())["blockedOn"] == "bob's API"
        assert path.stat().st_mode & 0o077 == 0
    async with connect(home, team, LEAD_NAME) as lead:
        status = await call(lead, "team_status")
        alice = next(m for m in status["members"] if m["name"] == "alice")
        assert alice["reported"]["state"] == "blocked"
        assert alice["reported"]["workingOn"] == "#3 parser"


async def test_interop_mode_works_on_claude_codes_root(tmp_path: Path) -> None:
    """``crewmux --claude mcp`` works on Claude Code's root through the interop core (its formats, its locks)."""
    root = tmp_path / "claude-root"
    teams = TeamStore(root, interop=True)
    teams.create("cc")
    teams.join("cc", "alice")
    teams.join("cc", "bob")
    TaskStore(teams.paths("cc")).create("shared")
    env = {"CREWMUX_CLAUDE": "1", "CLAUDE_CONFIG_DIR": str(root)}
    async with connect(root, "cc", "alice", env=env) as client:
        assert (await call(client, "task_claim"))["owner"] == "alice"
        await call(client, "send_message", {"to": "bob", "text": "hi from mcp"})
    [raw] = json.loads((root / "teams" / "cc" / "inboxes" / "bob.json").read_text())
    assert raw["from"] == "alice" and raw["type"] == "message" and raw["msgV"] == 1  # as Claude Code writes
    assert task_file(root, "cc", "1")["owner"] == "alice"

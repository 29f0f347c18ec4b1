"""Mailboxes: members only, ids and read receipts, compaction, size limit, protocol messages."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from app.core import mailbox as mailbox_mod
from app.core.errors import BadInput, MessageNotFound, MessageTooLarge, TeammateNotFound
from app.core.mailbox import MAX_MESSAGE_BYTES, Mailbox
from app.core.protocol import (
    IdleNotification,
    PlanApprovalRequest,
    PlanApprovalResponse,
    ShutdownApproved,
    ShutdownRejected,
    ShutdownRequest,
    TaskAssignment,
    TaskCompleted,
    parse_protocol,
    protocol_text,
    request_id,
)
from app.core.team import TeamStore
from app.core.watch import DirWatcher


@pytest.fixture
def box(teams: TeamStore, team: str) -> Mailbox:
    return Mailbox(teams, team)


def test_send_to_unknown_recipient_creates_no_inbox(box: Mailbox, teams: TeamStore) -> None:
    inboxes = teams.paths("t").inboxes
    with pytest.raises(TeammateNotFound, match="members: team-lead, alice, bob"):
        box.send("mallory", "hi", sender="alice")
    with pytest.raises(TeammateNotFound):
        box.send("bob", "hi", sender="mallory")
    assert list(inboxes.iterdir()) == []
    with pytest.raises(BadInput):
        box.send("bob", "", sender="alice")


def test_send_read_mark_and_status(box: Mailbox, teams: TeamStore) -> None:
    first = box.send("bob", "one", sender="alice", summary="1st")
    second = box.send("bob", "two", sender="team-lead")
    assert first != second and len(first) == 32
    on_disk = json.loads(teams.paths("t").inbox("bob").read_text())
    assert [m["text"] for m in on_disk] == ["one", "two"]
    assert on_disk[0]["from"] == "alice" and on_disk[0]["read"] is False and on_disk[0]["summary"] == "1st"
    assert on_disk[0]["msg_id"] == first and on_disk[0]["timestamp"].endswith("Z")
    assert [m.text for m in box.inbox("bob", unread_only=True)] == ["one", "two"]
    state = box.status(first)
    assert (state.state, state.to, state.sender) == ("sent", "bob", "alice")
    newly = box.mark_read("bob", [first])
    assert [m.msg_id for m in newly] == [first]
    assert box.status(first).state == "read" and box.status(first).read_at
    assert box.status(second).state == "sent"
    assert [m.text for m in box.inbox("bob", unread_only=True)] == ["two"]
    assert box.mark_read("bob") and box.mark_read("bob") == []
    assert box.status(second).as_dict()["state"] == "read"
    assert box.inbox("bob") == []  # read messages were compacted into the archive
    assert [m.text for m, read_at in box.history("bob") if read_at] == ["one", "two"]
    with pytest.raises(MessageNotFound):
        box.status("0" * 32)


def test_broadcast_to_all_but_sender(box: Mailbox) -> None:
    ids = box.broadcast("all hands", sender="alice")
    assert sorted(ids) == ["bob", "team-lead"]
    assert box.inbox("alice") == []
    for name, msg_id in ids.items():
        (m,) = box.inbox(name)
        assert (m.text, m.sender, m.msg_id) == ("all hands", "alice", msg_id)
    with pytest.raises(TeammateNotFound):
        box.broadcast("x", sender="nobody")


def test_oversized_message_refused_clearly(box: Mailbox, teams: TeamStore) -> None:
    box.send("bob", "x" * MAX_MESSAGE_BYTES, sender="alice")
    with pytest.raises(MessageTooLarge, match=r"262145 bytes; the limit is 262144"):
        box.send("bob", "x" * (MAX_MESSAGE_BYTES + 1), sender="alice")
    assert len(box.inbox("bob")) == 1


def test_inbox_stays_bounded_when_a_reader_only_flags_read(
    box: Mailbox, teams: TeamStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Claude Code reader flips "read" in place and never removes anything; sends compact.
    monkeypatch.setattr(mailbox_mod, "COMPACT_READ_AFTER", 5)
    path = teams.paths("t").inbox("bob")
    ids = []
    for i in range(30):
        ids.append(box.send("bob", f"m{i}", sender="alice"))
        doc = json.loads(path.read_text())
        for m in doc:
            m["read"] = True
        path.write_text(json.dumps(doc))
        assert len(doc) <= 6
    assert box.status(ids[0]).state == "read"
    assert len(box.history("bob")) == 30


def test_wait_wakes_on_send_from_another_thread(box: Mailbox) -> None:
    assert box.wait("bob", 0.05) is None
    timer = threading.Timer(0.2, lambda: box.send("bob", "late", sender="alice"))
    timer.start()
    try:
        got = box.wait("bob", 20.0, mark_read=True)
    finally:
        timer.join()
    assert got is not None and got.text == "late"
    assert box.inbox("bob", unread_only=True) == []


@pytest.mark.parametrize("watcher", ["watchfiles", "poll"])
def test_wait_wakes_with_each_fallback_watcher(box: Mailbox, monkeypatch: pytest.MonkeyPatch, watcher: str) -> None:
    monkeypatch.setenv("CREWMUX_WATCHER", watcher)
    with DirWatcher(box.paths.inbox("bob").parent) as probe:
        assert probe.kind == watcher
    timer = threading.Timer(0.2, lambda: box.send("bob", "polled", sender="alice"))
    timer.start()
    try:
        got = box.wait("bob", 20.0)
    finally:
        timer.join()
    assert got is not None and got.text == "polled"


def test_unknown_inbox_fields_kept_on_rewrite(box: Mailbox, teams: TeamStore) -> None:
    path = teams.paths("t").inbox("bob")
    path.write_text(
        json.dumps(
            [
                {
                    "from": "cc",
                    "text": "old",
                    "timestamp": "2026-01-01T00:00:00.000Z",
                    "read": False,
                    "futureKey": {"a": 1},
                }
            ]
        )
    )
    box.send("bob", "new", sender="alice")
    doc = json.loads(path.read_text())
    assert doc[0]["futureKey"] == {"a": 1} and doc[0]["text"] == "old"
    box.mark_read("bob")
    (line,) = [json.loads(x) for x in teams.paths("t").archive("bob").read_text().splitlines()[:1]]
    assert line["message"]["futureKey"] == {"a": 1}


PROTOCOL = [
    IdleNotification(sender="alice", idle_reason="task_done", completed_task_id="3", completed_status="completed"),
    ShutdownRequest(sender="team-lead", request_id=request_id("shutdown", "alice"), reason="done"),
    ShutdownApproved(sender="alice", request_id="shutdown-1@alice", pane_id="%3", backend_type="tmux"),
    ShutdownRejected(sender="alice", request_id="shutdown-1@alice", reason="busy"),
    PlanApprovalRequest(sender="alice", request_id="plan-1", plan_content="1. do it"),
    PlanApprovalResponse(
        sender="team-lead", request_id="plan-1", approved=False, feedback="no", permission_mode="default"
    ),
    TaskAssignment(sender="team-lead", task_id="4", subject="s", description="d", assigned_by="team-lead"),
    TaskCompleted(sender="alice", task_id="4", task_subject="s", status="completed"),
]


@pytest.mark.parametrize("message", PROTOCOL, ids=lambda m: m.type)
def test_protocol_messages_round_trip_in_text(message: object, box: Mailbox) -> None:
    text = protocol_text(message)  # type: ignore[arg-type]
    raw = json.loads(text)
    assert raw["type"] == message.type  # type: ignore[attr-defined]
    assert all("_" not in k or k == "msg_id" for k in raw), f"snake_case key in {raw}"
    box.send("bob", text, sender="alice")
    (got,) = box.inbox("bob")
    assert parse_protocol(got.text) == message


def test_protocol_uses_claude_code_keys() -> None:
    raw = json.loads(protocol_text(ShutdownApproved(sender="a", request_id="r", pane_id="%1", backend_type="tmux")))
    assert raw | {"timestamp": ""} == {
        "type": "shutdown_approved",
        "from": "a",
        "requestId": "r",
        "paneId": "%1",
        "backendType": "tmux",
        "timestamp": "",
    }
    cc = '{"type":"idle_notification","from":"bob","timestamp":"2026-01-01T00:00:00.000Z","idleReason":"available"}'
    parsed = parse_protocol(cc)
    assert isinstance(parsed, IdleNotification) and parsed.sender == "bob" and parsed.idle_reason == "available"
    assert parse_protocol("hello") is None
    assert parse_protocol('{"a": 1}') is None
    assert parse_protocol('{"type": "shutdown_request"}') is None  # no requestId: not a valid one
    assert parse_protocol("{not json") is None


def test_archive_path_is_private_name(teams: TeamStore) -> None:
    assert teams.paths("t").archive("Bob") == Path(teams.paths("t").inboxes / ".bob.archive.jsonl")

"""The CLI contract's happy path, run as a real process."""

from __future__ import annotations

import json
from typing import Any


def test_team_task_msg_roundtrip(cli: Any) -> None:
    assert cli("team", "create", "demo").code == 0
    assert cli("team", "join", "alice", "--team", "demo").code == 0
    added = cli("task", "add", "build", "--team", "demo", "--command", "true", "--json")
    assert added.code == 0, added.err
    assert json.loads(added.out)["metadata"] == {"command": "true"}
    claimed = cli("task", "claim", "--team", "demo", "--as", "alice", "--json")
    assert claimed.code == 0 and json.loads(claimed.out)["owner"] == "alice"
    sent = cli("msg", "send", "alice", "hello", "--team", "demo", "--as", "team-lead")
    assert sent.code == 0
    msg_id = sent.out.strip()
    status = cli("msg", "status", msg_id, "--team", "demo", "--json")
    assert json.loads(status.out)["state"] == "sent"
    got = cli("msg", "wait", "--team", "demo", "--as", "alice", "--timeout", "5", "--json")
    assert json.loads(got.out)["text"] == "hello"
    assert cli("msg", "inbox", "--team", "demo", "--as", "alice", "--mark-read").code == 0
    assert json.loads(cli("msg", "status", msg_id, "--team", "demo", "--json").out)["state"] == "read"

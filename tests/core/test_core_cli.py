"""The CLI contract: exit codes 0/2/3/4, ``--json`` shapes, $CREWMUX_TEAM / $CREWMUX_AGENT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.core.mailbox import Mailbox
from app.core.team import TeamStore
from tests.agents.teammate_helpers import wait_until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def crew_team(crew: Any) -> Any:
    assert crew("team", "create", "t", "--description", "test").code == 0
    for name in ("alice", "bob"):
        assert crew("team", "join", name, "--team", "t").code == 0
    return crew


@pytest.mark.parametrize("name", ["../x", "a/b", "a\x1bb", "", "..", "x" * 65])
def test_invalid_names_exit_2(crew: Any, name: str, home: Path) -> None:
    res = crew("team", "create", name)
    assert res.code == 2 and res.out == ""
    assert "crewmux:" in res.err
    assert not (home / "teams").exists() or list((home / "teams").iterdir()) == []


def test_team_commands_json_shapes(crew: Any, home: Path) -> None:
    created = crew("team", "create", "Demo", "--description", "d", "--json")
    assert created.code == 0
    doc = json.loads(created.out)
    assert (doc["name"], doc["description"], doc["leadAgentId"]) == ("Demo", "d", "team-lead@demo")
    assert [m["name"] for m in doc["members"]] == ["team-lead"]
    joined = json.loads(crew("team", "join", "alice", "--team", "demo", "--agent-type", "worker", "--json").out)
    assert (joined["agentId"], joined["agentType"]) == ("alice@demo", "worker")
    listed = json.loads(crew("team", "list", "--json").out)
    assert [t["name"] for t in listed] == ["Demo"]
    shown = json.loads(crew("team", "show", "demo", "--json").out)
    assert [(m["name"], m["alive"]) for m in shown["members"]] == [("team-lead", False), ("alice", False)]
    assert crew("team", "join", "alice", "--team", "demo").code == 2
    left = crew("team", "leave", "alice", "--team", "demo", "--json")
    assert left.code == 0 and json.loads(left.out)["name"] == "alice"
    assert crew("team", "leave", "alice", "--team", "demo").code == 2
    assert crew("team", "show", "nope").code == 2
    assert crew("team", "create", "demo").code == 2
    deleted = crew("team", "delete", "demo", "--json")
    assert deleted.code == 0 and json.loads(deleted.out) == {"deleted": "demo", "shutDown": [], "stillAlive": []}
    assert json.loads(crew("team", "list", "--json").out) == []
    assert crew("team", "delete", "demo").code == 2
    assert "no teams" in crew("team", "list").out


def test_team_delete_refused_while_member_alive(crew_team: Any) -> None:
    crew = crew_team
    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        assert crew("team", "join", "carol", "--team", "t", "--pid", str(sleeper.pid)).code == 0
        shown = json.loads(crew("team", "show", "t", "--json").out)
        assert [m["alive"] for m in shown["members"]] == [False, False, False, True]
        refused = crew("team", "delete", "t")
        assert refused.code == 3 and "carol" in refused.err and "--force" in refused.err
        # --force goes through the shutdown path: the member that ignores the request is killed.
        forced = crew("team", "delete", "t", "--force", "--timeout", "1", "--json")
        assert forced.code == 0
        assert json.loads(forced.out)["shutDown"] == ["carol"]
        assert json.loads(forced.out)["stillAlive"] == []
        sleeper.wait(timeout=10)  # ended (the in-process CLI may already have reaped it)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_task_commands_json_shapes_and_codes(crew_team: Any) -> None:
    crew = crew_team
    added = json.loads(crew("task", "add", "first", "--team", "t", "--command", "echo hi", "--json").out)
    assert added == {
        "id": "1",
        "subject": "first",
        "description": "",
        "status": "pending",
        "blocks": [],
        "blockedBy": [],
        "metadata": {"command": "echo hi"},
        "blocked": False,
        "availability": "available",
    }
    second = json.loads(crew("task", "add", "second", "--team", "t", "--blocked-by", "1", "--json").out)
    assert second["blockedBy"] == ["1"] and second["blocked"] is True
    listed = json.loads(crew("task", "list", "--team", "t", "--json").out)
    assert [(t["id"], t["blocked"], t["blocks"]) for t in listed] == [("1", False, ["2"]), ("2", True, [])]
    assert json.loads(crew("task", "show", "2", "--team", "t", "--json").out)["blocked"] is True

    blocked = crew("task", "claim", "2", "--team", "t", "--as", "bob", "--json")
    assert blocked.code == 3
    err = json.loads(blocked.err)
    assert (err["reason"], err["blockers"], err["exitCode"]) == ("blocked", ["1"], 3)
    claimed = json.loads(crew("task", "claim", "--team", "t", "--as", "alice", "--json").out)
    assert (claimed["id"], claimed["owner"]) == ("1", "alice")
    again = crew("task", "claim", "1", "--team", "t", "--as", "bob", "--json")
    assert again.code == 3 and json.loads(again.err)["reason"] == "already_claimed"
    assert json.loads(again.err)["owner"] == "alice"
    none = crew("task", "claim", "--team", "t", "--as", "bob", "--json")
    assert none.code == 3 and json.loads(none.err)["reason"] == "none_available"
    third = json.loads(crew("task", "add", "third", "--team", "t", "--json").out)["id"]
    busy = crew("task", "claim", third, "--team", "t", "--as", "alice", "--check-busy", "--json")
    assert busy.code == 3 and json.loads(busy.err)["reason"] == "agent_busy"

    done = crew("task", "update", "1", "--team", "t", "--status", "completed", "--subject", "1st", "--json")
    assert json.loads(done.out)["status"] == "completed" and json.loads(done.out)["subject"] == "1st"
    resolved = crew("task", "claim", "1", "--team", "t", "--as", "bob", "--json")
    assert resolved.code == 3 and json.loads(resolved.err)["reason"] == "already_resolved"
    assert json.loads(crew("task", "show", "2", "--team", "t", "--json").out)["blocked"] is False
    edged = crew("task", "update", third, "--team", "t", "--add-blocks", "2", "--active-form", "Doing", "--json")
    assert json.loads(edged.out)["blocks"] == ["2"] and json.loads(edged.out)["activeForm"] == "Doing"
    cycle = crew("task", "update", third, "--team", "t", "--add-blocked-by", "2")
    assert cycle.code == 2 and "cycle" in cycle.err
    owner = crew("task", "update", "2", "--team", "t", "--owner", "bob", "--json")
    assert json.loads(owner.out)["owner"] == "bob"
    assert crew("task", "update", "2", "--team", "t", "--owner", "mallory").code == 2
    deleted = crew("task", "update", third, "--team", "t", "--status", "deleted", "--json")
    assert json.loads(deleted.out) == {"id": third, "deleted": True}
    assert json.loads(crew("task", "show", "2", "--team", "t", "--json").out)["blockedBy"] == ["1"]

    assert crew("task", "show", "99", "--team", "t").code == 2
    assert crew("task", "show", "abc", "--team", "t").code == 2
    assert crew("task", "update", "2", "--team", "t", "--status", "bogus").code == 2
    assert crew("task", "claim", "--team", "t", "--as", "mallory").code == 2
    assert crew("task", "list", "--team", "ghost").code == 2
    assert crew("task", "list").code == 2
    assert crew("task", "claim", "--team", "t").code == 2
    assert crew("task", "frobnicate").code == 2


def test_msg_commands_json_shapes_and_codes(crew_team: Any, teams: TeamStore) -> None:
    crew = crew_team
    sent = crew("msg", "send", "bob", "hello", "--team", "t", "--as", "alice", "--json")
    doc = json.loads(sent.out)
    assert sent.code == 0 and doc["to"] == "bob" and doc["state"] == "sent" and len(doc["msgId"]) == 32
    plain = crew("msg", "send", "bob", "again", "--team", "t", "--as", "alice")
    plain_id = plain.out.strip()
    assert len(plain_id) == 32
    unknown = crew("msg", "send", "mallory", "x", "--team", "t", "--as", "alice")
    assert unknown.code == 2 and "mallory" in unknown.err
    assert not teams.paths("t").inbox("mallory").exists()
    assert crew("msg", "send", "bob", "x", "--team", "t", "--as", "mallory").code == 2
    assert crew("msg", "send", "bob", "x", "--team", "t").code == 2
    big = crew("msg", "send", "bob", "x" * (256 * 1024 + 1), "--team", "t", "--as", "alice")
    assert big.code == 2 and "limit" in big.err

    status = json.loads(crew("msg", "status", doc["msgId"], "--team", "t", "--json").out)
    assert status["state"] == "sent" and status["to"] == "bob" and status["from"] == "alice"
    box = json.loads(crew("msg", "inbox", "--team", "t", "--as", "bob", "--unread", "--mark-read", "--json").out)
    assert [(m["from"], m["text"], m["read"]) for m in box] == [("alice", "hello", False), ("alice", "again", False)]
    assert json.loads(crew("msg", "inbox", "--team", "t", "--as", "bob", "--unread", "--json").out) == []
    for msg_id in (doc["msgId"], plain_id):
        assert json.loads(crew("msg", "status", msg_id, "--team", "t", "--json").out)["state"] == "read"
    assert crew("msg", "status", "f" * 32, "--team", "t").code == 2

    cast = json.loads(crew("msg", "broadcast", "all", "--team", "t", "--as", "alice", "--json").out)
    assert sorted(cast["msgIds"]) == ["bob", "team-lead"]
    waited = crew("msg", "wait", "--team", "t", "--as", "bob", "--timeout", "5", "--mark-read", "--json")
    assert waited.code == 0 and json.loads(waited.out)["msg_id"] == cast["msgIds"]["bob"]
    timed_out = crew("msg", "wait", "--team", "t", "--as", "bob", "--timeout", "0.2")
    assert timed_out.code == 4 and "no message" in timed_out.err


def test_inbox_mark_read_leaves_a_message_arriving_meanwhile_unread(
    crew_team: Any, teams: TeamStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_inbox = Mailbox.inbox

    def inbox_then_arrival(self: Mailbox, agent: str, *, unread_only: bool = False) -> list[Any]:
        shown = real_inbox(self, agent, unread_only=unread_only)
        self.send(agent, "arrived meanwhile", sender="alice")
        return shown

    monkeypatch.setattr(Mailbox, "inbox", inbox_then_arrival)
    assert json.loads(crew_team("msg", "inbox", "--team", "t", "--as", "bob", "--mark-read", "--json").out) == []
    monkeypatch.undo()
    (unread,) = Mailbox(teams, "t").inbox("bob", unread_only=True)
    assert unread.text == "arrived meanwhile"


def test_env_defaults_for_team_and_agent(crew_team: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    crew = crew_team
    monkeypatch.setenv("CREWMUX_TEAM", "t")
    monkeypatch.setenv("CREWMUX_AGENT", "alice")
    assert crew("task", "add", "envtask").code == 0
    claimed = json.loads(crew("task", "claim", "--json").out)
    assert claimed["owner"] == "alice"
    msg_id = crew("msg", "send", "bob", "from env").out.strip()
    assert json.loads(crew("msg", "status", msg_id, "--json").out)["from"] == "alice"
    # An explicit flag wins over the environment.
    assert json.loads(crew("msg", "inbox", "--as", "bob", "--json").out)[0]["text"] == "from env"
    monkeypatch.setenv("CREWMUX_TEAM", "ghost")
    assert crew("task", "list").code == 2


def test_home_flag_overrides_env(crew: Any, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    assert crew("--home", str(other), "team", "create", "x").code == 0
    assert (other / "teams" / "x" / "config.json").exists()
    assert json.loads(crew("team", "list", "--json").out) == []
    assert [t["name"] for t in json.loads(crew("team", "list", "--home", str(other), "--json").out)] == ["x"]


def _watching(pid: int) -> bool:
    """True once process ``pid`` holds an inotify instance with at least one watch."""
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir() if fds.is_dir() else []:
        try:
            if (
                os.readlink(fd) == "anon_inode:inotify"
                and "inotify wd:" in Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
            ):
                return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="reads inotify state from /proc (Linux)")
def test_msg_wait_in_another_process_wakes_on_later_send(cli: Any, home: Path) -> None:
    assert cli("team", "create", "w").code == 0
    assert cli("team", "join", "bob", "--team", "w").code == 0
    env = {**os.environ, "CREWMUX_HOME": str(home), "CREWMUX_TEAM": "w", "CREWMUX_AGENT": "bob"}
    waiter = subprocess.Popen(
        [sys.executable, "-m", "app", "msg", "wait", "--timeout", "30", "--json"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Send only once the waiter is inside its wait: it holds an inotify watch on the inbox dir.
        wait_until(lambda: _watching(waiter.pid), 30, "the waiter watches its inbox")
        assert waiter.poll() is None
        sent = cli("msg", "send", "bob", "wake up", "--team", "w", "--as", "team-lead")
        assert sent.code == 0
        out, err = waiter.communicate(timeout=30)
    finally:
        waiter.kill()
    assert waiter.returncode == 0, err
    got = json.loads(out)
    assert (got["text"], got["msg_id"]) == ("wake up", sent.out.strip())
    timed_out = cli("msg", "wait", "--team", "w", "--as", "team-lead", "--timeout", "0.3", "--json")
    assert timed_out.code == 4 and json.loads(timed_out.err)["exitCode"] == 4


def test_bare_crewmux_prints_the_overview(crew_team: Any) -> None:
    crew = crew_team
    crew("task", "add", "a", "--team", "t")
    res = crew()
    assert res.code == 0 and "t: 3 members, 0/1 tasks completed" in res.out and "alice" in res.out


def test_a_directory_in_place_of_an_inbox_is_refused_with_a_message(crew_team: Any, teams: TeamStore) -> None:
    teams.paths("t").inbox("bob").mkdir()  # the inbox cannot be read or replaced
    res = crew_team("msg", "send", "bob", "x", "--team", "t", "--as", "alice")
    assert res.code == 3 and res.out == "" and "is a directory, not a regular file" in res.err

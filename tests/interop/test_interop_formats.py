"""Interop mode reads every Claude Code file variant, keeps unknown fields, and writes what Claude Code writes."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path

import pytest

from app.core.atomic import add_problem_sink
from app.core.errors import ClaimRefused, LockTimeout
from app.core.interop import INTEROP_COMPACT_READ_AFTER
from app.core.locks import lock_path_for
from app.core.mailbox import Mailbox
from app.core.mkdir_lock import MkdirLock
from app.core.tasks import TaskStore
from app.core.team import TeamStore

OLD = {"from": "team-lead", "text": "old style", "timestamp": "2025-01-01T00:00:00.000Z", "read": True}
COLORED = {
    "from": "bob",
    "text": "with color",
    "timestamp": "2025-06-01T00:00:00.000Z",
    "read": False,
    "color": "green",
    "summary": "hi",
}
NEWER = {
    "from": "bob",
    "text": "newer",
    "timestamp": "2026-01-01T00:00:00.000Z",
    "read": False,
    "type": "message",
    "msgV": 1,
    "msg_id": "m-1",
    "futureKey": {"x": 1},
}


@pytest.fixture
def teams(tmp_path: Path) -> TeamStore:
    store = TeamStore(tmp_path / "claude", interop=True)
    store.create("crew")
    store.join("crew", "alice")
    store.join("crew", "bob")
    return store


def _inbox(teams: TeamStore, agent: str) -> Path:
    return teams.paths("crew").inbox(agent)


def test_every_inbox_variant_is_read_and_kept_and_new_messages_look_like_claude_codes(teams: TeamStore) -> None:
    path = _inbox(teams, "alice")
    path.write_text(json.dumps([OLD, COLORED, NEWER]))
    box = Mailbox(teams, "crew")
    assert [m.text for m in box.inbox("alice")] == ["old style", "with color", "newer"]
    assert [m.text for m in box.inbox("alice", unread_only=True)] == ["with color", "newer"]

    msg_id = box.send("alice", "from crewmux", sender="bob", summary="s")
    on_disk = json.loads(path.read_text())
    assert on_disk[:3] == [OLD, COLORED, NEWER]  # read one kept, unknown key kept, nothing reordered
    new = on_disk[3]
    assert new["type"] == "message" and new["msgV"] == 1 and new["msg_id"] == msg_id
    assert {"from", "text", "timestamp", "read", "summary"} <= new.keys()
    assert new["from"] == "bob" and new["read"] is False


def test_read_messages_stay_in_claude_codes_inbox_until_the_threshold(teams: TeamStore) -> None:
    box = Mailbox(teams, "crew")
    for i in range(5):
        box.send("alice", f"m{i}", sender="bob")
    assert len(box.mark_read("alice")) == 5
    kept = json.loads(_inbox(teams, "alice").read_text())
    assert [m["read"] for m in kept] == [True] * 5  # marked read in place, as Claude Code does
    assert not teams.paths("crew").archive("alice").exists()

    # Past the threshold, the read ones move to crewmux's archive; nothing is lost.
    path = _inbox(teams, "alice")
    many = [{**OLD, "text": f"r{i}"} for i in range(INTEROP_COMPACT_READ_AFTER)]
    path.write_text(json.dumps(many + kept))
    box.send("alice", "last", sender="bob")
    assert [m["text"] for m in json.loads(path.read_text())] == ["last"]
    texts = [m.text for m, _ in box.history("alice")]
    assert texts == [f"r{i}" for i in range(INTEROP_COMPACT_READ_AFTER)] + [f"m{i}" for i in range(5)] + ["last"]


def test_a_half_written_inbox_is_waited_for_not_quarantined(teams: TeamStore) -> None:
    path = _inbox(teams, "alice")
    problems: list[object] = []
    unsubscribe = add_problem_sink(problems.append)
    seen: list[list[str]] = []
    claude = MkdirLock(path)
    claude.acquire()  # Claude Code, mid-way through an in-place write
    path.write_text('[{"from": "bob", "text": "hal')
    reader = threading.Thread(target=lambda: seen.append([m.text for m in Mailbox(teams, "crew").inbox("alice")]))
    reader.start()
    try:
        # Wait until the reader, having found the file torn, holds crewmux's flock and waits for Claude Code.
        fd = os.open(lock_path_for(path), os.O_RDWR | os.O_CREAT)
        try:
            for _ in range(4000):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(fd, fcntl.LOCK_UN)
                except BlockingIOError:
                    break
                reader.join(0.005)
            else:
                pytest.fail("the reader never went for the lock")
        finally:
            os.close(fd)
        path.write_text(json.dumps([{**COLORED, "text": "half"}]))
    finally:
        claude.release()
    reader.join(20)
    unsubscribe()
    assert seen == [["half"]]
    assert problems == []
    assert not list(path.parent.glob("*.corrupt-*"))


def test_tasks_keep_unknown_fields_and_claims_scan_the_files(teams: TeamStore) -> None:
    paths = teams.paths("crew")
    store = TaskStore(paths)
    one = store.create("first")
    two = store.create("second", blocked_by=[one.id])
    doc = json.loads(paths.task(one.id).read_text())
    doc["ccFutureField"] = [1, {"a": None}]
    doc["metadata"] = {"ccKey": "v"}
    paths.task(one.id).write_text(json.dumps(doc))

    claimed = store.claim(None, "alice")  # lowest available id, found by scanning the files
    assert claimed.id == one.id
    with pytest.raises(ClaimRefused) as refused:
        store.claim(None, "bob")
    assert refused.value.reason == "none_available"
    store.update(one.id, status="completed")
    assert store.claim(None, "bob").id == two.id

    kept = json.loads(paths.task(one.id).read_text())
    assert kept["ccFutureField"] == [1, {"a": None}]
    assert kept["metadata"] == {"ccKey": "v"}
    assert kept["status"] == "completed" and kept["owner"] == "alice"
    assert not paths.task_index.exists()  # crewmux's index is not kept in Claude Code's dir
    assert not [p for p in paths.tasks_dir.glob("*.lock") if p.is_dir()]  # no lock left (the ".lock" file stays)
    store.close()


def test_next_id_is_one_past_the_highest_on_disk_or_the_highwatermark(teams: TeamStore) -> None:
    paths = teams.paths("crew")
    store = TaskStore(paths)
    paths.tasks_dir.mkdir(parents=True, exist_ok=True)
    paths.task("10").write_text(json.dumps({"id": "10", "subject": "cc", "description": "", "status": "pending"}))
    paths.highwatermark.write_text("3")
    assert store.create("a").id == "11"
    paths.highwatermark.write_text("20")
    assert store.create("b").id == "21"
    store.close()


def test_a_create_waits_for_claude_codes_list_lock(teams: TeamStore) -> None:
    paths = teams.paths("crew")
    paths.tasks_dir.mkdir(parents=True, exist_ok=True)
    held = MkdirLock(paths.task_list_lock)  # Claude Code locks the file ".lock": its lock is ".lock.lock"
    held.acquire()
    assert held.lock_dir.name == ".lock.lock"
    store = TaskStore(paths, lock_timeout=0.3)
    with pytest.raises(LockTimeout):
        store.create("blocked")
    held.release()
    assert store.create("free").id == "1"
    store.close()


def test_a_crash_journal_is_replayed_only_under_claude_codes_task_locks(teams: TeamStore) -> None:
    paths = teams.paths("crew")
    store = TaskStore(paths, lock_timeout=0.3)
    one = store.create("one")
    two = store.create("two")
    replay = {str(paths.task(one.id)): one.model_copy(update={"subject": "replayed"}).to_json()}
    paths.task_journal.write_text(json.dumps(replay))
    claude = MkdirLock(paths.task(one.id))
    claude.acquire()  # Claude Code is changing task 1
    with pytest.raises(LockTimeout):
        store.update(two.id, subject="two!")
    assert store.get(one.id).subject == "one"  # not overwritten under Claude Code's feet
    claude.release()
    store.update(two.id, subject="two!")
    assert store.get(one.id).subject == "replayed"
    assert not paths.task_journal.exists()
    store.close()


def test_release_gives_back_only_the_agents_unfinished_tasks(teams: TeamStore) -> None:
    store = TaskStore(teams.paths("crew"))
    a, b, c = (store.create(s) for s in ("a", "b", "c"))
    store.claim(a.id, "alice")
    store.claim(b.id, "alice")
    store.claim(c.id, "bob")
    store.update(b.id, status="completed")
    assert store.release("alice") == [a.id]
    after = {t.id: (t.owner, t.status) for t in store.list_tasks()}
    assert after == {a.id: (None, "pending"), b.id: ("alice", "completed"), c.id: ("bob", "pending")}
    assert store.claim(None, "carol").id == a.id
    assert not [p for p in teams.paths("crew").tasks_dir.glob("*.lock") if p.is_dir()]
    store.close()


def test_an_empty_inbox_claude_code_left_is_empty_not_corrupt(teams: TeamStore) -> None:
    """Seen under ``crewmux claude``: the real lead's inbox, empty (0 bytes); the console moved it aside."""
    path = _inbox(teams, "team-lead")
    problems: list[object] = []
    unsubscribe = add_problem_sink(problems.append)
    try:
        path.write_text("")
        box = Mailbox(teams, "crew")
        assert box.inbox("team-lead") == [] and box.history("team-lead") == []
        assert path.exists() and path.read_text() == "" and problems == []  # left where it is, unreported
        box.send("team-lead", "after the empty file", sender="alice")
        assert [m.text for m in box.inbox("team-lead")] == ["after the empty file"]
    finally:
        unsubscribe()
    assert not list(path.parent.glob("*.corrupt-*"))

"""The task list: ids, updates, symmetric edges, cycles, claims and their refusal reasons."""

from __future__ import annotations

import json

import pytest

from app.core.errors import BadInput, ClaimRefused, DependencyCycle, TaskNotFound
from app.core.tasks import TaskStore


def edges_symmetric(store: TaskStore) -> None:
    tasks = {t.id: t for t in store.list_tasks()}
    for t in tasks.values():
        for b in t.blocked_by:
            assert t.id in tasks[b].blocks, f"{t.id} blockedBy {b} but {b} does not block it"
        for d in t.blocks:
            assert t.id in tasks[d].blocked_by, f"{t.id} blocks {d} but {d} is not blocked by it"


def refusal(store: TaskStore, task_id: str | None, agent: str, **kw: bool) -> ClaimRefused:
    with pytest.raises(ClaimRefused) as info:
        store.claim(task_id, agent, **kw)
    return info.value


def test_create_ids_never_reused(tasks: TaskStore) -> None:
    ids = [tasks.create(f"t{i}").id for i in range(3)]
    assert ids == ["1", "2", "3"]
    tasks.update("3", status="deleted")
    tasks.delete("2")
    assert tasks.paths.highwatermark.read_text().strip() == "3"
    assert tasks.create("t4").id == "4"
    assert [t.id for t in tasks.list_tasks()] == ["1", "4"]
    on_disk = json.loads(tasks.paths.task("4").read_text())
    assert on_disk == {
        "id": "4",
        "subject": "t4",
        "description": "",
        "status": "pending",
        "blocks": [],
        "blockedBy": [],
    }


def test_create_and_get_inputs(tasks: TaskStore) -> None:
    with pytest.raises(BadInput):
        tasks.create("")
    with pytest.raises(BadInput):
        tasks.create("x" * 501)
    with pytest.raises(TaskNotFound):
        tasks.create("x", blocked_by=["9"])
    with pytest.raises(BadInput):
        tasks.get("../1")
    with pytest.raises(TaskNotFound):
        tasks.get("42")
    assert tasks.list_tasks() == []


def test_update_fields_and_metadata_merge(tasks: TaskStore) -> None:
    tid = tasks.create("old", metadata={"command": "true", "keep": 1}).id
    t = tasks.update(tid, subject="new", description="d", active_form="Doing it", status="in_progress", owner="alice")
    assert t is not None
    assert (t.subject, t.description, t.active_form, t.status, t.owner) == (
        "new",
        "d",
        "Doing it",
        "in_progress",
        "alice",
    )
    t = tasks.update(tid, metadata={"command": None, "extra": [1, 2]})
    assert t is not None and t.metadata == {"keep": 1, "extra": [1, 2]}
    t = tasks.update(tid, metadata={"keep": None, "extra": None}, owner=None)
    assert t is not None and t.metadata is None and t.owner is None
    assert "metadata" not in json.loads(tasks.paths.task(tid).read_text())
    with pytest.raises(BadInput):
        tasks.update(tid, status="bogus")  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        tasks.update(tid, subject="")
    assert tasks.get(tid).subject == "new"


def test_add_edges_symmetric_both_ways(tasks: TaskStore) -> None:
    a, b, c = (tasks.create(s).id for s in "abc")
    tasks.update(b, add_blocked_by=[a])
    tasks.update(a, add_blocks=[c])
    assert tasks.get(a).blocks == [b, c]
    assert tasks.get(b).blocked_by == [a] and tasks.get(c).blocked_by == [a]
    tasks.update(b, add_blocked_by=[a])  # adding twice changes nothing
    assert tasks.get(a).blocks == [b, c]
    edges_symmetric(tasks)
    with pytest.raises(TaskNotFound):
        tasks.update(a, add_blocks=["99"])


def test_cycles_refused_direct_transitive_and_within_one_update(tasks: TaskStore) -> None:
    a, b, c = (tasks.create(s).id for s in "abc")
    with pytest.raises(DependencyCycle):
        tasks.update(a, add_blocked_by=[a])
    tasks.update(b, add_blocked_by=[a])
    with pytest.raises(DependencyCycle):
        tasks.update(a, add_blocked_by=[b])
    tasks.update(c, add_blocked_by=[b])
    with pytest.raises(DependencyCycle):
        tasks.update(a, add_blocked_by=[c])
    with pytest.raises(DependencyCycle):
        tasks.update(c, add_blocks=[a])
    d = tasks.create("d").id
    with pytest.raises(DependencyCycle):
        tasks.update(d, add_blocked_by=[c], add_blocks=[c])
    assert tasks.get(d).blocked_by == [] and tasks.get(c).blocks == []
    edges_symmetric(tasks)


def test_claim_refusal_reasons(tasks: TaskStore) -> None:
    a = tasks.create("a").id
    b = tasks.create("b", blocked_by=[a]).id
    c = tasks.create("c").id
    assert tasks.claim(a, "alice").owner == "alice"
    assert tasks.claim(a, "alice").owner == "alice"  # claiming your own task again is fine
    got = refusal(tasks, a, "bob")
    assert (got.reason, got.owner) == ("already_claimed", "alice")
    got = refusal(tasks, b, "bob")
    assert (got.reason, got.blockers) == ("blocked", (a,))
    assert a in str(got)
    got = refusal(tasks, c, "alice", check_busy=True)
    assert (got.reason, got.busy_with) == ("agent_busy", (a,))
    tasks.update(c, status="completed")
    got = refusal(tasks, c, "bob")
    assert got.reason == "already_resolved"
    assert refusal(tasks, None, "bob").reason == "none_available"
    with pytest.raises(TaskNotFound):
        tasks.claim("77", "bob")
    assert got.exit_code == 3


def test_claim_without_id_takes_lowest_available_and_completion_unblocks(tasks: TaskStore) -> None:
    a = tasks.create("a").id
    b = tasks.create("b", blocked_by=[a]).id
    c = tasks.create("c", blocked_by=[a, b]).id
    assert tasks.blocked(tasks.list_tasks()) == {a: [], b: [a], c: [a, b]}
    assert tasks.claim(None, "alice").id == a
    assert refusal(tasks, None, "bob").reason == "none_available"
    tasks.update(a, status="completed")
    assert tasks.claim(None, "bob").id == b
    assert tasks.open_blockers(c) == [b]
    tasks.update(b, status="completed")
    assert tasks.claim(None, "alice").id == c


def test_deleting_strips_edges_and_unblocks(tasks: TaskStore) -> None:
    a = tasks.create("a").id
    b = tasks.create("b", blocked_by=[a]).id
    c = tasks.create("c").id
    tasks.update(c, add_blocked_by=[b])
    tasks.update(a, status="deleted")
    assert tasks.get(b).blocked_by == []
    assert tasks.claim(None, "alice").id == b
    tasks.delete(b)
    assert tasks.get(c).blocked_by == [] and tasks.get(c).blocks == []
    edges_symmetric(tasks)
    assert tasks.update(c, status="deleted") is None
    with pytest.raises(TaskNotFound):
        tasks.delete(c)


def test_release_gives_back_unfinished_tasks(tasks: TaskStore) -> None:
    a, b, c = (tasks.create(s).id for s in "abc")
    tasks.claim(a, "alice")
    tasks.claim(b, "alice")
    tasks.update(b, status="in_progress")
    tasks.claim(c, "alice")
    tasks.update(c, status="completed")
    assert tasks.release("alice") == [a, b]
    assert [(t.owner, t.status) for t in tasks.list_tasks()] == [
        (None, "pending"),
        (None, "pending"),
        ("alice", "completed"),
    ]
    assert tasks.claim(None, "bob").id == a


def test_index_is_only_a_cache(tasks: TaskStore) -> None:
    a = tasks.create("a").id
    b = tasks.create("b").id
    # A hand edit behind crewmux's back: the index still lists "a" but the file says taken.
    raw = json.loads(tasks.paths.task(a).read_text())
    raw["owner"] = "someone"
    tasks.paths.task(a).write_text(json.dumps(raw))
    assert tasks.claim(None, "alice").id == b
    tasks.close()
    tasks._ready.drop()
    fresh = TaskStore(tasks.paths)
    try:
        assert refusal(fresh, None, "bob").reason == "none_available"
    finally:
        fresh.close()


def test_unknown_task_fields_kept_on_rewrite(tasks: TaskStore) -> None:
    a = tasks.create("a").id
    raw = json.loads(tasks.paths.task(a).read_text())
    raw["futureKey"] = [1, "x"]
    tasks.paths.task(a).write_text(json.dumps(raw))
    tasks.claim(a, "alice")
    tasks.update(a, status="completed", add_blocks=[tasks.create("b").id])
    again = json.loads(tasks.paths.task(a).read_text())
    assert again["futureKey"] == [1, "x"] and again["owner"] == "alice" and again["blocks"] == ["2"]

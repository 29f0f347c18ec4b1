"""The ready index is a cache: a damaged one is rebuilt on the spot, and busy checks stay cheap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.atomic import Problem, add_problem_sink
from app.core.errors import ClaimRefused
from app.core.task_locks import TaskLocks
from app.core.tasks import TaskStore


@pytest.fixture
def problems() -> Iterator[list[Problem]]:
    seen: list[Problem] = []
    remove = add_problem_sink(seen.append)
    yield seen
    remove()


def _damage(index: Path, how: str) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(index) + suffix).unlink(missing_ok=True)
    if how == "garbage":
        index.write_bytes(b"this is not a database at all " * 200)
    else:  # a real database cut short: the header is fine, the pages are not
        raw = index.read_bytes()
        index.write_bytes(raw[:100] + b"\xff" * (len(raw) - 100))


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_claims_and_adds_go_on_over_a_damaged_index(
    tasks: TaskStore, teams: object, team: str, how: str, problems: list[Problem]
) -> None:
    for i in range(5):
        tasks.create(f"task {i}")
    assert tasks.claim(None, "alice").id == "1"
    tasks.close()
    _damage(tasks.paths.task_index, how)
    fresh = TaskStore(tasks.paths)
    try:
        assert fresh.create("added after the damage").id == "6"
        assert fresh.claim(None, "bob").id == "2"
        with pytest.raises(ClaimRefused) as refused:
            fresh.claim(None, "alice", check_busy=True)
        assert refused.value.reason == "agent_busy" and refused.value.busy_with == ("1",)
    finally:
        fresh.close()
    assert any("ready index rebuilt" in p.message for p in problems)


def test_check_busy_reads_only_the_agents_own_tasks(tasks: TaskStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWMUX_FSYNC", "0")  # this counts reads; durability is tested elsewhere
    for i in range(300):
        tasks.create(f"task {i}")
    tasks.claim("250", "alice")
    tasks.claim("7", "bob")
    tasks.update("7", status="completed")
    reads: list[Path] = []
    real_peek, real_read = TaskLocks.peek, TaskLocks.read

    def peek(self: TaskLocks, path: Path) -> object:
        reads.append(path)
        return real_peek(self, path)

    def read(self: TaskLocks, path: Path) -> object:
        reads.append(path)
        return real_read(self, path)

    monkeypatch.setattr(TaskLocks, "peek", peek)
    monkeypatch.setattr(TaskLocks, "read", read)
    with pytest.raises(ClaimRefused) as refused:
        tasks.claim(None, "alice", check_busy=True)
    assert refused.value.busy_with == ("250",)
    assert len(reads) <= 2, reads  # not the 300 task files
    reads.clear()
    assert tasks.claim(None, "bob", check_busy=True).id == "1"  # bob's only task is completed
    assert len(reads) <= 4, reads
    tasks.update("250", owner="carol")  # handed over: alice is free, carol is busy
    assert tasks.claim(None, "alice", check_busy=True).id == "2"
    with pytest.raises(ClaimRefused):
        tasks.claim(None, "carol", check_busy=True)
    assert tasks.release("carol") == ["250"]
    assert tasks.claim("250", "carol", check_busy=True).owner == "carol"

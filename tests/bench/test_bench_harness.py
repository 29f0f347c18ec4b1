"""The benchmark harness and the benchmark's own parts work (no timing is asserted here)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import bench
from app.core.tasks import TaskStore
from bench import __main__ as harness
from bench.baseline_claude import BaselineInbox, BaselineTasks
from bench.core_claims import blockers_of, prepare_ours, run_claimers, write_tasks
from bench.core_wake import make_team, wake_latencies


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWMUX_FSYNC", "0")


def test_quick_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREWMUX_BENCH_QUICK", raising=False)
    assert bench.quick() is False
    monkeypatch.setenv("CREWMUX_BENCH_QUICK", "1")
    assert bench.quick() is True
    monkeypatch.setenv("CREWMUX_BENCH_QUICK", "0")
    assert bench.quick() is False


def test_percentile_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile(values, 99) == 99.0
    assert bench.percentile([3.0], 99) == 3.0


def test_harness_discovers_modules_in_name_order() -> None:
    names = harness.bench_modules()
    assert "bench_core" in names
    assert names == sorted(names)
    assert all(n.startswith("bench_") for n in names)


def test_harness_keeps_going_after_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    def fake(name: str, fail: bool) -> types.ModuleType:
        module = types.ModuleType(f"bench.{name}")

        def main() -> None:
            ran.append(name)
            if fail:
                raise RuntimeError("boom")

        module.main = main  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, f"bench.{name}", module)
        return module

    fake("bench_a_fails", True)
    fake("bench_b_works", False)
    monkeypatch.setattr(harness, "bench_modules", lambda: ["bench_a_fails", "bench_b_works"])
    assert harness.run() == 1
    out = capsys.readouterr().out
    assert ran == ["bench_a_fails", "bench_b_works"]
    assert "=== bench_a_fails" in out and "=== bench_b_works" in out
    assert "RuntimeError: boom" in out
    assert "FAILED: bench_a_fails" in out


def test_baseline_and_crewmux_claim_the_same_order(tmp_path: Path) -> None:
    total = 60
    ours_paths = write_tasks(tmp_path / "ours", total)
    prepare_ours(ours_paths)
    base = BaselineTasks(write_tasks(tmp_path / "base", total).tasks_dir)
    store = TaskStore(ours_paths)
    ours_order: list[int] = []
    base_order: list[int] = []
    try:
        for _ in range(total):
            task = store.claim(None, "solo")
            store.update(task.id, status="completed")
            ours_order.append(int(task.id))
            got = base.claim_lowest("solo")
            assert got is not None
            base.complete(got)
            base_order.append(int(got))
    finally:
        store.close()
    assert base.claim_lowest("solo") is None
    assert ours_order == base_order
    assert sorted(ours_order) == list(range(1, total + 1))
    position = {tid: n for n, tid in enumerate(ours_order)}
    for tid in ours_order:
        assert all(position[b] < position[tid] for b in blockers_of(tid))


@pytest.mark.parametrize("kind", ["crewmux", "baseline"])
def test_claimer_processes_take_every_task_once(tmp_path: Path, kind: str) -> None:
    total = 50
    paths = write_tasks(tmp_path, total)
    if kind == "crewmux":
        prepare_ours(paths)
    run = run_claimers(kind, tmp_path, 3, total, fsync=False, cap=120)
    assert run.claimed == total
    assert not run.capped
    finished = BaselineTasks(paths.tasks_dir).scan()
    assert all(t["status"] == "completed" for t in finished.values())


def test_baseline_inbox_round_trip(tmp_path: Path) -> None:
    inbox = BaselineInbox(tmp_path / "alice.json")
    inbox.send("lead", "one")
    inbox.send("lead", "two")
    assert [m["text"] for m in inbox.take_unread()] == ["one", "two"]
    assert inbox.take_unread() == []


def test_wake_benchmark_delivers_every_message(tmp_path: Path) -> None:
    make_team(tmp_path)
    latencies = wake_latencies("crewmux", tmp_path, 3, fsync=False)
    assert len(latencies) == 3
    assert all(v >= 0 for v in latencies)

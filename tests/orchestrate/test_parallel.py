"""Parallel mode: a 20-task DAG, N processes at once, dependencies respected, team task list used."""

from __future__ import annotations

import json
import signal
from typing import TYPE_CHECKING, Any

from app.core.tasks import TaskStore
from app.core.team import TeamStore
from tests.orchestrate.orch_helpers import read_checkpoint, write_checkpoint

if TYPE_CHECKING:
    from pathlib import Path

    from tests.orchestrate.orch_helpers import Iterate

WIDTH = 4


def dag() -> dict[str, list[str]]:
    """20 tasks: 8 roots, 6 that need two roots each, 4 on the next layer, then 2 joins."""
    deps: dict[str, list[str]] = {str(i): [] for i in range(1, 9)}
    for k, i in enumerate(range(9, 15)):
        deps[str(i)] = [str(1 + k), str(3 + k)]
    for k, i in enumerate(range(15, 19)):
        deps[str(i)] = [str(9 + k), str(11 + k)]
    deps["19"] = ["15", "16"]
    deps["20"] = ["17", "18", "19"]
    return deps


def start_checkpoint(path: Path) -> dict[str, list[str]]:
    deps = dag()
    tasks = [{"id": tid, "subject": f"square {tid}", "deps": d} for tid, d in deps.items()]
    write_checkpoint(path, {"remaining": tasks})
    return deps


def stamps(path: Path) -> dict[str, dict[str, list[float]]]:
    found: dict[str, dict[str, list[float]]] = {}
    for line in path.read_text().splitlines():
        ev = json.loads(line)
        found.setdefault(ev["id"], {}).setdefault(ev["ev"], []).append(ev["t"])
    return found


def max_concurrency(seen: dict[str, dict[str, list[float]]]) -> int:
    events: list[tuple[float, int]] = []
    for ev in seen.values():
        events += [(t, 1) for t in ev["start"]] + [(t, -1) for t in ev.get("end", [])]
    level = peak = 0
    for _t, step in sorted(events, key=lambda e: (e[0], e[1])):
        level += step
        peak = max(peak, level)
    return peak


def test_twenty_task_dag_runs_n_wide_and_respects_every_dependency(
    iterate: Iterate, checkpoint: Path, tmp_path: Path, home: Path
) -> None:
    deps = start_checkpoint(checkpoint)
    log = tmp_path / "stamps.jsonl"
    run = iterate(
        "--parallel", str(WIDTH), "--team", "dagteam", "--json", env={"ITER_STAMPS": str(log), "ITER_TASK_SLEEP": "0.8"}
    )
    assert run.code == 0, run.err
    cp = read_checkpoint(checkpoint)
    assert cp["status"] == "done"
    assert cp["remaining"] == []
    results = {r["id"]: r["result"] for r in cp["completed"]}
    assert results == {tid: {"task": tid, "square": int(tid) ** 2} for tid in deps}
    seen = stamps(log)
    assert all(len(seen[tid]["start"]) == 1 for tid in deps)  # each ran exactly once
    for tid, needs in deps.items():
        for dep in needs:
            assert seen[tid]["start"][0] >= seen[dep]["end"][0], f"task {tid} started before {dep} ended"
    assert max_concurrency(seen) == WIDTH
    summary = run.doc()
    assert (summary["completedTasks"], summary["failures"]) == (20, 0)

    # The team's task list shows every task, completed, with the same dependencies.
    store = TaskStore(TeamStore(home).paths("dagteam"))
    try:
        team_tasks = {t.metadata["iterateTask"]: t for t in store.list_tasks() if t.metadata}
        assert set(team_tasks) == set(deps)
        by_team_id = {t.id: key for key, t in team_tasks.items()}
        for tid, task in team_tasks.items():
            assert task.status == "completed"
            assert sorted(by_team_id[b] for b in task.blocked_by) == sorted(deps[tid])
    finally:
        store.close()


def test_parallel_crash_then_resume_completes_each_task_once(
    iterate: Iterate, checkpoint: Path, tmp_path: Path
) -> None:
    deps = start_checkpoint(checkpoint)
    env = {"ITER_STAMPS": str(tmp_path / "stamps.jsonl"), "ITER_TASK_SLEEP": "0.1"}
    crashed = iterate("--parallel", "3", env={**env, "CREWMUX_ITERATE_FAULT": "child-exited:4"})
    assert crashed.code == -signal.SIGKILL
    assert iterate("--parallel", "3").code == 2  # in flight: needs --resume
    run = iterate("--parallel", "3", "--resume", env=env)
    assert run.code == 0, run.err
    cp = read_checkpoint(checkpoint)
    assert sorted(r["id"] for r in cp["completed"]) == sorted(deps)
    assert (cp["status"], cp["remaining"], cp["in_flight"]) == ("done", [], [])


def test_failing_task_is_retried_with_its_learning(iterate: Iterate, checkpoint: Path, tmp_path: Path) -> None:
    flaky = (
        'if [ "$CREWMUX_ATTEMPT" = 1 ]; then echo "2: missing widget"; exit 4; fi; '
        'printf %s "$CREWMUX_LAST_LEARNING" > "$CREWMUX_RESULT.txt"; '
        'printf \'"%s"\' "$CREWMUX_TASK_ID" > "$CREWMUX_RESULT"'
    )
    tasks: list[dict[str, Any]] = [
        {"id": "1", "deps": []},
        {"id": "2", "deps": ["1"], "command": flaky},
        {"id": "3", "deps": ["2"]},
    ]
    write_checkpoint(checkpoint, {"remaining": tasks})
    run = iterate("--parallel", "2", env={"ITER_STAMPS": str(tmp_path / "s.jsonl"), "ITER_TASK_SLEEP": "0"})
    assert run.code == 0, run.err
    cp = read_checkpoint(checkpoint)
    assert cp["status"] == "done", run.out
    assert [r["id"] for r in cp["completed"]] == ["1", "2", "3"]
    assert cp["completed"][1]["result"] == "2"
    assert [(r["task_id"], r["outcome"]) for r in cp["iterations"]] == [
        ("1", "ok"),
        ("2", "failed"),
        ("2", "ok"),
        ("3", "ok"),
    ]
    assert cp["learnings"][0]["task_id"] == "2"
    assert "missing widget" in cp["learnings"][0]["output_tail"]
    handed = next(checkpoint.parent.glob(".checkpoint.json.run/*.result.json.txt")).read_text()
    assert "missing widget" in handed and "exited with status 4" in handed

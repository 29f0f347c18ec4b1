"""Iterations in panes: the tmux backend on a private server, and the in-process backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.orchestrate.orch_helpers import read_checkpoint, write_checkpoint

if TYPE_CHECKING:
    from pathlib import Path

    from tests.orchestrate.orch_helpers import Iterate


@pytest.mark.tmux
def test_iterations_run_in_tmux_panes(iterate: Iterate, checkpoint: Path, tmux_socket: str) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 3}})
    env = {"CREWMUX_TMUX_SOCKET": tmux_socket, "ITER_HANG_AT": "2"}
    run = iterate("--backend", "tmux", "--heartbeat-timeout", "1.5", env=env, timeout=120)
    assert run.code == 0, run.err
    cp = read_checkpoint(checkpoint)
    assert cp["state"]["log"] == [1, 2, 3]
    outcomes = [(r["number"], r["outcome"]) for r in cp["iterations"]]
    assert outcomes == [(1, "ok"), (2, "heartbeat"), (2, "ok"), (3, "ok")]
    assert all(r["cpu_s"] is not None for r in cp["iterations"] if r["outcome"] == "ok")


@pytest.mark.tmux
def test_parallel_tasks_in_tmux_panes(iterate: Iterate, checkpoint: Path, tmux_socket: str, tmp_path: Path) -> None:
    tasks = [{"id": str(i), "deps": [] if i < 4 else ["1", "2", "3"]} for i in range(1, 6)]
    write_checkpoint(checkpoint, {"remaining": tasks})
    env = {"CREWMUX_TMUX_SOCKET": tmux_socket, "ITER_STAMPS": str(tmp_path / "s.jsonl"), "ITER_TASK_SLEEP": "0.1"}
    run = iterate("--backend", "tmux", "--parallel", "3", env=env, timeout=120)
    assert run.code == 0, run.err
    cp = read_checkpoint(checkpoint)
    assert sorted(r["id"] for r in cp["completed"]) == ["1", "2", "3", "4", "5"]
    assert cp["completed"][-1]["result"]["square"] in (16, 25)


def test_in_process_backend_runs_iterations(iterate: Iterate, checkpoint: Path) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 2}})
    run = iterate("--backend", "in-process")
    assert run.code == 0, run.err
    assert read_checkpoint(checkpoint)["state"]["log"] == [1, 2]


def test_unknown_backend_is_refused_with_the_valid_names(iterate: Iterate) -> None:
    run = iterate("--backend", "carrier-pigeon")
    assert run.code == 2
    assert "carrier-pigeon" in run.err and "tmux" in run.err

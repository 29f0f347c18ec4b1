"""Exactly once across crashes: SIGKILL the orchestrator anywhere, --resume, same final state."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from typing import TYPE_CHECKING

import pytest

from app.core.liveness import is_alive
from tests.orchestrate.orch_helpers import REPO, child_env, iterate_argv, read_checkpoint, write_checkpoint

if TYPE_CHECKING:
    from pathlib import Path

    from tests.orchestrate.orch_helpers import Iterate


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("point", "settled_as"),
    [("intent-saved", "interrupted"), ("child-exited", "recovered"), ("folded", None)],
)
def test_crash_at_each_bookkeeping_point_loses_and_repeats_nothing(
    iterate: Iterate, checkpoint: Path, point: str, settled_as: str | None
) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 6}})
    crashed = iterate(env={"CREWMUX_ITERATE_FAULT": f"{point}:3"})
    assert crashed.code == -signal.SIGKILL
    if settled_as is not None:
        refused = iterate()
        assert refused.code == 2
        assert "--resume" in refused.err
    run = iterate("--resume", "--json")
    assert run.code == 0, run.err
    cp = read_checkpoint(checkpoint)
    assert cp["state"]["log"] == [1, 2, 3, 4, 5, 6]
    assert (cp["status"], cp["iteration"], cp["in_flight"]) == ("done", 6, [])
    third = [r["outcome"] for r in cp["iterations"] if r["number"] == 3]
    expected = {"interrupted": ["interrupted", "ok"], "recovered": ["recovered"], None: ["ok"]}[settled_as]
    assert third == expected


def test_orphaned_iteration_is_killed_and_rerun_once(iterate: Iterate, checkpoint: Path, home: Path) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 2}})
    pid_file = checkpoint.parent / f".{checkpoint.name}.run" / "iter-1.pid.json"
    orch = subprocess.Popen(
        iterate_argv(checkpoint),
        env=child_env(home, {"ITER_SLEEP": "30"}),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: pid_file.exists() and b"createTime" in pid_file.read_bytes())
        orphan = int(json.loads(pid_file.read_bytes())["pid"])
    finally:
        orch.kill()
        orch.wait()
    assert is_alive(orphan)
    run = iterate("--resume")
    assert run.code == 0, run.err
    assert not is_alive(orphan)
    cp = read_checkpoint(checkpoint)
    assert cp["state"]["log"] == [1, 2]
    assert [(r["number"], r["outcome"]) for r in cp["iterations"]] == [(1, "interrupted"), (1, "ok"), (2, "ok")]


def test_random_sigkills_then_resume_match_an_uninterrupted_run(
    iterate: Iterate, checkpoint: Path, home: Path, tmp_path: Path
) -> None:
    goal = 20
    clean = tmp_path / "clean" / "checkpoint.json"
    write_checkpoint(clean, {"state": {"goal": goal}})
    done = subprocess.run(iterate_argv(clean), env=child_env(home), cwd=REPO, capture_output=True, timeout=90)
    assert done.returncode == 0, done.stderr

    write_checkpoint(checkpoint, {"state": {"goal": goal}})
    rng = random.Random(20261123)
    kills = 0
    for _ in range(6):
        orch = subprocess.Popen(
            iterate_argv(checkpoint, "--resume"),
            env=child_env(home, {"ITER_SLEEP": "0.02"}),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            orch.wait(timeout=rng.uniform(0.4, 1.2))
        except subprocess.TimeoutExpired:
            orch.send_signal(signal.SIGKILL)
            kills += 1
        orch.wait()
    assert kills >= 1
    run = iterate("--resume")
    assert run.code == 0, run.err
    got, want = read_checkpoint(checkpoint), read_checkpoint(clean)
    assert got["state"] == want["state"]
    assert got["state"]["log"] == list(range(1, goal + 1))
    assert (got["status"], got["iteration"], got["in_flight"]) == ("done", goal, [])
    committed = [r["number"] for r in got["iterations"] if r["outcome"] in ("ok", "recovered")]
    assert committed == list(range(1, goal + 1))


def test_sigterm_stops_the_running_iteration_and_resume_reruns_it(
    iterate: Iterate, checkpoint: Path, home: Path
) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 2}})
    pid_file = checkpoint.parent / f".{checkpoint.name}.run" / "iter-1.pid.json"
    orch = subprocess.Popen(
        iterate_argv(checkpoint),
        env=child_env(home, {"ITER_SLEEP": "30"}),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: pid_file.exists() and b"createTime" in pid_file.read_bytes())
        child = int(json.loads(pid_file.read_bytes())["pid"])
        orch.terminate()
        assert orch.wait(timeout=20) == 130
    finally:
        orch.kill()
        orch.wait()
    assert not is_alive(child)
    run = iterate("--resume")
    assert run.code == 0, run.err
    assert read_checkpoint(checkpoint)["state"]["log"] == [1, 2]

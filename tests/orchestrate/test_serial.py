"""The serial loop with a scripted iteration: goal reached, caps, retries, corrupt checkpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from app.core.liveness import is_alive
from tests.orchestrate.orch_helpers import ITER_CMD, REPO, child_env, iterate_argv, read_checkpoint, write_checkpoint

if TYPE_CHECKING:
    from pathlib import Path

    from tests.orchestrate.orch_helpers import Iterate


def test_fifty_iterations_reach_the_goal(iterate: Iterate, checkpoint: Path) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 50}})
    run = iterate("--json", "--until-done")
    assert run.code == 0, run.err
    summary = run.doc()
    cp = read_checkpoint(checkpoint)
    assert cp["status"] == "done"
    assert cp["state"]["count"] == 50
    assert cp["state"]["log"] == list(range(1, 51))
    assert cp["iteration"] == 50
    assert [r["number"] for r in cp["iterations"]] == list(range(1, 51))
    assert all(r["outcome"] == "ok" and r["exit_status"] == 0 for r in cp["iterations"])
    assert all(r["cpu_s"] is not None and r["duration_s"] > 0 for r in cp["iterations"])
    assert cp["in_flight"] == []
    assert summary["iterations"] == 50
    assert summary["runs"] == 50
    assert summary["failures"] == 0
    assert summary["retries"] == 0
    assert len(summary["perIteration"]) == 50


def test_max_iterations_stops_and_until_done_reports_it(iterate: Iterate, checkpoint: Path) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 50}})
    run = iterate("--max-iterations", "3")
    assert run.code == 0, run.err
    assert "max-iterations" in run.out
    cp = read_checkpoint(checkpoint)
    assert (cp["status"], cp["state"]["log"]) == ("running", [1, 2, 3])
    run = iterate("--max-iterations", "5", "--until-done")
    assert run.code == 1
    assert read_checkpoint(checkpoint)["state"]["log"] == [1, 2, 3, 4, 5]


def test_failing_iteration_learning_reaches_the_next_one(iterate: Iterate, checkpoint: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen.jsonl"
    write_checkpoint(checkpoint, {"state": {"goal": 3}})
    run = iterate("--json", env={"ITER_FAIL_AT": "2", "ITER_SEEN": str(seen)})
    assert run.code == 0, run.err
    lines = [json.loads(x) for x in seen.read_text().splitlines()]
    assert [(x["n"], x["a"]) for x in lines] == [(1, 1), (2, 1), (2, 2), (3, 1)]
    assert lines[1]["last"] is None and lines[1]["all"] == []
    retry = lines[2]
    assert "frobnicator" in retry["last"]
    assert "exited with status 3" in retry["last"]
    assert retry["all"][0]["exit_status"] == 3
    assert "frobnicator" in retry["all"][0]["output_tail"]
    cp = read_checkpoint(checkpoint)
    assert cp["state"]["log"] == [1, 2, 3]  # the failed attempt changed nothing
    assert cp["learnings"][0]["iteration"] == 2
    assert [r["outcome"] for r in cp["iterations"]] == ["ok", "failed", "ok", "ok"]
    summary = run.doc()
    assert (summary["failures"], summary["retries"]) == (1, 1)


def test_retry_limit_fails_the_run(iterate: Iterate, checkpoint: Path) -> None:
    run = iterate("--retries", "2", "--json", command="echo broken; exit 5")
    assert run.code == 1
    cp = read_checkpoint(checkpoint)
    assert cp["status"] == "failed"
    assert [(r["number"], r["attempt"], r["exit_status"]) for r in cp["iterations"]] == [
        (1, 1, 5),
        (1, 2, 5),
        (1, 3, 5),
    ]
    assert run.doc()["stopReason"] == "retry-limit"
    assert len(cp["learnings"]) == 3


def test_hanging_iteration_is_killed_by_the_heartbeat(iterate: Iterate, checkpoint: Path) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 3}})
    run = iterate("--heartbeat-timeout", "1", env={"ITER_HANG_AT": "2"})
    assert run.code == 0, run.err
    cp = read_checkpoint(checkpoint)
    outcomes = [(r["number"], r["outcome"]) for r in cp["iterations"]]
    assert outcomes == [(1, "ok"), (2, "heartbeat"), (2, "ok"), (3, "ok")]
    hung = cp["iterations"][1]
    assert not is_alive(hung["pid"])
    assert hung["exit_status"] < 0  # killed by a signal
    assert "heartbeat" in cp["learnings"][0]["reason"]
    assert cp["state"]["log"] == [1, 2, 3]


def test_heartbeat_keeps_a_quiet_iteration_alive_and_the_timeout_still_applies(
    iterate: Iterate, checkpoint: Path
) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 1}})
    run = iterate("--heartbeat-timeout", "0.5", env={"ITER_SLEEP": "1.5"})
    assert run.code == 0, run.err
    assert [r["outcome"] for r in read_checkpoint(checkpoint)["iterations"]] == ["ok"]
    write_checkpoint(checkpoint, {"state": {"goal": 1}})
    run = iterate("--iteration-timeout", "0.5", "--retries", "0", env={"ITER_SLEEP": "30"})
    assert run.code == 1
    assert [r["outcome"] for r in read_checkpoint(checkpoint)["iterations"]] == ["timeout"]


def test_corrupt_checkpoint_is_quarantined_and_the_last_good_copy_used(iterate: Iterate, checkpoint: Path) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 10}})
    assert iterate("--max-iterations", "3").code == 0
    checkpoint.write_text("{ torn", encoding="utf-8")
    run = iterate("--max-iterations", "5")
    assert run.code == 0, run.err
    assert "corrupt" in run.err
    assert len(list(checkpoint.parent.glob("checkpoint.json.corrupt-*"))) == 1
    assert read_checkpoint(checkpoint)["state"]["log"] == [1, 2, 3, 4, 5]


def test_iteration_that_writes_garbage_is_rolled_back_and_retried(iterate: Iterate, checkpoint: Path) -> None:
    write_checkpoint(checkpoint, {"state": {"goal": 2}})
    garbage = 'echo "{oops" > "$CREWMUX_CHECKPOINT"'
    command = f'if [ "$CREWMUX_ITERATION$CREWMUX_ATTEMPT" = 21 ]; then {garbage}; else {ITER_CMD}; fi'
    run = iterate(command=command)
    assert run.code == 0, run.err
    cp = read_checkpoint(checkpoint)
    assert [r["outcome"] for r in cp["iterations"]] == ["ok", "bad-checkpoint", "ok"]
    assert cp["state"]["log"] == [1, 2]
    assert "does not validate" in cp["learnings"][0]["reason"]


def test_agent_iteration_gets_the_prompt_and_its_cost_is_recorded(
    iterate: Iterate, checkpoint: Path, tmp_path: Path, home: Path
) -> None:
    """A stand-in ``claude`` on PATH: it checks its prompt, works, prints a JSON result with usage."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "claude"
    result = '{"type": "result", "total_cost_usd": 0.25, "usage": {"input_tokens": 100, "output_tokens": 20}}'
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in *"count to two"*) ;; *) echo "no prompt"; exit 9;; esac\n'
        f"{ITER_CMD}\n"
        f"echo '{result}'\n"
    )
    fake.chmod(0o755)
    prompt = tmp_path / "prompt.md"
    prompt.write_text("Please count to two.")
    write_checkpoint(checkpoint, {"state": {"goal": 2}})
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    argv = iterate_argv(checkpoint, "--json")
    argv[argv.index("--command") : argv.index("--command") + 2] = ["--agent", "claude", "--prompt-file", str(prompt)]
    proc = subprocess.run(
        argv, env=child_env(home, env), cwd=REPO, capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    summary = json.loads(proc.stdout)
    assert (summary["tokens"], summary["costUsd"]) == (240, 0.5)
    assert [r["cost_usd"] for r in read_checkpoint(checkpoint)["iterations"]] == [0.25, 0.25]
    usage_cmd = 'echo \'{"tokens": 7, "cost_usd": 0.01}\' > "$CREWMUX_USAGE"; ' + ITER_CMD
    write_checkpoint(checkpoint, {"state": {"goal": 1}})
    assert iterate(command=usage_cmd).code == 0
    assert read_checkpoint(checkpoint)["iterations"][0]["tokens"] == 7


def test_the_python_iteration_helper_round_trips(iterate: Iterate, checkpoint: Path) -> None:
    program = (
        "from app.orchestrate import iteration as it; "
        "cp = it.load(); it.heartbeat(); "
        "cp['state']['n'] = cp['state'].get('n', 0) + it.number(); "
        "cp['status'] = 'done' if it.number() == 3 else 'running'; "
        "it.report_usage(tokens=5); it.save(cp)"
    )
    write_checkpoint(checkpoint, {"state": {}})
    run = iterate("--json", command=f'{sys.executable} -c "{program}"')
    assert run.code == 0, run.err
    assert read_checkpoint(checkpoint)["state"]["n"] == 1 + 2 + 3
    assert run.doc()["tokens"] == 15

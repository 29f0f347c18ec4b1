"""The iteration orchestrator: what a checkpointed iteration costs, and what parallel mode buys.

* Per-iteration overhead: ``crewmux iterate`` (intent saved, process started, checkpoint folded
  in, all fsynced) against the baseline of a bare loop that starts the same program with
  ``subprocess.run`` and does no bookkeeping at all.
* Parallel mode: a 20-task DAG whose tasks sleep, run with ``--parallel N`` against the same DAG
  one at a time (``--parallel 1``); the ideal speed-up is bounded by N and the DAG's depth.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench import Row, print_table, quick, ratio_text, verdict

if TYPE_CHECKING:
    from app.orchestrate.runner import Options

ITERATION = """
import json, os, sys, time
task = os.environ.get("CREWMUX_TASK_ID")
if task:
    time.sleep(float(os.environ.get("BENCH_SLEEP", "0")))
    with open(os.environ["CREWMUX_RESULT"], "w") as fh:
        fh.write("1")
    sys.exit(0)
path = os.environ.get("CREWMUX_CHECKPOINT")
if path:
    with open(path) as fh:
        cp = json.load(fh)
    cp["state"]["count"] = cp["state"].get("count", 0) + 1
    if cp["state"]["count"] >= cp["state"]["goal"]:
        cp["status"] = "done"
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(cp, fh)
    os.replace(tmp, path)
"""


def _dag() -> list[dict[str, object]]:
    deps: dict[str, list[str]] = {str(i): [] for i in range(1, 9)}
    for k, i in enumerate(range(9, 15)):
        deps[str(i)] = [str(1 + k), str(3 + k)]
    for k, i in enumerate(range(15, 19)):
        deps[str(i)] = [str(9 + k), str(11 + k)]
    deps["19"] = ["15", "16"]
    deps["20"] = ["17", "18", "19"]
    return [{"id": tid, "deps": d} for tid, d in deps.items()]


def _run(options: Options) -> float:
    from app.orchestrate.start import run

    started = time.monotonic()
    summary = run(options)
    assert summary.status == "done", summary.to_text()
    return time.monotonic() - started


def overhead_section(work: Path, script: Path) -> list[Row]:
    from app.orchestrate.runner import Options

    n = 10 if quick() else 50
    started = time.monotonic()
    for _ in range(n):
        subprocess.run([sys.executable, str(script)], check=True)
    bare = (time.monotonic() - started) / n
    cp = work / "serial.json"
    cp.write_text(json.dumps({"state": {"goal": n}}))
    options = Options(checkpoint=cp, argv=[sys.executable, str(script)], home=work / "home")
    ours = _run(options) / n
    return [
        Row(
            f"wall time per iteration ({n} iterations)",
            f"{ours * 1000:.1f} ms",
            f"{bare * 1000:.1f} ms",
            ratio_text(ours, bare),
            "< bare + 50 ms",
            verdict(ours < bare + 0.05),
        )
    ]


def parallel_section(work: Path, script: Path) -> list[Row]:
    from app.orchestrate.runner import Options

    pause = "0.05" if quick() else "0.2"
    walls: dict[int, float] = {}
    for width in (1, 4):
        cp = work / f"dag-{width}.json"
        cp.write_text(json.dumps({"remaining": _dag()}))
        options = Options(
            checkpoint=cp,
            argv=[sys.executable, str(script)],
            home=work / "home",
            parallel=width,
            extra_env={"BENCH_SLEEP": pause},
        )
        walls[width] = _run(options)
    speedup = walls[1] / walls[4]
    return [
        Row("20-task DAG, --parallel 1", f"{walls[1]:.2f} s"),
        Row(
            "20-task DAG, --parallel 4",
            f"{walls[4]:.2f} s",
            f"{walls[1]:.2f} s",
            ratio_text(walls[4], walls[1]),
            "speed-up >= 2.5x (bound: 20 tasks in 7 waves = 2.9x)",
            verdict(speedup >= 2.5),
        ),
    ]


def main() -> None:
    print(f"crewmux iterate, headless, task sleep {'0.05' if quick() else '0.2'} s; baseline: bare subprocess loop")
    with tempfile.TemporaryDirectory(prefix="crewmux-bench-orch-") as tmp:
        work = Path(tmp)
        script = work / "iteration.py"
        script.write_text(ITERATION)
        for title, section in (
            ("Per-iteration overhead (fresh process + checkpoint fold, fsync on)", overhead_section),
            ("Parallel DAG speed-up", parallel_section),
        ):
            started = time.monotonic()
            rows = section(work, script)
            print_table(f"{title}  [{time.monotonic() - started:.1f} s]", rows)


if __name__ == "__main__":
    main()

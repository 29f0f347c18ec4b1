"""A scripted iteration (no model) used by the orchestrator tests.

It reads $CREWMUX_CHECKPOINT, adds 1 to ``state.count``, appends its $CREWMUX_ITERATION to
``state.log`` and writes the checkpoint back atomically; once ``count`` reaches ``state.goal`` it
sets ``status`` to done. Behaviour knobs come from the environment:

* ITER_FAIL_AT=N     exit 3 (after printing a clue) on the first attempt of iteration N;
* ITER_HANG_AT=N     on the first attempt of iteration N, sleep forever without output or heartbeat;
* ITER_SLEEP=S       sleep S seconds before writing (touching the heartbeat meanwhile);
* ITER_SEEN=FILE     append the learnings this iteration was handed to FILE (one JSON line);
* parallel mode ($CREWMUX_TASK_ID set): sleep ITER_TASK_SLEEP seconds between writing start and
  end stamps to ITER_STAMPS, then write the result to $CREWMUX_RESULT.
"""

from __future__ import annotations

import json
import os
import sys
import time


def write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def task_mode(task_id: str) -> int:
    stamps = os.environ["ITER_STAMPS"]
    with open(stamps, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": task_id, "ev": "start", "t": time.time()}) + "\n")
    time.sleep(float(os.environ.get("ITER_TASK_SLEEP", "0.2")))
    with open(stamps, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": task_id, "ev": "end", "t": time.time()}) + "\n")
    write_atomic(os.environ["CREWMUX_RESULT"], json.dumps({"task": task_id, "square": int(task_id) ** 2}))
    return 0


def main() -> int:
    number = int(os.environ["CREWMUX_ITERATION"])
    attempt = int(os.environ["CREWMUX_ATTEMPT"])
    task_id = os.environ.get("CREWMUX_TASK_ID")
    if task_id:
        return task_mode(task_id)
    seen = os.environ.get("ITER_SEEN")
    if seen:
        with open(os.environ["CREWMUX_LEARNINGS"], encoding="utf-8") as fh:
            learned = json.load(fh)
        with open(seen, "a", encoding="utf-8") as fh:
            line = {"n": number, "a": attempt, "last": os.environ.get("CREWMUX_LAST_LEARNING"), "all": learned}
            fh.write(json.dumps(line) + "\n")
    if os.environ.get("ITER_FAIL_AT") == str(number) and attempt == 1:
        print(f"clue: iteration {number} tripped over the frobnicator", flush=True)
        return 3
    if os.environ.get("ITER_HANG_AT") == str(number) and attempt == 1:
        time.sleep(3600)
    pause = float(os.environ.get("ITER_SLEEP", "0"))
    if pause:
        end = time.monotonic() + pause
        while time.monotonic() < end:
            os.utime(os.environ["CREWMUX_HEARTBEAT"])
            time.sleep(min(0.05, pause))
    path = os.environ["CREWMUX_CHECKPOINT"]
    with open(path, encoding="utf-8") as fh:
        cp = json.load(fh)
    state = cp.setdefault("state", {})
    state["count"] = state.get("count", 0) + 1
    state.setdefault("log", []).append(number)
    if state["count"] >= state.get("goal", 10):
        cp["status"] = "done"
    write_atomic(path, json.dumps(cp))
    return 0


if __name__ == "__main__":
    sys.exit(main())

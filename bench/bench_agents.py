"""Teammate figures: how fast an idle worker reacts, DAG throughput, and how long shutdown takes.

Baselines: Claude Code teammates poll their inbox about once a second (DESIGN.md measured p50
524 ms / p99 1,116 ms for a 1 s poll), and its shutdown depends on the model agreeing (a
teammate that ignores the request is never stopped).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.core.liveness import create_time
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from app.lifecycle.shutdown import shutdown_member
from bench import Row, percentile, print_table, quick, ratio_text, verdict

POLL_P50_MS, POLL_P99_MS = 524.0, 1116.0


def _worker(home: Path, team: str, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--team", team, "--as", name],
        env={**os.environ, "CREWMUX_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def _wait(check: object, timeout: float = 20.0) -> float:
    t0 = time.perf_counter()
    while not (callable(check) and check()):
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("bench condition never came true")
        time.sleep(0.0005)
    return time.perf_counter()


def wake_section(home: Path) -> list[Row]:
    teams = TeamStore(home)
    teams.create("wake")
    store = TaskStore(teams.paths("wake"))
    mail = Mailbox(teams, "wake")
    proc = _worker(home, "wake", "w")
    n = 5 if quick() else 40
    task_ms: list[float] = []
    msg_ms: list[float] = []
    try:
        _wait(lambda: teams.load("wake").member("w") is not None)
        for _ in range(n):
            time.sleep(0.05)  # let it go idle again
            t0 = time.perf_counter()
            task = store.create("noop", metadata={"command": "true"})
            t1 = _wait(lambda tid=task.id: store.get(tid).owner == "w")
            task_ms.append((t1 - t0) * 1000)
            _wait(lambda tid=task.id: store.get(tid).status == "completed")
            time.sleep(0.05)
            t0 = time.perf_counter()
            mid = mail.send("w", "ping", sender=LEAD_NAME)
            t1 = _wait(lambda m=mid: mail.status(m).state == "read")
            msg_ms.append((t1 - t0) * 1000)
    finally:
        _stop([proc])
        store.close()
    rows = []
    for what, values in (
        ("task created -> idle worker claimed it", task_ms),
        ("message -> idle worker read it", msg_ms),
    ):
        for pct, base in ((50, POLL_P50_MS), (99, POLL_P99_MS)):
            ours = percentile(values, pct)
            rows.append(
                Row(
                    f"{what}, p{pct}",
                    f"{ours:.1f} ms",
                    f"{base:.0f} ms",
                    ratio_text(base, ours),
                    "p99 < 100 ms" if pct == 99 else "-",
                    verdict(ours < 100) if pct == 99 else "-",
                )
            )
    return rows


def dag_section(home: Path) -> list[Row]:
    teams = TeamStore(home)
    teams.create("dag")
    store = TaskStore(teams.paths("dag"))
    n = 15 if quick() else 60
    for i in range(1, n + 1):
        store.create(f"t{i}", blocked_by=[str(i - 1)] if i % 3 != 1 else [], metadata={"command": "true"})
    t0 = time.perf_counter()
    procs = [_worker(home, "dag", f"w{i}") for i in range(3)]
    try:
        t1 = _wait(lambda: all(t.status == "completed" for t in store.list_tasks()), 120)
    finally:
        _stop(procs)
        store.close()
    secs = t1 - t0
    return [Row(f"3 workers, {n}-task DAG of `true` (incl. process start)", f"{n / secs:.1f} tasks/s ({secs:.2f} s)")]


def shutdown_section(home: Path) -> list[Row]:
    teams = TeamStore(home)
    teams.create("deaf")
    code = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(600)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        teams.join("deaf", "mule", runtime=MemberRuntime(pid=proc.pid, pid_create_time=create_time(proc.pid)))
        timeout = 1.0
        result = shutdown_member(teams, "deaf", "mule", timeout=timeout)
    finally:
        _stop([proc])
    bound = timeout + 5
    return [
        Row(
            f"shutdown of a teammate that ignores request and SIGTERM (timeout {timeout:.0f} s)",
            f"{result.seconds:.2f} s",
            "never ends",
            "-",
            f"< {bound:.0f} s",
            verdict(result.seconds < bound),
        )
    ]


def main() -> None:
    print(
        "crewmux teammates: real worker processes; wake-ups by inotify. Baseline: Claude Code's 1 s inbox poll;"
        " ratio = baseline / crewmux (higher is better)."
    )
    with tempfile.TemporaryDirectory(prefix="crewmux-bench-agents-") as tmp:
        for i, (title, section) in enumerate(
            (
                ("Idle worker reaction (crewmux: inotify wake; baseline: 1 s poll)", wake_section),
                ("Worker throughput", dag_section),
                ("Shutdown that always ends", shutdown_section),
            )
        ):
            home = Path(tmp) / f"h{i}"
            home.mkdir()
            started = time.monotonic()
            rows = section(home)
            print_table(f"{title}  [{time.monotonic() - started:.1f} s]", rows)


if __name__ == "__main__":
    main()

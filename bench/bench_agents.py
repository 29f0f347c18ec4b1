"""Teammate figures: how fast an idle worker reacts, DAG throughput, and how long shutdown takes.

Baselines: an idle Claude Code teammate polls its inbox and the task list about once a second;
the baseline worker here does exactly that (``bench/baseline_claude.py``: a full task scan and a
JSON-array inbox under mkdir locks, every ``POLL_INTERVAL``), measured in the same run on the same
kind of work. Claude Code's shutdown depends on the model agreeing (a teammate that ignores the
request is never stopped).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from app.core.liveness import create_time
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from app.lifecycle.shutdown import shutdown_member
from bench import Row, percentile, print_table, quick, ratio_text, verdict
from bench.baseline_claude import POLL_INTERVAL, BaselineInbox, BaselineTasks


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


def _baseline_worker(tasks_dir: str, inbox: str, name: str) -> None:
    """Claude Code's idle teammate: every POLL_INTERVAL, read the inbox, then scan for a task."""
    tasks, box = BaselineTasks(Path(tasks_dir)), BaselineInbox(Path(inbox))
    while True:
        box.take_unread()
        task_id = tasks.claim_lowest(name)
        if task_id is not None:
            tasks.complete(task_id)  # the command is `true`: done at once
            continue
        time.sleep(POLL_INTERVAL)


def _reaction_times(
    create: Callable[[], str],
    owned: Callable[[str], bool],
    done: Callable[[str], bool],
    send: Callable[[], object],
    read: Callable[[object], bool],
    n: int,
    idle: Callable[[], float],
) -> tuple[list[float], list[float]]:
    """``n`` rounds: a task created -> owned (then completed), a message sent -> read; in ms.
    Before each step the worker is left idle for ``idle()`` seconds."""
    task_ms: list[float] = []
    msg_ms: list[float] = []
    for _ in range(n):
        time.sleep(idle())  # let it go idle again
        t0 = time.perf_counter()
        tid = create()
        task_ms.append((_wait(lambda t=tid: owned(t)) - t0) * 1000)
        _wait(lambda t=tid: done(t))
        time.sleep(idle())
        t0 = time.perf_counter()
        mid = send()
        msg_ms.append((_wait(lambda m=mid: read(m)) - t0) * 1000)
    return task_ms, msg_ms


def wake_section(home: Path) -> list[Row]:
    teams = TeamStore(home)
    n = 5 if quick() else 40
    n_base = 3 if quick() else 12  # each baseline round costs ~1 s of polling
    # crewmux: the built-in worker, woken by inotify.
    teams.create("wake")
    store = TaskStore(teams.paths("wake"))
    mail = Mailbox(teams, "wake")
    proc = _worker(home, "wake", "w")
    try:
        _wait(lambda: teams.load("wake").member("w") is not None)
        ours = _reaction_times(
            lambda: store.create("noop", metadata={"command": "true"}).id,
            lambda tid: store.get(tid).owner == "w",
            lambda tid: store.get(tid).status == "completed",
            lambda: mail.send("w", "ping", sender=LEAD_NAME),
            lambda mid: mail.status(str(mid)).state == "read",
            n,
            lambda: 0.05,
        )
    finally:
        _stop([proc])
        store.close()
    # Baseline: the same rounds against a 1 s poller.
    teams.create("poll")
    base_store = TaskStore(teams.paths("poll"))
    base_inbox = teams.paths("poll").inbox("bw").with_suffix(".base.json")
    sender = BaselineInbox(base_inbox)
    watch = BaselineTasks(teams.paths("poll").tasks_dir)
    rng = random.Random(1234)
    poller = mp.get_context("fork").Process(
        target=_baseline_worker, args=(str(teams.paths("poll").tasks_dir), str(base_inbox), "bw"), daemon=True
    )
    poller.start()

    def send_base() -> object:
        sender.send(LEAD_NAME, "ping")
        return None

    def read_base(_: object) -> bool:
        with contextlib.suppress(OSError, ValueError):
            return all(m.get("read") for m in json.loads(base_inbox.read_text()))
        return False

    try:
        base = _reaction_times(
            lambda: base_store.create("noop", metadata={"command": "true"}).id,
            lambda tid: watch.scan().get(tid, {}).get("owner") == "bw",  # read as Claude Code does: in place
            lambda tid: watch.scan().get(tid, {}).get("status") == "completed",
            send_base,
            read_base,
            n_base,
            lambda: rng.uniform(0.005, POLL_INTERVAL),  # a random phase of its poll
        )
    finally:
        poller.kill()
        poller.join(timeout=10)
        base_store.close()
    rows = []
    for what, values, base_values in (
        ("task created -> idle worker claimed it", ours[0], base[0]),
        ("message -> idle worker read it", ours[1], base[1]),
    ):
        for pct in (50, 99):
            mine, theirs = percentile(values, pct), percentile(base_values, pct)
            rows.append(
                Row(
                    f"{what}, p{pct} ({len(values)} rounds; base {len(base_values)})",
                    f"{mine:.1f} ms",
                    f"{theirs:.0f} ms",
                    ratio_text(theirs, mine),
                    "p99 < 100 ms" if pct == 99 else "-",
                    verdict(mine < 100) if pct == 99 else "-",
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

"""crewmux's own lock (:func:`app.core.locks.file_lock`, on ``filelock``) against the helper it
replaced, measured in the same run.

The previous helper (:func:`fcntl_lock` below, kept here as the baseline) took ``fcntl.flock`` on
an open descriptor and polled a busy lock with a growing step (0.2 ms up to 5 ms). crewmux's is
``filelock.FileLock`` on the same sidecar file with its poll interval tuned
(``app.core.locks.POLL_INTERVAL``, 5 ms); filelock's default 50 ms and 1 ms are measured beside it.
Figures:

* acquire+release per second, one process, no contention;
* lock-wait p50/p99 with 16 processes on one lock, each holding it for a small write;
* claims/s with 16 claimer processes over 2,000 tasks (the real TaskStore, fsync on), the
  list lock swapped for the candidate (the claimers are forked after the swap).

Goals (issue 14): filelock may serve as crewmux's lock only while its claims/s stays >= 5x the
Claude Code baseline (bench_core's goal; the baseline is measured here again) and its lock-wait
p99 stays within 1.25x of the previous helper's in this run.
"""

from __future__ import annotations

import fcntl
import multiprocessing as mp
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import filelock

import app.core.task_locks as task_locks
from app.core.atomic import FILE_MODE, atomic_write, ensure_dir, open_regular
from app.core.errors import LockTimeout
from app.core.locks import POLL_INTERVAL, file_lock, lock_path_for
from bench import Row, percentile, print_table, quick, ratio_text, verdict
from bench.core_claims import ClaimRun, prepare_ours, run_claimers, write_tasks

LockFn = Callable[[Path, float], AbstractContextManager[None]]


def filelock_lock(poll: float) -> LockFn:
    """``file_lock``'s contract (same sidecar, 0600, LockTimeout) on ``filelock.FileLock``."""

    @contextmanager
    def hold(path: Path, timeout: float = 30.0) -> Iterator[None]:
        lock = filelock.FileLock(lock_path_for(path), mode=FILE_MODE, thread_local=False)
        try:
            lock.acquire(timeout=timeout, poll_interval=poll)
        except filelock.Timeout:
            raise LockTimeout(lock_path_for(path), timeout) from None
        try:
            yield
        finally:
            lock.release()

    return hold


@contextmanager
def fcntl_lock(path: Path, timeout: float = 30.0) -> Iterator[None]:
    """The helper crewmux used before filelock: flock on an open descriptor, 0.2-5 ms growing step."""
    lock_file = lock_path_for(path)
    ensure_dir(lock_file.parent)
    fd = open_regular(lock_file, os.O_RDWR | os.O_CREAT)
    try:
        deadline = time.monotonic() + timeout
        step = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(lock_file, timeout) from None
                time.sleep(step)
                step = min(step * 2, 0.005)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


BASELINE = "previous helper (fcntl, 0.2-5 ms step)"
VARIANTS: dict[str, LockFn] = {
    BASELINE: fcntl_lock,
    f"crewmux: filelock poll {POLL_INTERVAL * 1000:g} ms": file_lock,
    "filelock poll 50 ms (its default)": filelock_lock(0.05),
    "filelock poll 1 ms": filelock_lock(0.001),
}


def uncontended_rate(lock: LockFn, work: Path, seconds: float) -> float:
    target = work / "solo"
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        with lock(target, 5.0):
            n += 1
    return n / seconds


def _contender(name: str, target: str, rounds: int, go: Any, out: Any) -> None:
    lock = VARIANTS[name]
    path = Path(target)
    waits = []
    go.wait()
    for i in range(rounds):
        t0 = time.perf_counter()
        try:
            with lock(path, 60.0):
                waits.append(time.perf_counter() - t0)
                atomic_write(path.with_name(f"data-{os.getpid()}"), str(i), fsync=False)  # a small write
        except LockTimeout:
            waits.append(time.perf_counter() - t0)  # starved for the whole timeout: it counts as that wait
    out.put(waits)


def lock_waits(name: str, work: Path, procs: int, rounds: int) -> list[float]:
    ctx = mp.get_context("fork")
    go = ctx.Barrier(procs)
    out = ctx.Queue()
    target = Path(tempfile.mkdtemp(prefix="wait-", dir=work)) / "list"
    workers = [ctx.Process(target=_contender, args=(name, str(target), rounds, go, out)) for _ in range(procs)]
    for w in workers:
        w.start()
    waits: list[float] = []
    for _ in workers:
        waits.extend(out.get(timeout=300))
    for w in workers:
        w.join(timeout=30)
    return waits


def claims_per_second(lock: LockFn, work: Path, procs: int, total: int, cap: float) -> ClaimRun:
    home = Path(tempfile.mkdtemp(prefix="claims-", dir=work))
    prepare_ours(write_tasks(home, total))
    saved = getattr(task_locks, "file_lock")  # noqa: B009 - the name task_locks bound at import
    setattr(task_locks, "file_lock", lock)  # noqa: B010 - the claimers are forked after this: they run with it
    try:
        return run_claimers("crewmux", home, procs, total, fsync=True, cap=cap)
    finally:
        setattr(task_locks, "file_lock", saved)  # noqa: B010


def main() -> None:
    procs, total = 16, 2000
    rounds = 40 if quick() else 200
    cap = 2.0 if quick() else 120.0
    with tempfile.TemporaryDirectory(prefix="crewmux-bench-locks-") as tmp:
        work = Path(tmp)
        base_home = Path(tempfile.mkdtemp(prefix="base-", dir=work))
        write_tasks(base_home, total)
        base = run_claimers("baseline", base_home, procs, total, fsync=False, cap=2.0 if quick() else 12.0)
        rows: list[Row] = []
        today_p99 = 0.0  # the previous helper's, measured first
        for name, lock in VARIANTS.items():
            rate = uncontended_rate(lock, work, 0.5 if quick() else 2.0)
            waits = lock_waits(name, work, procs, rounds)
            p50, p99 = percentile(waits, 50) * 1000, percentile(waits, 99) * 1000
            today_p99 = today_p99 or p99
            run = claims_per_second(lock, work, procs, total, cap)
            claims = run.per_second
            claims_ok = claims >= 5 * base.per_second and not run.lock_timeouts
            wait_ok = p99 <= 1.25 * today_p99
            rows += [
                Row(f"{name}: acquire+release/s, 1 proc", f"{rate:,.0f}/s"),
                Row(f"{name}: lock wait p50, {procs} procs", f"{p50:.2f} ms"),
                Row(
                    f"{name}: lock wait p99, {procs} procs",
                    f"{p99:.2f} ms",
                    f"{today_p99:.2f} ms (previous)",
                    ratio_text(p99, today_p99),
                    "<= 1.25x previous",
                    verdict(wait_ok),
                ),
                Row(
                    f"{name}: claims/s, {procs} procs, {total} tasks, fsync on",
                    f"{claims:,.0f}/s" + (f" ({run.lock_timeouts} lock timeouts)" if run.lock_timeouts else ""),
                    f"{base.per_second:,.0f}/s (Claude Code scheme)",
                    ratio_text(claims, base.per_second),
                    ">= 5x",
                    verdict(claims_ok),
                ),
            ]
        print_table("crewmux's own lock: filelock (tuned) vs the previous fcntl helper (same run)", rows)

"""Fixtures for teammate tests: real worker processes, reaped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def wait_until(check: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    """Return check()'s first truthy value; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class Workers:
    """Starts ``crewmux worker`` processes with their output in log files."""

    def __init__(self, home: Path, logs: Path) -> None:
        self.home = home
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, team: str, name: str, *extra: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--team", team, "--as", name, *extra],
            cwd=self.logs,
            env={**os.environ, "CREWMUX_HOME": str(self.home), "PYTHONPATH": str(REPO)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.logs.glob(f"{name}-*.log")))

    def reap(self) -> None:
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)


@pytest.fixture
def workers(home: Path, tmp_path: Path) -> Iterator[Workers]:
    logs = tmp_path / "work"
    logs.mkdir()
    w = Workers(home, logs)
    yield w
    w.reap()

"""An iteration in a pane (tmux, in-process, iTerm2) instead of a plain child process.

The pane runs :mod:`app.orchestrate.panerun`, which tees the command's output to the pane and to
the iteration's log and leaves its exit status and CPU time in a status file. Watching works as
for a headless process (heartbeat file or a growing log); a kill goes through the backend, which
kills the pane's whole process tree.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import TYPE_CHECKING

from app.core.atomic import atomic_write, ensure_dir
from app.core.errors import BackendError, BackendUnavailable
from app.orchestrate.process import KILL_GRACE, Finished, finished_record, overdue

if TYPE_CHECKING:
    from pathlib import Path

    from app.orchestrate.process import Launch
    from backends.base import PaneBackend, PaneHandle, PaneSpec


#: variables that describe the orchestrator's own terminal, not the pane's.
_NOT_PASSED = frozenset({"TMUX", "TMUX_PANE", "COLUMNS", "LINES", "TERM", "PWD", "OLDPWD", "SHLVL", "_"})


def load_backend(name: str) -> PaneBackend:
    """The named pane backend, checked to work here.

    Raises BadInput (unknown name) or BackendUnavailable (it cannot work here, naming the fix).
    """
    from app.lifecycle.teammates import Backends  # the one backend lookup

    backends = Backends()
    return backends.get(backends.choose(name))


def _spawn(backend: PaneBackend, spec: PaneSpec, tries: int = 3) -> PaneHandle:
    """Spawn, retrying a failure twice: when the previous iteration's pane was the last one, tmux
    may be shutting its server down just as the next pane is asked for."""
    for attempt in range(1, tries + 1):
        try:
            return backend.spawn(spec)
        except BackendUnavailable:
            raise
        except BackendError:
            if attempt == tries:
                raise
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


def _status_path(launch: Launch) -> Path:
    return launch.log.with_suffix(".status.json")


class PaneProcess:
    """One iteration running in a pane of ``backend``."""

    def __init__(self, launch: Launch, backend: PaneBackend, *, team: str, name: str) -> None:
        from backends.base import PaneSpec

        self.launch = launch
        self.backend = backend
        self.status = _status_path(launch)
        ensure_dir(launch.log.parent)
        launch.heartbeat.touch()
        for stale in (self.status, launch.usage):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        argv = [sys.executable, "-m", "app.orchestrate.panerun", str(self.status), str(launch.log), "--"]
        extra = {k: v for k, v in launch.env.items() if k not in _NOT_PASSED}
        spec = PaneSpec(team=team, name=name, argv=[*argv, *launch.argv], cwd=str(launch.cwd), env=extra, title=name)
        self.handle: PaneHandle = _spawn(backend, spec)
        self.started_at = time.time()
        self._started_mono = time.monotonic()
        self._kill_reason: str | None = None
        record = {"pid": self.handle.pid, "createTime": self.handle.pid_create_time, "paneId": self.handle.pane_id}
        atomic_write(launch.pid_file, json.dumps(record), fsync=False)

    @property
    def pid(self) -> int | None:
        return self.handle.pid

    def _finished(self, code: int | None, cpu: float | None) -> Finished:
        return finished_record(self.launch, self.started_at, self._kill_reason, code, cpu)

    def _read_status(self) -> tuple[int | None, float | None] | None:
        try:
            doc = json.loads(self.status.read_bytes())
        except (OSError, ValueError):
            return None
        code, cpu = doc.get("exit_status"), doc.get("cpu_s")
        return (code if isinstance(code, int) else None, float(cpu) if isinstance(cpu, int | float) else None)

    def kill(self, reason: str) -> None:
        """Kill the pane's process tree (SIGTERM, SIGKILL after a grace) and close the pane."""
        if self._kill_reason is None:
            self._kill_reason = reason
        with contextlib.suppress(BackendError):
            self.backend.kill(self.handle, grace=KILL_GRACE)

    def stop(self) -> None:
        """Kill the pane's process tree at once and close the pane."""
        with contextlib.suppress(BackendError):
            self.backend.kill(self.handle, grace=0.2)

    def poll(self) -> Finished | None:
        """None while it runs; how it ended once it has (killing it when silent or overdue)."""
        status = self._read_status()
        if status is not None:  # written as its last act: the pane closes on its own
            return self._finished(*status)
        if not self.backend.is_alive(self.handle):
            status = self._read_status()  # it may have written the status just before it ended
            return self._finished(*(status or (None, None)))
        if self._kill_reason is None:
            reason = overdue(self.launch, self._started_mono, self.started_at)
            if reason is not None:
                self.kill(reason)
        return None

    def wait(self, poll_interval: float = 0.05) -> Finished:
        """Block until it ends (still watching heartbeat and timeout)."""
        while True:
            done = self.poll()
            if done is not None:
                return done
            time.sleep(poll_interval)

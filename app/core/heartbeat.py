"""Teammate heartbeats: ``<team dir>/.crewmux/heartbeats/<name>.json``, written through the atomic helper.

A teammate process calls :func:`beat` every second or so (:class:`HeartbeatThread` does it in the
background). The liveness monitor reads them back with :func:`read_heartbeat`; a heartbeat older
than its stale limit, or whose process (pid plus start time) is gone, means the teammate is dead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from app.core.atomic import atomic_write, read_model
from app.core.liveness import create_time, is_alive
from app.core.paths import sanitize

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.paths import TeamPaths

log = logging.getLogger("crewmux")

DEFAULT_INTERVAL = 1.0
DEFAULT_STALE_AFTER = 5.0


class Heartbeat(BaseModel):
    """One teammate's last sign of life."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys")

    name: str = Field(description="The member's name.")
    pid: int = Field(description="Process id of the teammate process that wrote it.")
    pid_create_time: float | None = Field(default=None, description="psutil create time of that process.")
    at: float = Field(description="Epoch seconds of the beat.")
    state: str = Field(default="idle", description="idle, working, waiting_plan, stopping.")
    task_id: str | None = Field(default=None, description="The task it works on, if any.")

    def age(self, now: float | None = None) -> float:
        """Seconds since the beat."""
        return (time.time() if now is None else now) - self.at

    def process_alive(self) -> bool:
        """True while the process that wrote the beat still runs (same pid, same start)."""
        return is_alive(self.pid, self.pid_create_time)


def heartbeat_path(paths: TeamPaths, name: str) -> Path:
    """Where ``name``'s heartbeat lives."""
    return paths.runtime_dir / "heartbeats" / f"{sanitize(name, 'agent name')}.json"


def beat(paths: TeamPaths, name: str, *, state: str = "idle", task_id: str | None = None) -> Heartbeat:
    """Write a fresh heartbeat for this process. Raises StorageError when it cannot be written."""
    pid = os.getpid()
    hb = Heartbeat(name=name, pid=pid, pid_create_time=create_time(pid), at=time.time(), state=state, task_id=task_id)
    atomic_write(heartbeat_path(paths, name), hb.model_dump_json(), fsync=False)
    return hb


def read_heartbeat(paths: TeamPaths, name: str) -> Heartbeat | None:
    """The last heartbeat, or None when there is none (a corrupt one is quarantined)."""
    found = read_model(heartbeat_path(paths, name), Heartbeat)
    return found if isinstance(found, Heartbeat) else None


def clear_heartbeat(paths: TeamPaths, name: str) -> None:
    """Remove the heartbeat file (a clean exit)."""
    heartbeat_path(paths, name).unlink(missing_ok=True)


class HeartbeatThread:
    """Beats every ``interval`` seconds in a daemon thread; ``state``/``task_id`` are read each beat."""

    def __init__(self, paths: TeamPaths, name: str, *, interval: float = DEFAULT_INTERVAL) -> None:
        self.paths = paths
        self.name = name
        self.interval = interval
        self.state = "idle"
        self.task_id: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{name}", daemon=True)

    def set(self, state: str, task_id: str | None = None) -> None:
        """Change what the next beat says, and beat now."""
        self.state = state
        self.task_id = task_id
        beat(self.paths, self.name, state=state, task_id=task_id)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                beat(self.paths, self.name, state=self.state, task_id=self.task_id)
            except Exception:  # a full disk must not kill the teammate; the monitor will notice
                log.warning("heartbeat for %s could not be written", self.name, exc_info=True)

    def start(self) -> HeartbeatThread:
        beat(self.paths, self.name, state=self.state, task_id=self.task_id)
        self._thread.start()
        return self

    def stop(self, *, clear: bool = True) -> None:
        """Stop beating; remove the file when ``clear`` (a clean exit)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 1)
        if clear:
            clear_heartbeat(self.paths, self.name)

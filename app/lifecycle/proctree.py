"""Ending a process tree: SIGTERM to every process in it, SIGKILL to what is left after a grace."""

from __future__ import annotations

import contextlib

import psutil

from app.core.liveness import is_alive


def tree(pid: int, started: float | None = None) -> list[psutil.Process]:
    """The process and all its descendants (empty when it is gone or is a different process now)."""
    if not is_alive(pid, started):
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def terminate_tree(procs: list[psutil.Process], grace: float) -> list[int]:
    """SIGTERM each, wait up to ``grace`` s, SIGKILL the rest; returns the pids that needed SIGKILL."""
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.terminate()
    _gone, alive = psutil.wait_procs(procs, timeout=grace)
    killed = []
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.kill()
            killed.append(p.pid)
    psutil.wait_procs(alive, timeout=2)
    return killed

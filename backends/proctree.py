"""Ending a teammate's processes: SIGTERM to the whole tree, SIGKILL after a grace.

Used by every backend's ``kill``. The process is identified by pid *and* start time, so a pid
the kernel has handed to an unrelated process since is never signalled.
"""

from __future__ import annotations

import psutil

from app.core.liveness import is_alive


def process_tree(pid: int) -> list[psutil.Process]:
    """``pid`` and all its descendants (the parent first); empty when ``pid`` is gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def kill_tree(pid: int, started: float | None, *, grace: float = 3.0) -> bool:
    """SIGTERM ``pid``'s tree, wait up to ``grace`` s, SIGKILL what is left.

    Returns False (and signals nothing) when ``pid`` is not the process that started at
    ``started``; True once the tree is gone.
    """
    if not is_alive(pid, started):
        return False
    procs = process_tree(pid)
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=max(grace, 1.0))
    return True

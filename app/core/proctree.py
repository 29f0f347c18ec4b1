"""Ending a process tree: SIGTERM to every process in it, SIGKILL to what is left after a grace.

A process is identified by pid *and* start time, so a pid the kernel has handed to an unrelated
process since is never signalled. A process that vanished, or that crewmux may not signal
(``AccessDenied``), is passed over: neither escapes to the caller.
"""

from __future__ import annotations

import contextlib

import psutil

from app.core.liveness import is_alive

# How long to wait for SIGKILLed processes to be reaped before giving up on them.
_REAP_SECONDS = 2.0


def tree(pid: int, started: float | None = None) -> list[psutil.Process]:
    """The process and all its descendants, parent first (empty when it is gone or is a different process now)."""
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
    psutil.wait_procs(alive, timeout=_REAP_SECONDS)
    return killed


def kill_tree(pid: int, started: float | None, *, grace: float = 3.0) -> bool:
    """SIGTERM ``pid``'s tree, wait up to ``grace`` s, SIGKILL what is left.

    Returns False (and signals nothing) when ``pid`` is not the process that started at
    ``started``; True once the tree has been ended.
    """
    procs = tree(pid, started)
    if not procs:
        return False
    terminate_tree(procs, grace)
    return True

"""Is a recorded process still the same process? (pid plus create time, via psutil)."""

from __future__ import annotations

import psutil

# create_time is a float of seconds; two reads of the same process agree to the microsecond,
# a different process that reused the pid differs by far more than this.
_SAME_START_TOLERANCE = 0.01


def create_time(pid: int) -> float | None:
    """The process's start time, or None when there is no such process."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def is_alive(pid: int | None, started: float | None = None) -> bool:
    """True when ``pid`` runs, is not a zombie, and (if given) started at ``started``."""
    if not pid or pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return not (started is not None and abs(proc.create_time() - started) > _SAME_START_TOLERANCE)
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False

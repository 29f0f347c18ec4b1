"""How the console's process asks glibc's malloc to behave: set once, before its threads start.

The console is one long-lived process that reads the team's files on every change in worker
threads and frees what it parsed. Measured in the real console (8 idle tmux teammates, 10,000
messages to the lead; bench ``console``'s memory rows), glibc's defaults cost it memory that
nothing uses:

* **one arena per thread** (up to 8 per core): each worker thread that parses a pass gets an
  arena of its own, and each keeps its free space and fragments apart — ~1 MiB at start;
* **a sliding mmap threshold**: a large block (a read file, a parsed archive tail) is mapped on
  its own and unmapped when freed, but each such free raises the threshold to that block's size,
  so the next ones come from the heap, where they fragment it and the heap creeps up with the
  traffic (with one arena alone, 63.4 and 67.4 MiB after 10,000 messages; with the fixed
  thresholds too, 62.0 and 62.2). A fixed threshold keeps large blocks mapped, so freeing one
  returns it at once;
* **the trim threshold**: the heap's free top is given back once it passes 128 KiB (glibc's
  starting value, fixed here, since it slides with the mmap threshold otherwise).

Python's own allocator (pymalloc) serves objects of 512 bytes or less and is not affected. Only
glibc has ``mallopt``; elsewhere (musl, macOS) this does nothing. A user who sets any of glibc's
``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` keeps their own.
"""

from __future__ import annotations

import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
"""``mallopt`` parameters, from glibc's ``malloc.h``."""

ARENAS = 1
"""Arenas for the whole process: the console's threads take turns under Python's GIL anyway."""

MMAP_THRESHOLD = 128 * 1024
TRIM_THRESHOLD = 128 * 1024
"""glibc's own starting values, kept from sliding (setting either turns the sliding off)."""

USER_SETTINGS = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def tune_malloc() -> bool:
    """Apply the settings above to this process (call it before threads start). False when the C
    library is not glibc or refused one of them, or the user chose their own."""
    if not sys.platform.startswith("linux") or any(name in os.environ for name in USER_SETTINGS):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False  # not glibc
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = [
        mallopt(M_ARENA_MAX, ARENAS),
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD),
    ]
    return all(ok == 1 for ok in done)

"""How the built-in worker runs as a process: its command line, and children that die with it."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


def die_with_parent() -> Callable[[], None] | None:
    """A child-side hook that asks Linux to SIGKILL the child when the worker dies.

    libc is resolved here, in the parent, so the hook itself only makes one system call (no
    imports or allocations between fork and exec, which would be unsafe with threads running).
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return hook


DIE_WITH_PARENT = die_with_parent()


def own_argv() -> list[str]:
    """This process's command line in a form that can be run again (``python -m app`` spelled out)."""
    if sys.argv and sys.argv[0].endswith("__main__.py"):
        return [sys.executable, "-m", "app", *sys.argv[1:]]
    return list(sys.argv)

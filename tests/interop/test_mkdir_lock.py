"""Claude Code's mkdir lock protocol (proper-lockfile), as crewmux takes it in interop mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.errors import LockTimeout
from app.core.mkdir_lock import MkdirLock, mkdir_lock_path

HOLDER = """
import sys, time
from pathlib import Path
from app.core.mkdir_lock import MkdirLock
lock = MkdirLock(Path(sys.argv[1]), stale=float(sys.argv[2]))
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def _start_holder(target: Path, stale: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(target), str(stale)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_lock_is_a_directory_named_like_claude_codes(tmp_path: Path) -> None:
    target = tmp_path / "inbox.json"
    with MkdirLock(target):
        assert mkdir_lock_path(target).is_dir()
        assert mkdir_lock_path(target).name == "inbox.json.lock"
    assert not mkdir_lock_path(target).exists()


def test_a_live_holder_excludes_others_and_keeps_its_lock_fresh(tmp_path: Path) -> None:
    target = tmp_path / "task.json"
    holder = _start_holder(target, stale=1.0)
    try:
        # Longer than the stale time: the holder's refresher keeps the mtime young.
        with pytest.raises(LockTimeout):
            MkdirLock(target, timeout=2.5, stale=1.0).acquire()
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_blocks_for_at_most_the_stale_time(tmp_path: Path) -> None:
    target = tmp_path / "task.json"
    holder = _start_holder(target, stale=1.0)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert mkdir_lock_path(target).is_dir()  # left behind, as after a crash
    start = time.monotonic()
    with MkdirLock(target, timeout=10.0, stale=1.0):
        waited = time.monotonic() - start
    assert waited < 10.0
    assert not mkdir_lock_path(target).exists()

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


def test_a_killed_crewmux_holder_is_taken_over_at_once(tmp_path: Path) -> None:
    target = tmp_path / "inbox.json"
    holder = _start_holder(target, stale=10.0)  # Claude Code's own stale time
    note = MkdirLock(target).owner_note
    assert note.read_text().split()[0] == str(holder.pid)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    start = time.monotonic()
    with MkdirLock(target, timeout=5.0):  # not the 10 s a lock dir of unknown holder needs
        assert time.monotonic() - start < 2.0
    assert not note.exists() and not mkdir_lock_path(target).exists()


def test_claude_codes_own_lock_is_never_taken_early(tmp_path: Path) -> None:
    target = tmp_path / "inbox.json"
    os.mkdir(mkdir_lock_path(target))  # Claude Code holds it: a fresh dir, no crewmux note
    with pytest.raises(LockTimeout):
        MkdirLock(target, timeout=1.0).acquire()
    # A dead crewmux holder's note left over, but the dir was made again since (Claude Code took
    # the stale lock over): it is Claude Code's, and is respected.
    holder = _start_holder(tmp_path / "other.json", stale=10.0)
    note = MkdirLock(target).owner_note
    note.write_text(f"{holder.pid} 1.0")  # a pid that is not that process (wrong start time)
    long_ago = time.time() - 30
    os.utime(note, (long_ago, long_ago))
    holder.kill()
    holder.wait()
    with pytest.raises(LockTimeout):
        MkdirLock(target, timeout=1.0).acquire()

"""The baseline: what Claude Code's Agent Teams does with the same files, rebuilt in Python.

* Tasks: one JSON file per task. A change takes a per-task lock made the way proper-lockfile
  makes it, a DIRECTORY ``<file>.lock`` created with ``mkdir``, retried up to 30 times with an
  exponential wait from 5 ms to 100 ms. To find the lowest available task, every claim lists
  the task dir and reads every task file (a full scan), then checks pending / no owner / every
  blocker completed. Files are written in place, without fsync.
* Inbox: one JSON array per member, rewritten whole under the same kind of mkdir lock; the
  recipient polls it every second.

It reads the same on-disk format crewmux writes (camelCase JSON), so both sides of a
comparison work on identical task sets.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LOCK_RETRIES = 30
LOCK_MIN_WAIT = 0.005
LOCK_MAX_WAIT = 0.100
POLL_INTERVAL = 1.0


class LockBusy(Exception):
    """The mkdir lock was still held after every retry."""


@contextlib.contextmanager
def mkdir_lock(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` (a directory), retrying 30 times, 5 ms doubling up to 100 ms."""
    lock = path.with_name(path.name + ".lock")
    wait = LOCK_MIN_WAIT
    for attempt in range(LOCK_RETRIES + 1):
        try:
            os.mkdir(lock)
            break
        except FileExistsError:
            if attempt == LOCK_RETRIES:
                raise LockBusy(str(lock)) from None
            time.sleep(wait)
            wait = min(wait * 2, LOCK_MAX_WAIT)
    try:
        yield
    finally:
        os.rmdir(lock)


def _read_json(path: Path) -> Any:
    try:
        with open(path, "rb") as f:  # plain open(): the leanest read Python has, to be fair to the baseline
            return json.loads(f.read())
    except (FileNotFoundError, ValueError):
        return None  # Claude Code treats an unreadable file as absent.


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2))  # in place, no temp file, no fsync


class BaselineTasks:
    """A task dir handled as Claude Code handles it."""

    def __init__(self, tasks_dir: Path) -> None:
        self.dir = tasks_dir

    def scan(self) -> dict[str, dict[str, Any]]:
        """Every task, read from its file (the full scan a claim does)."""
        tasks: dict[str, dict[str, Any]] = {}
        for name in os.listdir(self.dir):
            if not name.endswith(".json"):
                continue
            data = _read_json(self.dir / name)
            if isinstance(data, dict) and "id" in data:
                tasks[str(data["id"])] = data
        return tasks

    @staticmethod
    def _available(task: dict[str, Any], tasks: dict[str, dict[str, Any]]) -> bool:
        if task.get("status") != "pending" or task.get("owner"):
            return False
        return all(tasks.get(b, {}).get("status", "completed") == "completed" for b in task.get("blockedBy", []))

    def claim_lowest(self, agent: str) -> str | None:
        """Scan, pick the lowest available id, lock it, re-check and take it; None when none."""
        while True:
            tasks = self.scan()
            ready = sorted((int(t) for t, task in tasks.items() if self._available(task, tasks)))
            if not ready:
                return None
            path = self.dir / f"{ready[0]}.json"
            try:
                with mkdir_lock(path):
                    task = _read_json(path)
                    if isinstance(task, dict) and task.get("status") == "pending" and not task.get("owner"):
                        task["owner"] = agent
                        _write_json(path, task)
                        return str(ready[0])
            except LockBusy:
                pass  # somebody else holds it: scan again

    def complete(self, task_id: str) -> None:
        """Mark a task completed under its lock."""
        path = self.dir / f"{task_id}.json"
        with mkdir_lock(path):
            task = _read_json(path)
            task["status"] = "completed"
            _write_json(path, task)


class BaselineInbox:
    """One member's inbox as a JSON array rewritten under a mkdir lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, sender: str, text: str) -> None:
        with mkdir_lock(self.path):
            messages = _read_json(self.path) or []
            messages.append({"from": sender, "text": text, "timestamp": time.time(), "read": False})
            _write_json(self.path, messages)

    def take_unread(self) -> list[dict[str, Any]]:
        """Read the unread messages and mark them read (one poll)."""
        with mkdir_lock(self.path):
            messages = _read_json(self.path) or []
            unread = [m for m in messages if not m.get("read")]
            if unread:
                for m in messages:
                    m["read"] = True
                _write_json(self.path, messages)
            return unread

    def poll(self, deadline: float) -> list[dict[str, Any]]:
        """Poll every second until something is unread or ``deadline`` (monotonic) passes."""
        while True:
            unread = self.take_unread()
            if unread or time.monotonic() >= deadline:
                return unread
            time.sleep(POLL_INTERVAL)

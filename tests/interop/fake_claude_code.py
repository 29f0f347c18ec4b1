"""A fake Claude Code writer: inboxes and tasks touched exactly as Claude Code does, no crewmux code.

Locking is proper-lockfile's as Claude Code configures it: ``mkdir <file>.lock``; on EEXIST, a
lock dir older than ``stale`` (10 s) is removed and taken over, otherwise retry — 30 retries,
5–100 ms apart (exponential, randomized); the holder refreshes the dir's mtime every
``stale / 2``; release = rmdir. No flock anywhere. Files are written in place (truncate + write),
as Claude Code writes them.

Run as a program::

    python fake_claude_code.py ROOT TEAM WORKER SENDS UPDATES CREATES LOG [READER]

It sends ``SENDS`` messages (text ``"<WORKER>-<i>"``) round-robin to ``alice``, ``bob`` and
``carol``, makes ``UPDATES`` task updates (metadata key ``"<WORKER>-<i>"`` on tasks 1..N,
round-robin over the tasks present at start) and ``CREATES`` new tasks (subject
``"<WORKER>-new-<i>"``) under the list lock ``.lock``. With ``READER`` it also marks that
member's inbox read every 10 operations, as a Claude Code teammate reading its inbox. Every
lock holder appends ``enter <pid> <lock>`` / ``exit <pid> <lock>`` to ``LOG`` while holding.
Prints one JSON line of counters at the end.

    python fake_claude_code.py send|try-send ROOT TEAM TO TEXT

sends one message; ``send`` retries until it is written, ``try-send`` exits 3 once Claude
Code's retry budget is spent.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RETRIES = 30
MIN_WAIT = 0.005
MAX_WAIT = 0.1
STALE = 10.0


class LockBusy(Exception):
    """The retry budget ran out (Claude Code would report the write as failed)."""


class MkdirLockCC:
    """proper-lockfile, as Claude Code calls it."""

    def __init__(self, lock_dir: Path, log: Path | None) -> None:
        self.lock_dir = lock_dir
        self.log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _try(self) -> bool:
        try:
            os.mkdir(self.lock_dir)
            return True
        except FileExistsError:
            pass
        try:
            mtime = self.lock_dir.stat().st_mtime
        except FileNotFoundError:
            return False  # released meanwhile: the next retry will take it
        if time.time() - mtime > STALE:
            try:
                os.rmdir(self.lock_dir)
            except OSError:
                return False
            try:
                os.mkdir(self.lock_dir)
                return True
            except FileExistsError:
                return False
        return False

    def __enter__(self) -> MkdirLockCC:
        for attempt in range(RETRIES + 1):
            if self._try():
                break
            if attempt == RETRIES:
                raise LockBusy(str(self.lock_dir))
            time.sleep(min(MAX_WAIT, MIN_WAIT * (2**attempt) * random.uniform(1, 2)))
        self._thread = threading.Thread(target=self._refresh, daemon=True)
        self._thread.start()
        _log(self.log, "enter", self.lock_dir)
        return self

    def _refresh(self) -> None:
        while not self._stop.wait(STALE / 2):
            try:
                os.utime(self.lock_dir)
            except OSError:
                return

    def __exit__(self, *exc: object) -> None:
        _log(self.log, "exit", self.lock_dir)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        os.rmdir(self.lock_dir)


def _log(log: Path | None, what: str, lock_dir: Path) -> None:
    if log is None:
        return
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{what} {os.getpid()} {lock_dir}\n".encode())
    finally:
        os.close(fd)


def lock_for(path: Path, log: Path | None) -> MkdirLockCC:
    return MkdirLockCC(path.with_name(path.name + ".lock"), log)


def write_in_place(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:  # truncate + write, no rename: as Claude Code
        fh.write(json.dumps(data, indent=2))


def _retrying(action: Any, counters: dict[str, int]) -> None:
    while True:
        try:
            action()
            return
        except LockBusy:
            counters["budget_exhausted"] += 1


def send(root: Path, team: str, to: str, sender: str, text: str, log: Path | None) -> None:
    inbox = root / "teams" / team / "inboxes" / f"{to}.json"
    with lock_for(inbox, log):
        messages = json.loads(inbox.read_text()) if inbox.exists() else []
        messages.append(
            {"from": sender, "text": text, "timestamp": datetime.now(UTC).isoformat(), "read": False, "color": "blue"}
        )
        write_in_place(inbox, messages)


def mark_all_read(root: Path, team: str, agent: str, log: Path | None) -> None:
    inbox = root / "teams" / team / "inboxes" / f"{agent}.json"
    with lock_for(inbox, log):
        if not inbox.exists():
            return
        messages = json.loads(inbox.read_text())
        for m in messages:
            m["read"] = True
        write_in_place(inbox, messages)


def update_task(root: Path, team: str, task_id: str, key: str, log: Path | None) -> None:
    path = root / "tasks" / team / f"{task_id}.json"
    with lock_for(path, log):  # Claude Code: the task's own lock only
        task = json.loads(path.read_text())
        task.setdefault("metadata", {})[key] = 1
        write_in_place(path, task)


def create_task(root: Path, team: str, subject: str, log: Path | None) -> str:
    tasks_dir = root / "tasks" / team
    anchor = tasks_dir / ".lock"  # Claude Code: writeFile(".lock", "", {flag: "wx"}), then lock it (".lock.lock")
    with contextlib.suppress(FileExistsError):
        anchor.open("x").close()
    with MkdirLockCC(tasks_dir / ".lock.lock", log):
        ids = [int(p.name[:-5]) for p in tasks_dir.iterdir() if p.name.endswith(".json") and p.name[:-5].isdigit()]
        hwm_path = tasks_dir / ".highwatermark"
        hwm = int(hwm_path.read_text().strip() or 0) if hwm_path.exists() else 0
        new_id = str(max([hwm, *ids]) + 1)
        task = {
            "id": new_id,
            "subject": subject,
            "description": "",
            "status": "pending",
            "blocks": [],
            "blockedBy": [],
            "ccFutureField": {"kept": True},
        }
        write_in_place(tasks_dir / f"{new_id}.json", task)
        return new_id


def main(argv: list[str]) -> None:
    root, team, worker = Path(argv[0]), argv[1], argv[2]
    sends, updates, creates = int(argv[3]), int(argv[4]), int(argv[5])
    log = Path(argv[6])
    reader = argv[7] if len(argv) > 7 else None
    counters = {"budget_exhausted": 0, "sends": 0, "updates": 0, "creates": 0}
    task_ids = sorted(
        p.name[:-5] for p in (root / "tasks" / team).iterdir() if p.name.endswith(".json") and p.name[:-5].isdigit()
    )
    recipients = ["alice", "bob", "carol"]
    total = max(sends, updates, creates)
    for i in range(total):
        if i < sends:
            to, text = recipients[i % 3], f"{worker}-{i}"
            _retrying(lambda to=to, text=text: send(root, team, to, worker, text, log), counters)
            counters["sends"] += 1
        if i < updates:
            tid, key = task_ids[i % len(task_ids)], f"{worker}-{i}"
            _retrying(lambda tid=tid, key=key: update_task(root, team, tid, key, log), counters)
            counters["updates"] += 1
        if i < creates:
            subject = f"{worker}-new-{i}"
            _retrying(lambda subject=subject: create_task(root, team, subject, log), counters)
            counters["creates"] += 1
        if reader is not None and i % 10 == 9:
            _retrying(lambda: mark_all_read(root, team, reader, log), counters)
    print(json.dumps(counters), flush=True)


def one_send(argv: list[str], *, retry: bool) -> int:
    """``send``/``try-send ROOT TEAM TO TEXT``: one message; ``try-send`` exits 3 when the budget runs out."""
    root, team, to, text = Path(argv[0]), argv[1], argv[2], argv[3]
    counters = {"budget_exhausted": 0}
    if retry:
        _retrying(lambda: send(root, team, to, "fake", text, None), counters)
        return 0
    try:
        send(root, team, to, "fake", text, None)
    except LockBusy:
        return 3
    return 0


if __name__ == "__main__":
    if sys.argv[1] in ("send", "try-send"):
        sys.exit(one_send(sys.argv[2:], retry=sys.argv[1] == "send"))
    main(sys.argv[1:])

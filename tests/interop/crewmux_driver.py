"""A crewmux process for the interop tests: the core API in interop mode, its mkdir locks logged.

    python crewmux_driver.py ROOT TEAM WORKER SENDS UPDATES CREATES LOG [READER]

The same workload as ``fake_claude_code.py`` (see there), through :class:`Mailbox` and
:class:`TaskStore` with interop on. ``MkdirLock`` is wrapped so that every holder appends
``enter``/``exit`` lines to ``LOG`` while it holds Claude Code's lock — the real lock code runs.

    python crewmux_driver.py hold ROOT TEAM AGENT

sends one message to ``AGENT`` but stops inside the inbox write (both locks held), prints
``held`` and sleeps: for the "killed while holding" test.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import app.core.interop as interop
from app.core.mailbox import Mailbox
from app.core.mkdir_lock import MkdirLock
from app.core.tasks import TaskStore
from app.core.team import TeamStore

LOG: Path | None = None


def _log(what: str, lock_dir: Path) -> None:
    if LOG is None:
        return
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{what} {os.getpid()} {lock_dir}\n".encode())
    finally:
        os.close(fd)


class LoggedMkdirLock(MkdirLock):
    def acquire(self) -> None:
        super().acquire()
        _log("enter", self.lock_dir)

    def release(self) -> None:
        _log("exit", self.lock_dir)
        super().release()


def hold(root: Path, team: str, agent: str) -> None:
    box = Mailbox(TeamStore(root, interop=True), team)

    def stuck(path: Path, messages: object) -> None:
        print("held", flush=True)
        time.sleep(600)

    box._write_inbox = stuck  # type: ignore[method-assign]
    box.send(agent, "never written", sender="team-lead")


def run(argv: list[str]) -> None:
    global LOG
    root, team, worker = Path(argv[0]), argv[1], argv[2]
    sends, updates, creates = int(argv[3]), int(argv[4]), int(argv[5])
    LOG = Path(argv[6])
    reader = argv[7] if len(argv) > 7 else None
    setattr(interop, "MkdirLock", LoggedMkdirLock)  # noqa: B010 - the lock interop takes, logged
    teams = TeamStore(root, interop=True)
    box = Mailbox(teams, team)
    store = TaskStore(teams.paths(team))
    task_ids = [t.id for t in store.list_tasks()]
    recipients = ["alice", "bob", "carol"]
    for i in range(max(sends, updates, creates)):
        if i < sends:
            box.send(recipients[i % 3], f"{worker}-{i}", sender="team-lead")
        if i < updates:
            store.update(task_ids[i % len(task_ids)], metadata={f"{worker}-{i}": 1})
        if i < creates:
            store.create(f"{worker}-new-{i}")
        if reader is not None and i % 10 == 9:
            box.mark_read(reader)
    store.close()
    print(json.dumps({"sends": sends, "updates": updates, "creates": creates}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        hold(Path(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        run(sys.argv[1:])

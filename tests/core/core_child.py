"""A child process for the stress and crash tests: claims tasks, sends messages, edits edges.

Run as ``python core_child.py ROLE HOME TEAM NAME OUT [ARGS...]``; role ``farm`` (OUT a folder,
ARGS: KILLS SEED) forks writers of every kind and SIGKILLs them at random moments. Every acknowledgement (a
claim that returned, a message id that send returned) is appended to ``OUT`` as one JSON line
with a single ``write`` call *after* the core call returned, so a SIGKILL can lose an ack but
never record one for work that did not happen.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

from app.core.errors import ClaimRefused, CrewmuxError
from app.core.mailbox import Mailbox
from app.core.tasks import TaskStore
from app.core.team import TeamStore


class Acks:
    """One JSON line per acknowledged operation, each written with one O_APPEND write."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, **doc: object) -> None:
        os.write(self.fd, (json.dumps(doc) + "\n").encode())


def claimer(home: Path, team: str, name: str, acks: Acks, total: int) -> None:
    """Claim the lowest available task, check its blockers, complete it; until all are done.

    ``total`` is the number of tasks; completions are counted in a shared log next to ``OUT``
    (one fixed-width line per completion) so that finishing needs no full scan.
    """
    store = TaskStore(TeamStore(home).paths(team), lock_timeout=60.0)
    done_log = home / "completed.log"
    line_len = len(f"{0:>8}\n")
    while True:
        start = time.time_ns()
        try:
            task = store.claim(None, name)
        except ClaimRefused as exc:
            if exc.reason != "none_available":
                raise
            try:
                finished = done_log.stat().st_size // line_len
            except FileNotFoundError:
                finished = 0
            if finished >= total:
                return
            time.sleep(0.005)
            continue
        end = time.time_ns()
        open_blockers = [b for b in task.blocked_by if store.get(b).status != "completed"]
        acks.write(op="claim", id=task.id, start=start, end=end, open_blockers=open_blockers)
        comp_start = time.time_ns()
        store.update(task.id, status="completed")
        acks.write(op="complete", id=task.id, start=comp_start, end=time.time_ns())
        fd = os.open(done_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{int(task.id):>8}\n".encode())
        finally:
            os.close(fd)


def crash_claimer(home: Path, team: str, name: str, acks: Acks) -> None:
    """Claim and complete forever (the test kills it); claims are acked, refusals ignored."""
    store = TaskStore(TeamStore(home).paths(team))
    while True:
        try:
            task = store.claim(None, name)
        except ClaimRefused:
            time.sleep(0.002)
            continue
        acks.write(op="claim", id=task.id, agent=name)
        store.update(task.id, status="completed")
        time.sleep(random.random() * 0.004)


def sender(home: Path, team: str, name: str, acks: Acks, to: str, count: int) -> None:
    """Send ``count`` numbered messages to ``to`` (0 = forever), acking each id."""
    box = Mailbox(TeamStore(home), team, lock_timeout=60.0)
    seq = 0
    while count == 0 or seq < count:
        msg_id = box.send(to, f"{name}:{seq}", sender=name)
        acks.write(op="send", id=msg_id, seq=seq)
        seq += 1


def reader(home: Path, team: str, name: str, acks: Acks) -> None:
    """Read and mark read forever (the test kills it)."""
    box = Mailbox(TeamStore(home), team)
    while True:
        for m in box.mark_read(name):
            acks.write(op="read", id=m.msg_id)
        time.sleep(0.001)


def edger(home: Path, team: str, name: str, acks: Acks, seed: int) -> None:
    """Create tasks with blockers, add edges both ways and delete tasks, at random, forever."""
    store = TaskStore(TeamStore(home).paths(team))
    rng = random.Random(seed)
    while True:
        ids = [t.id for t in store.list_tasks()][-40:]
        roll = rng.random()
        try:
            if roll < 0.4 or len(ids) < 3:
                picked = rng.sample(ids, min(len(ids), rng.randint(0, 2)))
                acks.write(op="create", id=store.create(f"{name} task", blocked_by=picked).id)
            elif roll < 0.65:
                a, b = rng.sample(ids, 2)
                store.update(a, add_blocked_by=[b])
                acks.write(op="blocked_by", id=a, other=b)
            elif roll < 0.85:
                a, b = rng.sample(ids, 2)
                store.update(a, add_blocks=[b])
                acks.write(op="blocks", id=a, other=b)
            else:
                gone = rng.choice(ids)
                store.update(gone, status="deleted")
                acks.write(op="delete", id=gone)
        except CrewmuxError:
            continue  # a cycle refused, or a task another edger just deleted


def _work(home: Path, team: str, role: str, n: int, seed: int, acks: Acks) -> None:
    """One forked writer of the fault farm: ``role`` until killed (``n`` makes names unique)."""
    rng = random.Random(seed)
    teams = TeamStore(home)
    if role == "send":
        box = Mailbox(teams, team, lock_timeout=60.0)
        name = rng.choice(["s0", "s1"])
        while True:
            acks.write(op="send", id=box.send("owner", f"{name}:{n}", sender=name))
    elif role == "read":
        box = Mailbox(teams, team, lock_timeout=60.0)
        while True:
            for m in box.mark_read("owner"):
                acks.write(op="read", id=m.msg_id)
    elif role == "claim":
        store = TaskStore(teams.paths(team), lock_timeout=60.0)
        agent = f"k{n}"
        while True:
            try:
                task = store.claim(None, agent)
            except ClaimRefused:
                store.create(f"refill by {agent}")
                continue
            acks.write(op="claim", id=task.id, agent=agent)
            store.update(task.id, status="completed")
    elif role == "join":
        teams.join(team, f"j{n}")
        acks.write(op="join", name=f"j{n}")
    else:
        edger(home, team, f"e{n}", acks, seed)


def farm(home: Path, team: str, out: Path, kills: int, seed: int) -> None:
    """Keep three forked writers (send, read, claim, edge, join) busy and SIGKILL one at a random
    moment, ``kills`` times; each writer acks into its own file under ``out``."""
    rng = random.Random(seed)
    live: dict[int, int] = {}
    n = 0

    def start() -> None:
        nonlocal n
        n += 1
        role = rng.choice(["send", "send", "read", "claim", "claim", "edge", "join"])
        child_seed = rng.randrange(1 << 30)
        pid = os.fork()
        if pid == 0:  # the writer: never returns into the farm
            try:
                _work(home, team, role, n, child_seed, Acks(out / f"{n}-{role}.jsonl"))
            finally:
                os._exit(0)
        live[pid] = n

    for _ in range(3):
        start()
    for _ in range(kills):
        time.sleep(rng.random() * 0.02)
        victim = rng.choice(sorted(live))
        os.kill(victim, 9)
        os.waitpid(victim, 0)
        del live[victim]
        start()
    for pid in live:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def main(argv: list[str]) -> int:
    role, home_s, team, name, out = argv[:5]
    rest = argv[5:]
    home = Path(home_s)
    if role == "farm":
        farm(home, team, Path(out), int(rest[0]), int(rest[1]))
        return 0
    acks = Acks(Path(out))
    if role == "claim":
        claimer(home, team, name, acks, int(rest[0]))
    elif role == "crash-claim":
        crash_claimer(home, team, name, acks)
    elif role == "send":
        sender(home, team, name, acks, rest[0], int(rest[1]))
    elif role == "read":
        reader(home, team, name, acks)
    elif role == "edge":
        edger(home, team, name, acks, int(rest[0]))
    else:
        print(f"unknown role {role!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

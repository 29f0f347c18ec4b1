"""Send → wake latency for an idle recipient: crewmux's Mailbox against the Claude Code baseline.

Two processes. The recipient tells the sender it is about to wait, then blocks (crewmux:
``Mailbox.wait``, woken by inotify; baseline: a poll of its JSON-array inbox every second).
The sender waits a random moment so the recipient is truly idle, stamps ``time.time()`` into
the message text and sends it. The recipient subtracts the stamp from ``time.time()`` the moment
it holds the message, so the figure covers the whole send (lock, read, rewrite, fsync) plus the
wake-up. Both processes run on the same machine and clock.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import time
from pathlib import Path
from typing import Any

from app.core.mailbox import Mailbox
from app.core.team import TeamStore
from bench.baseline_claude import BaselineInbox

TEAM = "wake"
RECIPIENT = "alice"
SENDER = "team-lead"


def make_team(home: Path) -> None:
    teams = TeamStore(home)
    teams.create(TEAM, "send-to-wake benchmark")
    teams.join(TEAM, RECIPIENT)


def _recipient(kind: str, home: str, n: int, fsync: bool, ready: Any, results: Any) -> None:
    os.environ["CREWMUX_FSYNC"] = "1" if fsync else "0"
    latencies: list[float] = []
    if kind == "crewmux":
        mailbox = Mailbox(TeamStore(Path(home)), TEAM)
        while len(latencies) < n:
            ready.send(len(latencies))
            msg = mailbox.wait(RECIPIENT, timeout=30.0)
            woke = time.time()
            if msg is None:
                raise TimeoutError("no message within 30 s")
            latencies.append(woke - float(msg.text))
            assert msg.msg_id is not None
            mailbox.mark_read(RECIPIENT, [msg.msg_id])
    else:
        inbox = BaselineInbox(Mailbox(TeamStore(Path(home)), TEAM).paths.inbox(RECIPIENT).with_suffix(".base.json"))
        while len(latencies) < n:
            ready.send(len(latencies))
            got = inbox.poll(time.monotonic() + 30.0)
            woke = time.time()
            if not got:
                raise TimeoutError("no message within 30 s")
            latencies.extend(woke - float(m["text"]) for m in got)
    results.send(latencies)


def _sender(kind: str, home: str, n: int, fsync: bool, ready: Any) -> None:
    os.environ["CREWMUX_FSYNC"] = "1" if fsync else "0"
    rng = random.Random(1234)
    mailbox = Mailbox(TeamStore(Path(home)), TEAM)
    inbox = BaselineInbox(mailbox.paths.inbox(RECIPIENT).with_suffix(".base.json"))
    for _ in range(n):
        ready.recv()
        # crewmux: give the recipient time to block. Baseline: a random phase of its 1 s poll.
        time.sleep(rng.uniform(0.005, 0.025) if kind == "crewmux" else rng.uniform(0.005, 1.0))
        stamp = repr(time.time())
        if kind == "crewmux":
            mailbox.send(RECIPIENT, stamp, sender=SENDER)
        else:
            inbox.send(SENDER, stamp)


def wake_latencies(kind: str, home: Path, n: int, *, fsync: bool) -> list[float]:
    """``n`` send → wake latencies in seconds for ``kind`` ("crewmux" or "baseline")."""
    ctx = mp.get_context("fork")
    ready_rx, ready_tx = ctx.Pipe(duplex=False)
    result_rx, result_tx = ctx.Pipe(duplex=False)
    recipient = ctx.Process(target=_recipient, args=(kind, str(home), n, fsync, ready_tx, result_tx), daemon=True)
    sender = ctx.Process(target=_sender, args=(kind, str(home), n, fsync, ready_rx), daemon=True)
    recipient.start()
    sender.start()
    limit = 30.0 + n * (1.5 if kind == "baseline" else 0.5)
    if not result_rx.poll(limit):
        recipient.kill()
        sender.kill()
        raise TimeoutError(f"{kind} wake benchmark did not finish in {limit:.0f} s")
    latencies: list[float] = result_rx.recv()
    recipient.join(timeout=10)
    sender.join(timeout=10)
    return latencies

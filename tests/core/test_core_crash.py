"""SIGKILL at random moments, round after round: files parse, acked work survives, edges stay whole."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.core.atomic import SWEPT_MARKER
from app.core.mailbox import Mailbox
from app.core.models import InboxAdapter, Task, TeamFile
from app.core.tasks import TaskStore
from app.core.team import TeamStore

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("core_child.py")
ROUNDS = 15

pytestmark = pytest.mark.slow


def spawn(*args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "CREWMUX_FSYNC"}  # fsync on, as in real use
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def acks(path: Path) -> list[dict[str, Any]]:
    """Complete ack lines (a line cut by the kill is not an ack)."""
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text.split("\n")[:-1]]


def wait_until_working(outs: list[Path], deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if all(p.exists() and p.stat().st_size > 0 for p in outs):
            return
        time.sleep(0.02)
    pytest.fail(f"children never started working: {[p.name for p in outs if not p.exists()]}")


def every_file_parses(home: Path) -> None:
    for path in home.rglob("*"):
        if path.is_dir() or path.name.endswith(".tmp") or ".flock" in path.name or "sqlite" in path.name:
            continue
        assert ".corrupt-" not in path.name, f"a file was found torn and quarantined: {path}"
        raw = path.read_bytes()
        if path.name == "config.json" or path.name.endswith(".last-good"):
            TeamFile.model_validate_json(raw)
        elif path.parent.name == "inboxes" and path.suffix == ".json":
            InboxAdapter.validate_json(raw)
        elif path.suffix == ".json" and path.stem.isdigit():
            Task.model_validate_json(raw)
        elif path.suffix == ".json":
            assert isinstance(json.loads(raw), dict), path  # the edge journal
        elif path.suffix == ".jsonl":
            for line in raw.decode().splitlines():
                json.loads(line)


def test_sigkill_rounds_lose_nothing_acknowledged(
    home: Path, teams: TeamStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(int(os.environ.get("CREWMUX_CRASH_SEED", "7")))
    teams.create("c")
    for name in ("owner", "s0", "s1", "e0"):
        teams.join("c", name)
    monkeypatch.setenv("CREWMUX_FSYNC", "0")  # set-up only; the children write with fsync
    seed_store = TaskStore(teams.paths("c"))
    for i in range(1, 601):
        seed_store.create(f"seed {i}", blocked_by=[str(i - 1)] if i % 3 == 0 else ())
    seed_store.close()
    monkeypatch.delenv("CREWMUX_FSYNC")
    paths = teams.paths("c")
    logs = tmp_path / "acks"
    logs.mkdir()

    for rnd in range(ROUNDS):
        claimer = f"c{rnd}"
        teams.join("c", claimer)
        outs = {
            "s0": logs / f"s0-{rnd}.jsonl",
            "s1": logs / f"s1-{rnd}.jsonl",
            "owner": logs / f"owner-{rnd}.jsonl",
            claimer: logs / f"{claimer}.jsonl",
            "e0": logs / f"e0-{rnd}.jsonl",
        }
        procs = [
            spawn("send", str(home), "c", "s0", str(outs["s0"]), "owner", "0"),
            spawn("send", str(home), "c", "s1", str(outs["s1"]), "owner", "0"),
            spawn("read", str(home), "c", "owner", str(outs["owner"])),
            spawn("crash-claim", str(home), "c", claimer, str(outs[claimer])),
            spawn("edge", str(home), "c", "e0", str(outs["e0"]), str(rng.randrange(1 << 30))),
        ]
        try:
            wait_until_working([outs["s0"], outs["s1"], outs[claimer], outs["e0"]])
            for proc in rng.sample(procs, len(procs)):
                time.sleep(rng.random() * 0.15)
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                proc.send_signal(signal.SIGKILL)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()

        every_file_parses(home)
        # No lock is left held: the next operations get their locks at once (short timeouts).
        store = TaskStore(paths, lock_timeout=5.0)
        store.rebuild_index()  # takes the list lock and replays any journal a kill left behind
        assert not paths.task_journal.exists()
        Mailbox(teams, "c", lock_timeout=5.0).send("owner", f"round {rnd}", sender="team-lead")
        teams.update("c", lambda tf: None)
        store.close()

    tasks = {t.id: t for t in TaskStore(paths).list_tasks()}
    all_acks = {p.name: acks(p) for p in sorted(logs.iterdir())}

    # Edges are symmetric and point only at tasks that exist.
    for t in tasks.values():
        for b in t.blocked_by:
            assert b in tasks and t.id in tasks[b].blocks, f"one-sided edge {t.id} blockedBy {b}"
        for d in t.blocks:
            assert d in tasks and t.id in tasks[d].blocked_by, f"one-sided edge {t.id} blocks {d}"
    # Acknowledged edge work is on disk.
    deleted = {
        a["id"] for name, lines in all_acks.items() if name.startswith("e0") for a in lines if a["op"] == "delete"
    }
    assert not deleted & tasks.keys(), "an acknowledged delete came back"
    for lines in all_acks.values():
        for a in lines:
            if a["op"] == "blocked_by" and a["id"] in tasks and a["other"] in tasks:
                assert a["other"] in tasks[a["id"]].blocked_by
            if a["op"] == "blocks" and a["id"] in tasks and a["other"] in tasks:
                assert a["other"] in tasks[a["id"]].blocks

    # No task was acknowledged to two claimers, and each acked claim is on disk.
    owners: dict[str, str] = {}
    for lines in all_acks.values():
        for a in lines:
            if a["op"] == "claim":
                assert a["id"] not in owners, f"task {a['id']} claimed by {owners[a['id']]} and {a['agent']}"
                owners[a["id"]] = a["agent"]
                if a["id"] in tasks:
                    assert tasks[a["id"]].owner == a["agent"]
    assert owners, "no claim was ever acknowledged"

    # Every acknowledged message is in the owner's inbox or archive.
    box = Mailbox(teams, "c")
    have = {m.msg_id for m, _ in box.history("owner")}
    sent = [a["id"] for name, lines in all_acks.items() if name.startswith("s") for a in lines]
    assert sent, "no message was ever acknowledged"
    missing = [m for m in sent if m not in have]
    assert missing == [], f"{len(missing)} acknowledged messages lost"
    for msg_id in (sent[0], sent[-1]):
        assert box.status(msg_id).state in ("sent", "read")


def _make_everything_old(home: Path) -> int:
    """Age every temp file and sweep marker by an hour (as if the writers died long ago); returns
    how many temp files the kills left."""
    long_ago = time.time() - 3600
    temps = 0
    for path in home.rglob("*"):
        if path.name.endswith(".tmp") or path.name == SWEPT_MARKER:
            temps += path.name.endswith(".tmp")
            os.utime(path, (long_ago, long_ago))
    return temps


def test_fault_farm_hundreds_of_kills_keep_every_invariant(home: Path, teams: TeamStore, tmp_path: Path) -> None:
    """A few hundred SIGKILLs of forked writers (send, read + compact, claim, edges, join) at
    random moments; ``CREWMUX_FAULT_SEED`` / ``CREWMUX_FAULT_KILLS`` change the run."""
    seed = int(os.environ.get("CREWMUX_FAULT_SEED", "16"))
    kills = int(os.environ.get("CREWMUX_FAULT_KILLS", "240"))
    teams.create("c")
    for name in ("owner", "s0", "s1"):
        teams.join("c", name)
    store = TaskStore(teams.paths("c"))
    for i in range(1, 41):
        store.create(f"seed {i}", blocked_by=[str(i - 1)] if i % 4 == 0 else ())
    store.close()
    logs = tmp_path / "farm"
    logs.mkdir()
    farm = spawn("farm", str(home), "c", "-", str(logs), str(kills), str(seed))
    assert farm.wait(timeout=240) == 0, farm.stderr.read().decode() if farm.stderr else ""
    paths = teams.paths("c")

    every_file_parses(home)  # no torn file, nothing quarantined
    left = _make_everything_old(home)
    # The next writers replay any journal, sweep the stale temp files, and get every lock at once.
    store = TaskStore(paths, lock_timeout=5.0)
    store.rebuild_index()
    box = Mailbox(teams, "c", lock_timeout=5.0)
    box.send("owner", "after the farm", sender="team-lead")
    teams.update("c", lambda tf: None)
    assert not paths.task_journal.exists(), "a journal was left unapplied"
    stray = list(home.rglob("*.tmp"))
    assert stray == [], f"{len(stray)} of {left} temp files left by killed writers were never swept"

    all_acks = [a for p in sorted(logs.iterdir()) for a in acks(p)]
    tasks = {t.id: t for t in store.list_tasks()}
    store.close()
    for t in tasks.values():  # edges whole after the replays
        for b in t.blocked_by:
            assert b in tasks and t.id in tasks[b].blocks, f"one-sided edge {t.id} blockedBy {b}"
        for d in t.blocks:
            assert d in tasks and t.id in tasks[d].blocked_by, f"one-sided edge {t.id} blocks {d}"
    owners: dict[str, str] = {}
    for a in (a for a in all_acks if a["op"] == "claim"):
        assert a["id"] not in owners, f"task {a['id']} claimed by {owners[a['id']]} and {a['agent']}"
        owners[a["id"]] = a["agent"]
        if a["id"] in tasks:
            assert tasks[a["id"]].owner == a["agent"], f"acknowledged claim of {a['id']} lost"
    deleted = {a["id"] for a in all_acks if a["op"] == "delete"}
    assert not deleted & tasks.keys(), "an acknowledged delete came back"
    members = {m.name for m in teams.load("c").members}
    assert {a["name"] for a in all_acks if a["op"] == "join"} <= members, "an acknowledged join was lost"
    entries = box.history("owner")
    history = [m.msg_id for m, _ in entries]
    twice = [(m.msg_id, read_at) for m, read_at in entries if history.count(m.msg_id) > 1]
    assert not twice, f"messages archived or delivered twice (id, read at): {twice}"
    read = [a["id"] for a in all_acks if a["op"] == "read"]
    assert len(read) == len(set(read)), "a message was handed to its reader twice"
    sent = [a["id"] for a in all_acks if a["op"] == "send"]
    missing = set(sent) - set(history)
    assert sent and owners and not missing, f"{len(missing)} of {len(sent)} acknowledged messages lost"

"""crewmux and a fake Claude Code writing the same team at once, each under its own scheme of locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from app.core.interop import shared_lock
from app.core.mailbox import Mailbox
from app.core.mkdir_lock import STALE_SECONDS
from app.core.tasks import TaskStore
from app.core.team import TeamStore

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FAKE = HERE / "fake_claude_code.py"
DRIVER = HERE / "crewmux_driver.py"
RECIPIENTS = ("alice", "bob", "carol")
TEAM = "crew"


def _env() -> dict[str, str]:
    return {**os.environ, "CREWMUX_FSYNC": "0", "PYTHONPATH": str(REPO)}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Claude Code's root with team ``crew`` (alice, bob, carol) and 12 tasks, made in interop mode."""
    claude = tmp_path / "claude"
    teams = TeamStore(claude, interop=True)
    teams.create(TEAM)
    for name in RECIPIENTS:
        teams.join(TEAM, name)
    store = TaskStore(teams.paths(TEAM))
    for i in range(12):
        store.create(f"shared-{i}")
    store.close()
    # One task as a newer Claude Code might write it: fields crewmux does not know.
    first = claude / "tasks" / TEAM / "1.json"
    doc = json.loads(first.read_text())
    doc["ccFutureField"] = {"nested": [1, 2]}
    first.write_text(json.dumps(doc))
    return claude


def _check_log(log: Path) -> int:
    """Replay the enter/exit log; fail on any lock held by two at once. Returns holds seen."""
    holder: dict[str, str] = {}
    holds = 0
    for n, line in enumerate(log.read_text().splitlines()):
        what, pid, lock = line.split(" ", 2)
        if what == "enter":
            assert lock not in holder, f"line {n}: {pid} entered {lock} held by {holder[lock]}"
            holder[lock] = pid
            holds += 1
        else:
            assert holder.pop(lock, None) == pid, f"line {n}: {pid} left {lock} it did not hold"
    assert not holder, f"never released: {holder}"
    return holds


def test_thousands_of_interleaved_writes_lose_nothing(root: Path, tmp_path: Path) -> None:
    sends, updates, creates = 600, 300, 20
    log = tmp_path / "holders.log"
    workers = [
        ("cc1", FAKE, "alice"),
        ("cc2", FAKE, None),
        ("cm1", DRIVER, "bob"),
        ("cm2", DRIVER, None),
    ]
    procs = []
    for name, program, reader in workers:
        argv = [sys.executable, str(program), str(root), TEAM, name, str(sends), str(updates), str(creates), str(log)]
        argv += [reader] if reader else []
        procs.append(subprocess.Popen(argv, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for proc in procs:
        _out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()[-2000:]

    assert _check_log(log) >= len(workers) * (sends + updates + creates)

    # No torn or unparseable file, nothing quarantined, no lock left behind.
    for path in root.rglob("*"):
        assert ".corrupt-" not in path.name, path
        assert not (path.name.endswith(".lock") and path.is_dir()), f"lock left behind: {path}"
        if path.suffix == ".json" and path.is_file():
            json.loads(path.read_text())
    assert not (root / "tasks" / TEAM / ".crewmux-ready.sqlite").exists()

    # Every message exactly once (in the inbox or, once read and compacted, in the archive).
    box = Mailbox(TeamStore(root, interop=True), TEAM)
    for agent in RECIPIENTS:
        got = Counter(m.text for m, _ in box.history(agent))
        want = Counter(f"{w}-{i}" for w, _, _ in workers for i in range(sends) if RECIPIENTS[i % 3] == agent)
        assert got == want, f"{agent}: lost {want - got}, extra {got - want}"

    # Every task update landed; ids unique; unknown fields kept through crewmux's rewrites.
    store = TaskStore(TeamStore(root, interop=True).paths(TEAM))
    tasks = store.list_tasks()
    keys = Counter(k for t in tasks for k in (t.metadata or {}))
    assert keys == Counter(f"{w}-{i}" for w, _, _ in workers for i in range(updates))
    created = Counter(t.subject for t in tasks if not t.subject.startswith("shared-"))
    assert created == Counter(f"{w}-new-{i}" for w, _, _ in workers for i in range(creates))
    assert len({t.id for t in tasks}) == len(tasks) == 12 + len(workers) * creates
    assert json.loads((root / "tasks" / TEAM / "1.json").read_text())["ccFutureField"] == {"nested": [1, 2]}
    store.close()


def test_a_killed_crewmux_blocks_claude_code_for_at_most_the_stale_time(root: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, str(DRIVER), "hold", str(root), TEAM, "bob"],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        inbox = root / "teams" / TEAM / "inboxes" / "bob.json"
        assert inbox.with_name("bob.json.lock").is_dir()
        # While crewmux lives, Claude Code's whole retry budget goes by without the lock.
        tried = subprocess.run(
            [sys.executable, str(FAKE), "try-send", str(root), TEAM, "bob", "too-early"], timeout=60, check=False
        )
        assert tried.returncode == 3
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    killed_at = time.monotonic()
    subprocess.run([sys.executable, str(FAKE), "send", str(root), TEAM, "bob", "after-kill"], timeout=60, check=True)
    waited = time.monotonic() - killed_at
    assert waited < STALE_SECONDS + 5.0  # the stale time plus process start-up on a loaded machine
    # crewmux itself is not blocked either: the kernel dropped the dead process's flock.
    box = Mailbox(TeamStore(root, interop=True), TEAM)
    with shared_lock(inbox, interop=True, timeout=5.0):
        pass
    box.send("bob", "crewmux-after", sender="alice")
    texts = [m.text for m in box.inbox("bob")]
    assert texts == ["after-kill", "crewmux-after"]

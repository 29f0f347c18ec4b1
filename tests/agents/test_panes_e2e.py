"""Teammates spawned through ``crewmux spawn --agent`` into real tmux panes (private socket)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.core.liveness import is_alive
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from tests.agents.teammate_helpers import wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def sock(tmux_socket: str) -> str:
    return tmux_socket


def crewmux(home: Path, *args: str, timeout: float = 60) -> Any:
    cut = 2 if args[0] == "worktree" else 1  # --json belongs to the leaf command
    proc = subprocess.run(
        [sys.executable, "-m", "app", *args[:cut], "--json", *args[cut:]],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "CREWMUX_HOME": str(home)},
        check=False,
    )
    assert proc.returncode in (0, 3), proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def panes(sock: str) -> list[str]:
    out = subprocess.run(["tmux", "-L", sock, "list-panes", "-a", "-F", "#{pane_id}"], capture_output=True, text=True)
    return out.stdout.split()


def test_spawned_workers_finish_a_dag_then_shut_down(home: Path, sock: str, tmp_path: Path) -> None:
    teams = TeamStore(home)
    teams.create("e2e")
    store = TaskStore(teams.paths("e2e"))
    marks = tmp_path / "m"
    marks.mkdir()
    for i in range(1, 13):
        blockers = [str(i - 1)] if i % 4 != 1 else []
        checks = "".join(f"test -f {marks}/{b} && " for b in blockers)
        store.create(f"t{i}", blocked_by=blockers, metadata={"command": f"{checks}touch {marks}/{i}"})
    for n in ("w1", "w2", "w3"):
        doc = crewmux(home, "spawn", n, "--team", "e2e", "--agent", "worker", "--backend", "tmux")
        assert doc["backendType"] == "tmux"
    wait_until(lambda: all(t.status == "completed" for t in store.list_tasks()), 60, "DAG done in panes")
    assert sorted(int(p.name) for p in marks.iterdir()) == list(range(1, 13))
    assert {m.agent_type for m in teams.load("e2e").members[1:]} == {"worker"}
    for n in ("w1", "w2", "w3"):
        result = crewmux(home, "shutdown", n, "--team", "e2e", "--timeout", "15")
        assert result["outcome"] == "approved" and result["removed"]
    wait_until(lambda: not panes(sock), 15, "all panes closed")
    store.close()


def test_pane_that_ignores_shutdown_is_gone_within_bound(home: Path, sock: str) -> None:
    TeamStore(home).create("deaf")
    # deaf to SIGTERM and Ctrl-C alike: only the process-tree kill ends it
    code = "import signal as s,time; [s.signal(n, s.SIG_IGN) for n in (s.SIGTERM, s.SIGINT)]; time.sleep(600)"
    crewmux(
        home,
        "spawn",
        "mule",
        "--team",
        "deaf",
        "--agent",
        "shell",
        "--backend",
        "tmux",
        "--",
        sys.executable,
        "-c",
        code,
    )
    member = TeamStore(home).member("deaf", "mule")
    assert member.crewmux is not None and member.crewmux.pid
    pid = member.crewmux.pid
    t0 = time.monotonic()
    result = crewmux(home, "shutdown", "mule", "--team", "deaf", "--timeout", "2")
    assert time.monotonic() - t0 < 2 + 5 + 2  # + 2: the CLI's own start-up on a loaded machine
    assert result["outcome"] == "timeout" and result["removed"] and pid in result["killed"]
    assert result["seconds"] < 2 + 5
    assert not is_alive(pid, member.crewmux.pid_create_time)
    wait_until(lambda: not panes(sock), 10, "pane closed")


def test_resume_reattaches_live_and_restarts_dead(home: Path, sock: str, tmp_path: Path) -> None:
    teams = TeamStore(home)
    teams.create("res")
    store = TaskStore(teams.paths("res"))
    first, done = tmp_path / "first", tmp_path / "done"
    task = store.create(
        "slow", metadata={"command": f"if [ -f {first} ]; then touch {done}; else touch {first}; sleep 120; fi"}
    )
    crewmux(home, "spawn", "w1", "--team", "res", "--agent", "worker", "--backend", "tmux")
    wait_until(first.exists, 30, "w1 started the task")
    crewmux(home, "spawn", "w2", "--team", "res", "--agent", "worker", "--backend", "tmux")
    w1 = teams.member("res", "w1").crewmux
    assert w1 is not None and w1.pid
    os.kill(w1.pid, signal.SIGKILL)  # the machine "crashed" under w1; its task is still in_progress
    wait_until(lambda: not is_alive(w1.pid, w1.pid_create_time), 10, "w1 gone")
    assert store.get(task.id).owner == "w1"
    report = {e["name"]: e for e in crewmux(home, "resume", "res")}
    assert report["w2"]["action"] == "attached"
    assert report["w1"]["action"] == "restarted" and "tmux" in report["w1"]["detail"]
    wait_until(lambda: store.get(task.id).status == "completed", 30, "restarted w1 finished its task")
    assert done.exists() and (store.get(task.id).metadata or {}).get("completedBy") == "w1"
    restarted = teams.member("res", "w1")
    assert restarted.tmux_pane_id in panes(sock)
    store.close()


def test_spawn_with_worktree_and_plan(home: Path, sock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for cmd in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "root"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *cmd], cwd=repo, check=True)
    monkeypatch.setenv("CREWMUX_WORKTREES", str(tmp_path / "trees"))
    teams = TeamStore(home)
    teams.create("wt")
    store = TaskStore(teams.paths("wt"))
    store.create("edit", metadata={"command": "echo draft > notes.txt"})
    args = ["spawn", "w", "--team", "wt", "--agent", "worker", "--plan", "--worktree", "--cwd", str(repo)]
    crewmux(home, *args, "--backend", "tmux", "--prompt", "hello")
    member = teams.member("wt", "w")
    assert member.plan_mode_required and member.prompt == "hello"
    assert member.crewmux is not None and member.crewmux.worktree == member.cwd
    tree = Path(member.cwd)
    assert tree.parent == tmp_path / "trees"

    def plan_request() -> str | None:
        from app.core.mailbox import Mailbox
        from app.core.protocol import PlanApprovalRequest, parse_protocol

        for m in Mailbox(teams, "wt").inbox("team-lead"):
            p = parse_protocol(m.text)
            if isinstance(p, PlanApprovalRequest):
                return p.request_id
        return None

    rid = wait_until(plan_request, 30, "plan approval request")
    from app.core.mailbox import Mailbox
    from app.core.protocol import PlanApprovalResponse, protocol_text

    answer = PlanApprovalResponse(request_id=str(rid), approved=True, sender="team-lead")
    Mailbox(teams, "wt").send("w", protocol_text(answer), sender="team-lead")
    wait_until(lambda: store.get("1").status == "completed", 30, "task done in the worktree")
    assert (tree / "notes.txt").read_text() == "draft\n" and not (repo / "notes.txt").exists()
    result = crewmux(home, "shutdown", "w", "--team", "wt", "--timeout", "15")
    assert any("KEPT" in n for n in result["notes"]) and tree.exists()
    listed = crewmux(home, "worktree", "list", "--repo", str(repo))
    assert [w["branch"] for w in listed] == ["crewmux/wt/w"] and listed[0]["dirty"]
    store.close()

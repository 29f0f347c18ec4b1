"""Whole-team restore after ``tmux kill-server``: real workers and shell teammates in a real tmux
on a private socket come back under the same name, color, cwd and backend; a teammate killed on
purpose stays ended and its task is released; tasks stay their owners'; a message sent while the
team was down is read once by its returning recipient."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from app.core.liveness import is_alive
from app.core.mailbox import Mailbox
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from app.lifecycle.teammates import SpawnRequest, Teammates
from tests.agents.teammate_helpers import wait_until

if TYPE_CHECKING:
    from pathlib import Path


def panes(tmux_socket: str) -> list[str]:
    out = subprocess.run(
        ["tmux", "-L", tmux_socket, "list-panes", "-a", "-F", "#{pane_id}"], capture_output=True, text=True
    )
    return out.stdout.split()


def test_team_survives_tmux_kill_server(home: Path, tmux_socket: str, tmp_path: Path) -> None:
    teams = TeamStore(home)
    teams.create("rt")
    svc = Teammates(teams, "rt")
    store = TaskStore(teams.paths("rt"))
    first, done = tmp_path / "first", tmp_path / "done"
    slow = store.create(
        "slow", metadata={"command": f"if [ -f {first} ]; then touch {done}; else touch {first}; sleep 120; fi"}
    )
    work_dir = tmp_path / "shell-cwd"
    work_dir.mkdir()
    svc.spawn(SpawnRequest(name="w1", kind="worker", backend="tmux", cwd=str(tmp_path)))
    wait_until(first.exists, 30, "w1 started its task")
    svc.spawn(SpawnRequest(name="w2", kind="worker", backend="tmux", cwd=str(tmp_path)))
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    svc.spawn(SpawnRequest(name="sh1", kind="shell", argv=sleeper, backend="tmux", cwd=str(work_dir), color="pink"))
    svc.spawn(SpawnRequest(name="sh2", kind="shell", argv=sleeper, backend="tmux", cwd=str(work_dir)))
    held = store.create("held by sh2")
    assert store.claim(held.id, "sh2").owner == "sh2"
    assert svc.kill("sh2", grace=1.0) == "killed"  # on purpose: it must stay ended
    before = {m.name: m for m in teams.load("rt").members}

    subprocess.run(["tmux", "-L", tmux_socket, "kill-server"], check=True)
    for m in before.values():
        rt = m.crewmux
        if rt is not None and rt.pid:
            pid, started = rt.pid, rt.pid_create_time
            wait_until(lambda: not is_alive(pid, started), 15, f"{m.name} died")  # noqa: B023
    assert store.get(slow.id).owner == "w1" and store.get(slow.id).status == "in_progress"
    Mailbox(teams, "rt").send("w2", "sent while the team was down", sender="team-lead")

    out = subprocess.run(
        [sys.executable, "-m", "app", "resume", "rt", "--json"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "CREWMUX_HOME": str(home)}, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    report = {e["name"]: e for e in json.loads(out.stdout)}
    assert {n: report[n]["action"] for n in ("w1", "w2", "sh1", "sh2")} == {
        "w1": "restarted", "w2": "restarted", "sh1": "restarted", "sh2": "ended",
    }  # fmt: skip
    assert "killed by team-lead" in report["sh2"]["detail"] and report["sh2"]["released"] == [held.id]
    after = {m.name: m for m in teams.load("rt").members}
    live = panes(tmux_socket)
    for name in ("w1", "w2", "sh1"):
        old, new = before[name], after[name]
        assert (new.color, new.cwd, new.backend_type, new.agent_type) == (
            old.color, old.cwd, old.backend_type, old.agent_type,
        )  # fmt: skip
        assert new.crewmux is not None and new.crewmux.pid != (old.crewmux.pid if old.crewmux else None)
        assert is_alive(new.crewmux.pid, new.crewmux.pid_create_time) and new.tmux_pane_id in live
    assert after["sh1"].color == "pink" and after["sh1"].cwd == str(work_dir)
    # released: no longer sh2's (a restarted worker may already have taken it up, as it should)
    assert after["sh2"].tmux_pane_id not in live and store.get(held.id).owner in (None, "w1", "w2")
    wait_until(lambda: store.get(slow.id).status == "completed", 30, "restarted w1 finished its own task")
    assert (store.get(slow.id).metadata or {}).get("completedBy") == "w1" and done.exists()
    inbox = Mailbox(teams, "rt")
    wait_until(lambda: not inbox.inbox("w2", unread_only=True), 30, "w2 read the message sent while down")

    def pane_text() -> str:
        cmd = ["tmux", "-L", tmux_socket, "capture-pane", "-p", "-J", "-S", "-500", "-t", after["w2"].tmux_pane_id]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    wait_until(lambda: "message from team-lead: sent while the team was down" in pane_text(), 15, "w2 showed it")
    assert pane_text().count("sent while the team was down") == 1  # delivered once, by the returning w2
    again = {e.name: e.action for e in svc.resume()}  # a second resume re-attaches, duplicates nothing
    assert again == {"w1": "attached", "w2": "attached", "sh1": "attached", "sh2": "ended"}
    assert len(panes(tmux_socket)) == len(live)
    store.close()

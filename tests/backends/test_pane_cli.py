"""``crewmux spawn/panes/kill`` as real child processes, on a private tmux server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psutil

from app.core.team import TeamStore
from tests.backends.crewmux_pane_testkit import wait_until

REPO = Path(__file__).resolve().parents[2]


def test_spawn_panes_kill(cli: Any, teams: TeamStore, tmux_socket: str, tmp_path: Path) -> None:
    teams.create("t")
    r = cli("spawn", "alice", "--team", "t", "--backend", "tmux", "--cwd", str(tmp_path), "--env", "X=1", "--json",
            "--", "sh", "-c", 'echo "$CREWMUX_TEAM/$CREWMUX_AGENT/$X" > out.txt; exec sleep 300')  # fmt: skip
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["backendType"] == "tmux" and doc["paneId"].startswith("%")
    assert doc["attach"] == f"tmux -L {tmux_socket} attach -t crewmux-t"
    wait_until(
        lambda: (tmp_path / "out.txt").exists() and (tmp_path / "out.txt").read_text().strip() != "", what="out.txt"
    )
    assert (tmp_path / "out.txt").read_text().strip() == "t/alice/1"
    member = teams.member("t", "alice")
    assert member.backend_type == "tmux" and member.tmux_pane_id == doc["paneId"] and member.cwd == str(tmp_path)
    assert member.crewmux is not None and member.crewmux.created_by_crewmux and member.crewmux.pid == doc["pid"]
    assert member.crewmux.argv == ["sh", "-c", 'echo "$CREWMUX_TEAM/$CREWMUX_AGENT/$X" > out.txt; exec sleep 300']

    again = cli("spawn", "alice", "--team", "t", "--", "sleep", "1")
    assert again.code == 2 and "already" in again.err

    listed = json.loads(cli("panes", "--team", "t", "--json").out)
    assert listed == [
        {"name": "alice", "backendType": "tmux", "paneId": doc["paneId"], "pid": doc["pid"], "alive": True,
         "state": "running"}
    ]

    killed = cli("kill", "alice", "--team", "t", "--grace", "1", "--json")
    assert killed.code == 0, killed.err
    assert json.loads(killed.out)["killed"] is True
    assert not psutil.pid_exists(doc["pid"]) or psutil.Process(doc["pid"]).status() == psutil.STATUS_ZOMBIE
    assert teams.member("t", "alice").is_active is False
    assert json.loads(cli("panes", "--team", "t", "--json").out)[0]["alive"] is False


def test_no_command_and_no_console_are_clear_errors(cli: Any, teams: TeamStore) -> None:
    teams.create("t")
    r = cli("spawn", "bob", "--team", "t", "--backend", "tmux")
    assert r.code == 2 and "nothing to run" in r.err
    r = cli("spawn", "bob", "--team", "t", "--backend", "in-process", "--", "sh")
    assert r.code == 2
    assert "no crewmux console is running for team t; start one with `crewmux console --team t`" in r.err
    r = cli("kill", "team-lead", "--team", "t")
    assert r.code == 2


def test_two_cli_spawns_at_once(home: Path, teams: TeamStore, tmux_socket: str, tmp_path: Path) -> None:
    teams.create("t")
    results: list[subprocess.CompletedProcess[str]] = []
    env = {**__import__("os").environ, "CREWMUX_HOME": str(home)}

    def run(name: str) -> None:
        cmd = [sys.executable, "-m", "app", "spawn", name, "--team", "t", "--backend", "tmux", "--", "sleep", "300"]
        results.append(subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=False, timeout=60))

    threads = [threading.Thread(target=run, args=(n,)) for n in ("m1", "m2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    members = {m.name: m for m in teams.load("t").members}
    assert {"m1", "m2"} <= set(members)
    assert members["m1"].tmux_pane_id != members["m2"].tmux_pane_id
    out = subprocess.run(["tmux", "-L", tmux_socket, "list-panes", "-t", "crewmux-t", "-F", "#{@crewmux-name}"],
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert sorted(out) == ["m1", "m2"]

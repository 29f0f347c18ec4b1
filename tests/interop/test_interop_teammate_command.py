"""Claude Code's lead starts a teammate through ``CLAUDE_CODE_TEAMMATE_COMMAND`` = a crewmux wrapper."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from app.core.mailbox import Mailbox
from app.core.protocol import ShutdownRequest
from app.core.tasks import TaskStore
from app.core.team import TeamStore

# The console script the package installs next to the interpreter (pyproject [project.scripts]).
WRAPPER = Path(sys.executable).parent / "crewmux-teammate"


def test_a_worker_started_the_way_claude_code_starts_teammates_joins_its_team(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    teams = TeamStore(root, interop=True)
    teams.create("crew")
    # What Claude Code's lead records before it runs the command in the pane it made.
    teams.join("crew", "worker-1", agent_type="general-purpose", backend_type="tmux", pane_id="%5")
    tasks = TaskStore(teams.paths("crew"))
    task = tasks.create("say hi", metadata={"command": "echo hi"})
    box = Mailbox(teams, "crew")
    box.send("worker-1", "You are worker-1; take tasks from the list.", sender="team-lead")

    flags = "--agent-id worker-1@crew --agent-name worker-1 --team-name crew --agent-color blue --parent-session-id s1"
    # The shape of the command Claude Code sends to a teammate pane, the binary replaced.
    command = (
        f"cd {shlex.quote(str(tmp_path))} && env CLAUDECODE=1 CLAUDE_CODE_EXPERIMENTAL_AGENT_TEAMS=1 "
        f"CLAUDE_CONFIG_DIR={shlex.quote(str(root))} {shlex.quote(str(WRAPPER))} {flags}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREWMUX_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CREWMUX_FSYNC"] = "0"
    proc = subprocess.Popen(["sh", "-c", command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 40
        while tasks.get(task.id).status != "completed":
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the worker never completed the task"
            box.wait("team-lead", 0.5)
        assert tasks.get(task.id).owner == "worker-1"

        request = ShutdownRequest(request_id="r1", sender="team-lead").model_dump_json(by_alias=True)
        box.send("worker-1", request, sender="team-lead")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    answers = [json.loads(m.text) for m, _ in box.history("team-lead") if m.text.startswith("{")]
    assert any(a.get("type") == "shutdown_approved" and a.get("requestId") == "r1" for a in answers), answers
    assert not [p for p in root.rglob("*.lock") if p.is_dir()]
    assert not teams.paths("crew").task_index.exists()
    tasks.close()

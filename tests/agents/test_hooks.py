"""TeammateIdle / TaskCompleted hooks: the runner alone, then through a real worker."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from app.core.atomic import Problem, add_problem_sink
from app.core.hooks import hook_payload, run_hooks
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.protocol import IdleNotification, TaskCompleted, parse_protocol
from app.core.settings import load_settings
from app.core.tasks import TaskStore
from tests.agents.teammate_helpers import Workers, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.team import TeamStore


def _settings(teams: TeamStore, team: str, hooks: dict[str, object]) -> None:
    teams.paths(team).settings.write_text(json.dumps({"hooks": hooks}))


def test_runner_exit2_stop_and_hang(teams: TeamStore, tmp_path: Path) -> None:
    teams.create("h")
    paths = teams.paths("h")
    seen = tmp_path / "stdin.json"
    payload = hook_payload("TaskCompleted", team="h", teammate="w", cwd=str(tmp_path), task_id="4", task_subject="s")
    _settings(teams, "h", {"TaskCompleted": [f"cat > {seen}; echo 'tests fail' >&2; exit 2"]})
    out = run_hooks(paths, "TaskCompleted", payload)
    assert not out.allowed and out.feedback == "tests fail"
    got = json.loads(seen.read_text())
    assert got["hook_event_name"] == "TaskCompleted" and got["task_id"] == "4" and got["teammate_name"] == "w"
    # Claude Code's nested form, and a stop decision on stdout.
    nested = [{"hooks": [{"type": "command", "command": """echo '{"continue": false, "stopReason": "budget"}'"""}]}]
    _settings(teams, "h", {"TeammateIdle": nested})
    assert len(load_settings(paths).commands("TeammateIdle")) == 1
    stop = run_hooks(paths, "TeammateIdle", hook_payload("TeammateIdle", team="h", teammate="w", cwd=str(tmp_path)))
    assert stop.stop and stop.stop_reason == "budget"
    problems: list[Problem] = []
    remove = add_problem_sink(problems.append)
    try:
        _settings(teams, "h", {"TeammateIdle": [{"command": "sleep 30", "timeout": 0.5}]})
        t0 = time.monotonic()
        hung = run_hooks(paths, "TeammateIdle", hook_payload("TeammateIdle", team="h", teammate="w", cwd=str(tmp_path)))
        assert time.monotonic() - t0 < 10
    finally:
        remove()
    assert hung.allowed and not hung.stop and "hung and was killed" in hung.problems[0]
    assert any("hung" in p.message for p in problems)


def test_completion_hook_refuses_and_task_stays_in_progress(teams: TeamStore, workers: Workers) -> None:
    teams.create("c")
    _settings(teams, "c", {"TaskCompleted": ["echo 'no tests were run' >&2; exit 2"]})
    store = TaskStore(teams.paths("c"))
    task = store.create("needs tests", metadata={"command": "true"})
    workers.start("c", "w")
    wait_until(lambda: (store.get(task.id).metadata or {}).get("hookFeedback"), 20, "hook feedback recorded")
    assert store.get(task.id).status == "in_progress"

    def refused() -> list[TaskCompleted]:  # the worker tells the lead after it records the feedback
        msgs = [parse_protocol(m.text) for m in Mailbox(teams, "c").inbox(LEAD_NAME)]
        return [p for p in msgs if isinstance(p, TaskCompleted) and p.status == "refused"]

    wait_until(refused, 20, "the refusal reaches the lead")
    assert refused()[0].detail == "no tests were run"
    assert "refused by hook: no tests were run" in workers.log("w")
    store.close()


def test_idle_hook_blocks_idle_then_stops_worker(teams: TeamStore, workers: Workers, tmp_path: Path) -> None:
    teams.create("i")
    calls = tmp_path / "calls"
    _settings(teams, "i", {"TeammateIdle": [f"echo x >> {calls}; echo 'keep going' >&2; exit 2"]})
    proc = workers.start("i", "w")
    wait_until(lambda: "idle refused by hook: keep going" in workers.log("w"), 20, "idle refused")
    msgs = [parse_protocol(m.text) for m in Mailbox(teams, "i").inbox(LEAD_NAME)]
    assert not [p for p in msgs if isinstance(p, IdleNotification)]
    _settings(teams, "i", {"TeammateIdle": ["""echo '{"continue": false, "stopReason": "done for today"}'"""]})
    TaskStore(teams.paths("i")).create("wake up")  # a task file change wakes the worker; no command
    assert proc.wait(20) == 0
    assert "exiting: " in workers.log("w")

"""The issue's "Done when": a team of mixed agents — a worker, a shell, and real codex, gemini,
aider and claude teammates (the pinned CLIs against the project's fake model servers) — survives
``tmux kill-server`` with ONE ``crewmux resume``: every teammate is restarted under its name, the
worker takes its task up again, and each agent CLI resumes its own conversation (its next
request carries its own earlier turn, once)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from functools import partial
from typing import TYPE_CHECKING

import pytest

from app.agents.clis import bin_dir
from app.core.agent_status import reported
from app.core.liveness import is_alive
from app.core.mailbox import Mailbox
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from app.lifecycle.inbox_delivery import InboxDelivery
from backends.tmux import TmuxBackend
from backends.tmux_server import TmuxServer
from tests.fakemodels import gemini, openai_chat, openai_responses
from tests.fakemodels.anthropic import all_text, user_says
from tests.fakemodels.base import Reply
from tests.fakemodels.gemini import GeminiServer
from tests.fakemodels.openai_chat import ChatCompletionsServer
from tests.fakemodels.openai_responses import ResponsesServer
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.claudecode.harness import ClaudeRig
    from tests.fakemodels.base import FakeModelServer, LoggedRequest

pytestmark = [pytest.mark.tmux, pytest.mark.slow, pytest.mark.timeout(400)]
AGENTS = ("codex", "gemini", "aider", "claude")


def test_a_mixed_team_survives_kill_server_with_one_resume(
    claude_rig: ClaudeRig, real_cli: Callable[[str], Path]
) -> None:
    rig = claude_rig
    for kind in ("codex", "gemini", "aider"):
        real_cli(kind)
    servers: dict[str, FakeModelServer] = {
        "codex": ResponsesServer().start(),
        "gemini": GeminiServer().start(),
        "aider": ChatCompletionsServer().start(),
    }
    texts: dict[str, Callable[[LoggedRequest], str]] = {
        "codex": lambda r: " ".join(openai_responses.user_texts(r)),
        "gemini": lambda r: " ".join(gemini.user_texts(r)),
        "aider": lambda r: " ".join(openai_chat.user_texts(r)),
    }
    for server in servers.values():
        server.default = Reply(text="noted")
    # one private HOME (the rig's) configured for every CLI; each teammate gets its CLI's variables
    home = AgentHome(root=rig.home.parent / "agents", workdir=rig.project, env={"HOME": str(rig.home)})
    home.root.mkdir()
    per_kind = {
        "codex": home.for_codex(servers["codex"]),
        "gemini": home.for_gemini(servers["gemini"]),
        "aider": home.for_aider(servers["aider"]),
    }
    rig.env["PATH"] = f"{bin_dir()}{os.pathsep}{rig.env['PATH']}"
    rig.crewmux("team", "create", "t")
    teams = TeamStore(rig.root)
    mail = Mailbox(teams, "t")
    stop = threading.Event()
    backend = TmuxBackend(server=TmuxServer(socket_name=rig.sock))
    deliverer = threading.Thread(
        target=InboxDelivery(mail, lambda _n: backend).run, args=(stop, lambda _e: None), kwargs={"idle": 0.5},
        daemon=True,
    )  # fmt: skip
    deliverer.start()

    def spawn(name: str, *args: str, env: dict[str, str] | None = None) -> None:
        env_args = [a for k, v in (env or {}).items() if k != "HOME" for a in ("--env", f"{k}={v}")]
        rig.crewmux("spawn", name, "--team", "t", "--backend", "tmux", "--cwd", str(rig.project), *env_args, *args)

    def asked(kind: str, word: str, after: int = 0) -> LoggedRequest | None:
        if kind == "claude":
            return next((r for r in rig.fake.requests[after:] if user_says(word)(r)), None)
        return next((r for r in servers[kind].model_calls[after:] if word in texts[kind](r)), None)

    def said(kind: str, req: LoggedRequest) -> str:
        return all_text(req) if kind == "claude" else texts[kind](req)

    try:
        tasks = TaskStore(teams.paths("t"))
        marker = rig.project / "worker-ran"
        task = tasks.create("a long job", metadata={"command": f"touch {marker} && sleep 600"})
        spawn("w", "--agent", "worker")
        spawn("sh", "--agent", "shell", "--", sys.executable, "-c", "import time; time.sleep(600)")
        for kind in AGENTS:
            spawn(f"{kind}-mate", "--agent", kind, "--prompt", f"Remember {kind.upper()}FRUIT", env=per_kind.get(kind))
        for kind in AGENTS:
            req = wait_until(partial(asked, kind, f"Remember {kind.upper()}FRUIT"), 120, f"{kind}'s first turn")

            def turn_over(name: str, since: float) -> bool:  # its own hook says the turn ended: it is on record
                report = reported(teams.paths("t"), name)
                return report is not None and report.state == "waiting" and report.at > since

            wait_until(partial(turn_over, f"{kind}-mate", req.at), 90, f"{kind} reports its first turn over")
        wait_until(lambda: marker.exists(), 60, "the worker runs its task")
        assert tasks.get(task.id).owner == "w"
        # the liveness beat (the console's) records each agent's own session while it runs
        wait_until(lambda: rig.run("monitor", "--team", "t", "--once").returncode == 0 and all(
            (rt := teams.member("t", f"{k}-mate").crewmux) is not None and rt.session_id for k in AGENTS
        ), 60, "every agent's session recorded")  # fmt: skip
        before = {m.name: m.crewmux for m in teams.load("t").members if m.crewmux is not None}
        marker.unlink()

        subprocess.run(["tmux", "-L", rig.sock, "kill-server"], check=True)
        report = {e["name"]: e for e in rig.crewmux("resume", "t", "--json")}  # ONE resume
        assert {n: e["action"] for n, e in report.items()} == dict.fromkeys(
            ["w", "sh", *(f"{k}-mate" for k in AGENTS)], "restarted"
        ), report
        for kind in AGENTS:
            note = report[f"{kind}-mate"]["conversation"]
            assert "resumed" in note or "restored" in note, report[f"{kind}-mate"]
        for name, rt in before.items():
            assert rt is not None and not is_alive(rt.pid, rt.pid_create_time), f"{name}: an old process lives on"
            now = teams.member("t", name).crewmux
            assert now is not None and is_alive(now.pid, now.pid_create_time), f"{name} is not running"
        assert tasks.get(task.id).owner == "w"  # the worker's task stays its own
        wait_until(lambda: marker.exists(), 60, "the restarted worker runs its task again")

        marks = {k: len(rig.fake.requests) if k == "claude" else len(servers[k].model_calls) for k in AGENTS}
        for kind in AGENTS:
            mail.send(f"{kind}-mate", f"Say {kind.upper()}AGAIN", sender="team-lead")
        for kind in AGENTS:
            req = wait_until(partial(asked, kind, f"Say {kind.upper()}AGAIN", marks[kind]), 120, f"{kind} again")
            text = said(kind, req)
            first = f"Remember {kind.upper()}FRUIT"
            assert text.count(first) == 1 and text.index(first) < text.index(f"Say {kind.upper()}AGAIN"), kind
        tasks.close()
    finally:
        stop.set()
        deliverer.join(timeout=20)
        for server in servers.values():
            server.stop()

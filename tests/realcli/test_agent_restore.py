"""A real codex, gemini or aider teammate brought back by ``crewmux resume`` after ``tmux
kill-server`` resumes its own conversation (``codex resume <id>`` with the thread id recorded from
the session file its process held open, or its notify; ``gemini --resume <id>``; ``aider
--restore-chat-history``): its next request carries the
earlier turn, once."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from app.core.liveness import is_alive
from tests.fakemodels.base import Reply
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import PROFILES, Crew, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(240)]


@pytest.mark.parametrize("kind", ["codex", "gemini", "aider"])
def test_restored_agent_resumes_its_conversation(kind: str, real_cli: Callable[[str], Path], tmp_path: Path) -> None:
    import json

    real_cli(kind)
    profile = PROFILES[kind]
    server = profile.server().start()
    server.default = Reply(text="ready")
    crew = Crew(tmp_path, profile, server, AgentHome.create(tmp_path / "agent")).start()
    try:
        crew.start_deliverer()
        crew.spawn("mate", "--prompt", "Remember PAPAYA")
        wait_until(lambda: any("PAPAYA" in " ".join(profile.user_texts(r)) for r in server.model_calls), 60, "turn 1")
        crew.wait_state("mate", "waiting", timeout=30)
        # the liveness beat (the console's, or `crewmux monitor`) binds a codex teammate to the
        # session file its own process holds open — before its notify may have run
        assert crew.crewmux("monitor", "--team", crew.team, "--once").returncode == 0
        rt = crew.teams.member(crew.team, "mate").crewmux
        assert rt is not None and rt.pid
        if kind == "codex":
            assert rt.session_id, "the monitor recorded codex's thread id"
        subprocess.run(["tmux", "-L", crew.socket, "kill-server"], check=True)
        # gemini outlives its pane (it ignores the hangup): resume ends such an orphan and restarts it
        if kind != "gemini":
            wait_until(lambda: not is_alive(rt.pid, rt.pid_create_time), 20, f"{kind} died with the tmux server")
        out = crew.crewmux("resume", crew.team, "--json")
        assert out.returncode == 0, out.stderr
        entry = next(e for e in json.loads(out.stdout) if e["name"] == "mate")
        assert not is_alive(rt.pid, rt.pid_create_time)
        said = entry["conversation"]
        assert entry["action"] == "restarted" and ("resumed" in said or "restored" in said), entry
        crew.wait_state("mate", "waiting", timeout=60)
        if kind == "gemini":  # it draws its input line before its MCP servers are up (README, Limits)
            wait_until(lambda: "MCP server" in crew.screen_text("mate"), 60, "gemini's MCP servers up")
        before = len(server.model_calls)
        crew.mailbox.send("mate", "Say KIWI", sender="team-lead")
        wait_until(lambda: any("KIWI" in r.body.decode(errors="replace") for r in server.model_calls[before:]), 60,
                   lambda: f"turn 2; deliveries {crew.events}; screen:\n{crew.screen_text('mate')}")  # fmt: skip
        req = next(r for r in server.model_calls[before:] if "KIWI" in r.body.decode(errors="replace"))
        text = req.body.decode(errors="replace")
        assert "Remember PAPAYA" in text and text.index("Remember PAPAYA") < text.index("Say KIWI")
        assert text.count("Remember PAPAYA") == 1  # resumed, not re-prompted
    finally:
        crew.close()

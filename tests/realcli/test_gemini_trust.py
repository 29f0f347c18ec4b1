"""gemini's first-run "Do you trust this folder?" is a permission question (raised to the lead), not unknown."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.agents.adapters import classify, load_rules
from backends.base import PaneSpec
from backends.tmux import TmuxBackend
from backends.tmux_server import TmuxServer
from tests.fakemodels.gemini import GeminiServer
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import wait_until


@pytest.mark.timeout(120)
def test_gemini_trust_question_is_permission(
    real_cli: Callable[[str], Path], agent_home: AgentHome, gemini_server: GeminiServer
) -> None:
    gemini = real_cli("gemini")
    env = agent_home.for_gemini(gemini_server, settings={"security": {
        "auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": True}}})  # fmt: skip
    sock = f"crewmux-trust-{uuid.uuid4().hex[:8]}"
    backend = TmuxBackend(server=TmuxServer(socket_name=sock))
    rules = load_rules("gemini")
    argv = ["env", *(a for var in rules.unset_env for a in ("-u", var)), str(gemini)]  # as crewmux starts it
    try:
        handle = backend.spawn(PaneSpec(team="t", name="g", argv=argv, cwd=str(agent_home.workdir), env=env))

        def state() -> str:
            shot = backend.screen(handle)
            return classify(shot.lines, rules, shot.cursor)

        wait_until(lambda: state() == "permission", 60, "the trust question classified as permission")
        assert "trust" in "\n".join(backend.screen(handle).lines).lower()
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, check=False)

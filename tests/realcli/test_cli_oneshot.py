"""Each pinned real CLI runs one non-interactive turn against the project's fake model server.

This proves the installer, the private homes and the fake servers before any pane is involved:
the prompt arrives byte-exact at the server and the scripted reply comes back on stdout.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.fakemodels import gemini, openai_chat, openai_responses
from tests.fakemodels.base import Reply
from tests.realcli.agent_home import AgentHome

PROMPT = 'say "hi" $(whoami) `id` \\ done'


def _run(argv: list[str], env: dict[str, str], cwd: str, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
    )


def test_pinned_versions_report_themselves(real_cli: Callable[[str], Path]) -> None:
    from app.agents.clis import find_cli, pinned

    for cli in pinned():
        real_cli(cli.kind)
        found = find_cli(cli.kind)
        assert found.where == "project", found
        assert found.version == cli.version, found
        assert found.verified


def test_codex_exec_talks_to_fake_responses(
    real_cli: Callable[[str], Path], agent_home: AgentHome, responses_server: openai_responses.ResponsesServer
) -> None:
    responses_server.script(Reply(text="pong from fake codex model"))
    env = agent_home.for_codex(responses_server)
    proc = _run([str(real_cli("codex")), "exec", "--skip-git-repo-check", PROMPT], env, str(agent_home.workdir))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong from fake codex model" in proc.stdout
    req = responses_server.wait_for_text(PROMPT, timeout=5)
    assert PROMPT in openai_responses.user_texts(req)


def test_gemini_prompt_talks_to_fake_gemini(
    real_cli: Callable[[str], Path], agent_home: AgentHome, gemini_server: gemini.GeminiServer
) -> None:
    gemini_server.script(Reply(text="pong from fake gemini model"))
    env = agent_home.for_gemini(gemini_server)
    proc = _run([str(real_cli("gemini")), "-p", PROMPT], env, str(agent_home.workdir))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong from fake gemini model" in proc.stdout
    req = gemini_server.wait_for_text(PROMPT, timeout=5)
    assert any(PROMPT in t for t in gemini.user_texts(req))


def test_aider_message_talks_to_fake_chat(
    real_cli: Callable[[str], Path], agent_home: AgentHome, chat_server: openai_chat.ChatCompletionsServer
) -> None:
    chat_server.script(Reply(text="pong from fake aider model"))
    env = agent_home.for_aider(chat_server)
    proc = _run([str(real_cli("aider")), "--message", PROMPT, "--no-pretty"], env, str(agent_home.workdir))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong from fake aider model" in proc.stdout
    req = chat_server.wait_for_text(PROMPT, timeout=5)
    assert any(PROMPT in t for t in openai_chat.user_texts(req))

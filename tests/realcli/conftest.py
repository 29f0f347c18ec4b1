"""Fixtures for tests that run the REAL agent CLIs (pinned in ``app/agents/clis.json``).

``real_cli("codex")`` gives the path of an installed pinned CLI. ``make test`` (and ``.ci/run``)
install them first (``python -m app.agents.install_clis``); when they are missing here, the
session installs them once. A test skips, saying why, only when the installer could not run
(no npm, no registry) — and under ``$CI`` that is a failure, never a skip.

``agent_home`` is a private HOME / XDG / CODEX_HOME for one test (see ``agent_home.py``), with
the installed CLIs first on ``PATH``. The fake model servers (``tests/fakemodels``) come as
fixtures too, one per API, each started for the test and stopped after it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.agents.clis import installed_binary, installed_version, pinned_for
from app.agents.install_clis import install, missing
from tests.fakemodels.gemini import GeminiServer
from tests.fakemodels.openai_chat import ChatCompletionsServer
from tests.fakemodels.openai_responses import ResponsesServer
from tests.realcli.agent_home import AgentHome

_install_errors: dict[str, str] | None = None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _ensure_installed() -> dict[str, str]:
    global _install_errors
    if _install_errors is None:
        _install_errors = install() if missing() else {}
    return _install_errors


@pytest.fixture(scope="session")
def real_cli() -> Callable[[str], Path]:
    """``real_cli(kind) -> Path`` of the pinned CLI; skips (fails under $CI) when it could not be installed."""

    def find(kind: str) -> Path:
        cli = pinned_for(kind)
        errors = _ensure_installed()
        path = installed_binary(cli)
        if installed_version(cli) == cli.version and path.exists():
            return path
        reason = errors.get(kind) or f"{cli.spec} is not installed in the project folder"
        message = f"real {kind} CLI unavailable: {reason} (run `python -m app.agents.install_clis`)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)

    return find


@pytest.fixture
def agent_home(tmp_path: Path) -> AgentHome:
    return AgentHome.create(tmp_path / "agent")


@pytest.fixture
def responses_server() -> Iterator[ResponsesServer]:
    with ResponsesServer() as server:
        yield server


@pytest.fixture
def gemini_server() -> Iterator[GeminiServer]:
    with GeminiServer() as server:
        yield server


@pytest.fixture
def chat_server() -> Iterator[ChatCompletionsServer]:
    with ChatCompletionsServer() as server:
        yield server

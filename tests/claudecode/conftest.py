"""Fixtures for tests that run the real Claude Code (see ``harness.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.claudecode.harness import ClaudeRig, make_rig
from tests.fakemodels.anthropic import AnthropicServer
from tests.realcli.conftest import real_cli

__all__ = ["claude_rig", "real_cli"]


@pytest.fixture
def claude_rig(tmp_path: Path, real_cli: Callable[[str], Path], tmux_socket: str) -> Iterator[ClaudeRig]:
    """The real claude, the fake Anthropic server, a private HOME and tmux socket (see harness)."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    claude = real_cli("claude")
    with AnthropicServer() as fake:
        yield make_rig(tmp_path, fake, claude, tmux_socket)

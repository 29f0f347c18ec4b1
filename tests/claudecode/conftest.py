"""Fixtures for tests that run the real Claude Code (see ``harness.py``)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.claudecode.harness import ClaudeRig, find_claude, make_rig
from tests.fakemodels.anthropic import AnthropicFake


@pytest.fixture
def claude_rig(tmp_path: Path) -> Iterator[ClaudeRig]:
    claude = find_claude()
    if claude is None:
        pytest.skip("the real claude is not installed (make test installs it)")
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    sock = f"crewmux-cc-{uuid.uuid4().hex[:8]}"
    with AnthropicFake() as fake:
        rig = make_rig(tmp_path, fake, claude, sock)
        try:
            yield rig
        finally:
            subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, check=False)

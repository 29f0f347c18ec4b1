"""Fixtures for the backend tests: every backend that can run here, each isolated.

tmux runs on a private server per test (a unique ``-L`` socket, killed in a finalizer); the
iTerm2 backend runs against the fake ``it2`` CLI in ``fake_it2.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import PaneBackend

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for crewmux_pane_testkit
BACKEND_NAMES = ["in-process", "tmux"]


@pytest.fixture
def tmux_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private tmux socket name for this test; its server is killed afterwards."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    name = f"crewmux-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("CREWMUX_TMUX_SOCKET", name)
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("TMUX_PANE", raising=False)
    yield name
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def fake_it2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``it2`` on PATH that keeps its sessions under a tmp dir; returns that dir."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    state = tmp_path / "it2-state"
    state.mkdir()
    script = bindir / "it2"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} {HERE / "fake_it2.py"} "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CREWMUX_FAKE_IT2_STATE", str(state))
    monkeypatch.setenv("ITERM_SESSION_ID", "w0t0p0:LEAD-SESSION")
    return state


@pytest.fixture(params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> Iterator[PaneBackend]:
    """Each backend in turn; every pane it made is killed afterwards."""
    name = str(request.param)
    made: PaneBackend
    if name == "tmux":
        request.getfixturevalue("tmux_socket")
        from backends.tmux import TmuxBackend

        made = TmuxBackend()
    elif name == "iterm2":
        request.getfixturevalue("fake_it2")
        from backends.iterm2 import ITermBackend

        made = ITermBackend()
    else:
        from backends.inprocess import InProcessBackend

        made = InProcessBackend()
    yield made
    for handle in made.list_panes("t"):
        with contextlib.suppress(Exception):  # best-effort cleanup of a failed test's panes
            made.kill(handle, grace=0.5)

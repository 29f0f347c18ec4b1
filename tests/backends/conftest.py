"""Fixtures for the backend tests: every backend that can run here, each isolated.

tmux runs on a private server per test (``tmux_socket`` in tests/conftest.py); the
iTerm2 backend runs against the fake ``iterm2`` API package in ``fake_iterm2_pkg/``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import PaneBackend

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for crewmux_pane_testkit
BACKEND_NAMES = ["in-process", "tmux", "iterm2"]


@pytest.fixture
def fake_iterm2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fake ``iterm2`` API package importable, its socket present, inside a fake iTerm2 session."""
    sock = tmp_path / "iterm2-api.socket"
    sock.touch()
    monkeypatch.setenv("CREWMUX_ITERM2_SOCKET", str(sock))
    monkeypatch.setenv("ITERM_SESSION_ID", "w0t0p0:LEAD-SESSION")
    monkeypatch.setenv("TERM_PROGRAM", "iTerm.app")
    monkeypatch.syspath_prepend(str(HERE / "fake_iterm2_pkg"))
    yield sock
    sys.modules.pop("iterm2", None)


@pytest.fixture(params=["ghostty", "pyte"])
def screen_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each in-process screen in turn: Ghostty's (pyghostty) and pyte's (the fallback)."""
    kind = str(request.param)
    monkeypatch.setenv("CREWMUX_SCREEN", kind)
    return kind


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
        request.getfixturevalue("fake_iterm2")
        from backends.iterm2 import ITermBackend

        made = ITermBackend()
    else:
        from backends.inprocess import InProcessBackend

        made = InProcessBackend()
    yield made
    for handle in made.list_panes("t"):
        with contextlib.suppress(Exception):  # best-effort cleanup of a failed test's panes
            made.kill(handle, grace=0.5)

"""Fixtures shared by every test: an isolated crewmux root, a CLI runner, and tmux sockets that
do not outlive the run."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import libtmux
import psutil
import pytest

from app.core.tasks import TaskStore
from app.core.team import TeamStore

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _private_tmux_dir() -> Iterator[Path]:
    """Every tmux server of this run (the tests' and crewmux's children) puts its socket under a
    private ``$TMUX_TMPDIR``; at the end any server still up is killed and the folder removed, so a
    run leaves no socket behind in ``/tmp/tmux-$UID``. (tmux does not unlink its socket on
    ``kill-server``.) Each pytest-xdist worker has its own."""
    saved = os.environ.get("TMUX_TMPDIR")
    folder = Path(tempfile.mkdtemp(prefix="cmx-tmux-", dir="/tmp"))  # short: a socket path has ~100 bytes
    os.environ["TMUX_TMPDIR"] = str(folder)
    try:
        yield folder
    finally:
        if saved is None:
            os.environ.pop("TMUX_TMPDIR", None)
        else:
            os.environ["TMUX_TMPDIR"] = saved
        for sock in folder.glob("tmux-*/*"):
            if shutil.which("tmux"):
                subprocess.run(["tmux", "-S", str(sock), "kill-server"], capture_output=True, check=False, timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


TEST_MARK = "CREWMUX_TEST_MARK"


def _marked(mark: str) -> list[psutil.Process]:
    """Live processes whose environment carries ``mark`` (this test's children, wherever they went)."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(TEST_MARK) == mark:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


@pytest.fixture(scope="module", autouse=True)
def _no_orphans(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every process a test module starts inherits a mark in its environment (tmux servers hand it
    on to their panes); after the module, any marked process still alive is SIGKILLed. Some agent
    CLIs outlive ``tmux kill-server`` (gemini ignores the hangup), and daemonised servers are not
    the tests' descendants, so this is the one place that guarantees a run leaves nothing running.
    Module scope: module-scoped fixtures (a shared agent crew, a browser) live as long as the mark."""
    mark = f"{os.getpid()}-{request.node.nodeid}"[:200]
    saved = os.environ.get(TEST_MARK)
    os.environ[TEST_MARK] = mark
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(TEST_MARK, None)
        else:
            os.environ[TEST_MARK] = saved
        left = _marked(mark)
        for proc in left:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(left, timeout=5)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh crewmux root; ``$CREWMUX_HOME`` points at it for the test and its children."""
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("CREWMUX_HOME", str(root))
    monkeypatch.delenv("CREWMUX_TEAM", raising=False)
    monkeypatch.delenv("CREWMUX_AGENT", raising=False)
    yield root


@pytest.fixture
def teams(home: Path) -> TeamStore:
    return TeamStore(home)


@pytest.fixture
def team(teams: TeamStore) -> str:
    """A team named ``t`` with members alice and bob besides the lead."""
    teams.create("t", "test team")
    teams.join("t", "alice")
    teams.join("t", "bob")
    return "t"


@pytest.fixture
def tasks(teams: TeamStore, team: str) -> Iterator[TaskStore]:
    store = TaskStore(teams.paths(team))
    yield store
    store.close()


@pytest.fixture
def tmux_socket(server: libtmux.Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private tmux server for this test: libtmux's ``server`` fixture (a unique socket name;
    the server killed and its socket unlinked afterwards). crewmux, and every process the test
    starts, reach it through ``$CREWMUX_TMUX_SOCKET``; ``$TMUX`` is cleared."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    assert server.socket_name is not None
    monkeypatch.setenv("CREWMUX_TMUX_SOCKET", server.socket_name)
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("TMUX_PANE", raising=False)
    return server.socket_name


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(home: Path) -> object:
    """Run ``crewmux ARGS...`` as a real child process against the test's root."""

    def run(*args: str, timeout: float = 60.0, env: dict[str, str] | None = None) -> Result:
        full_env = {**os.environ, "CREWMUX_HOME": str(home), **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "app", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=REPO,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run

"""The settle before typing counts looks made earlier: an agent idle for a while is typed into at once.

A fake codex in a real tmux pane (tests/agents/fake_agent.py); the looks are counted, not timed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from app.agents.adapters import load_rules
from app.agents.delivery import wait_for_input, watch
from backends.base import PaneSpec
from backends.tmux import TmuxBackend
from tests.agents.teammate_helpers import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from backends.base import PaneHandle, ScreenText

FAKE = Path(__file__).with_name("fake_agent.py")
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class CountingTmux(TmuxBackend):
    """The tmux backend, counting screen captures."""

    looks = 0

    def screen(self, handle: PaneHandle, *, scrollback: int = 0) -> ScreenText:
        self.looks += 1
        return super().screen(handle, scrollback=scrollback)


@pytest.fixture
def tmux(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingTmux]:
    sock = f"crewmux-settle-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CREWMUX_TMUX_SOCKET", sock)
    monkeypatch.delenv("TMUX", raising=False)
    yield CountingTmux()
    subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, check=False)


def test_a_screen_seen_unchanged_earlier_needs_no_new_settle(tmux: CountingTmux, tmp_path: Path) -> None:
    log = tmp_path / "mate.log"
    argv = [sys.executable, str(FAKE), "codex", str(log)]
    handle = tmux.spawn(PaneSpec(team="d", name="mate", argv=argv, cwd=str(tmp_path), env={"TERM": "xterm"}))
    wait_until(lambda: "fake codex agent" in "\n".join(tmux.screen(handle).lines), 20, "fake agent started")
    rules = load_rules("codex")
    wait_for_input(tmux, handle, rules, timeout=20, settle=0.25)  # watched until unchanged for 0.25 s
    before = tmux.looks
    wait_for_input(tmux, handle, rules, timeout=20, settle=0.25)  # the same screen: no second settle
    assert tmux.looks - before == 1

    tmux.write(handle, "Q", paste=False, enter=False)  # the screen changes: the settle starts over
    wait_until(lambda: "› Q" in "\n".join(tmux.screen(handle).lines), 10, "typed")
    _shot, since = watch(tmux, handle)
    assert watch(tmux, handle)[1] == since  # unchanged: the same "since"
    tmux.write(handle, "\x15", paste=False, enter=False)  # Ctrl-U: the fake agent clears its input line
    wait_until(lambda: watch(tmux, handle)[1] > since, 10, "a changed screen starts a new 'since'")
    before = tmux.looks
    wait_for_input(tmux, handle, rules, timeout=20, settle=0.25)
    assert tmux.looks - before > 1  # watched for a fresh 0.25 s

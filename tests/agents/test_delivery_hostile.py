"""Hostile messages typed into teammates: nothing escapes the paste, nothing is retyped in a loop.

Real shells (bash) and the fake agent, in real tmux panes on a private socket and on in-process ptys.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from app.agents.adapters import input_text, load_rules
from app.agents.delivery import deliver_unread
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from app.core.team import TeamStore
from app.lifecycle.inbox_delivery import InboxDelivery
from backends.base import PaneBackend, PaneHandle, PaneSpec
from backends.inprocess import InProcessBackend
from backends.tmux import TmuxBackend
from tests.agents.teammate_helpers import wait_until

FAKE = Path(__file__).with_name("fake_agent.py")
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
BASH_ENV = {"TERM": "xterm", "PS1": "$ ", "HOME": "/nonexistent", "INPUTRC": "/dev/null", "PATH": "/usr/bin:/bin"}


@pytest.fixture
def tmux(tmux_socket: str) -> TmuxBackend:
    return TmuxBackend()


def _mailbox(home: Path) -> Mailbox:
    teams = TeamStore(home)
    teams.create("d")
    teams.join("d", "agent")
    return Mailbox(teams, "d")


def _bash(backend: PaneBackend, tmp_path: Path) -> PaneHandle:
    argv = ["bash", "--norc", "--noprofile", "-i"]
    handle = backend.spawn(PaneSpec(team="d", name="sh", argv=argv, cwd=str(tmp_path), env=BASH_ENV))
    wait_until(lambda: "$" in "\n".join(backend.screen(handle).lines), 20, "bash prompt")
    return handle


@pytest.mark.parametrize("which", ["tmux", "in-process"])
def test_a_message_cannot_escape_the_paste_into_a_shell(
    which: str, tmux: TmuxBackend, tmp_path: Path, home: Path
) -> None:
    backend: PaneBackend = tmux if which == "tmux" else InProcessBackend()
    handle = _bash(backend, tmp_path)
    try:
        mail = _mailbox(home)
        marker = tmp_path / "escaped"
        hostile = f"hello\x1b[201~\rtouch {marker}\r\x03\x1b[200~"
        msg_id = mail.send("agent", hostile, sender=LEAD_NAME)
        done = deliver_unread(mail, "agent", backend, handle, load_rules("shell"), timeout=20)
        assert [d.msg_id for d in done] == [msg_id]
        assert mail.status(msg_id).state == "read"
        # typed as one line, "hello touch <marker>": bash looked up a command "hello", touched nothing
        wait_until(lambda: "hello: command not found" in "\n".join(backend.screen(handle).lines), 10, "bash ran it")
        assert not marker.exists()
    finally:
        backend.kill(handle, grace=1)


def _fake_codex(tmux: TmuxBackend, tmp_path: Path, *flags: str) -> tuple[PaneHandle, Path]:
    log = tmp_path / "codex.log"
    log.touch()
    argv = [sys.executable, str(FAKE), "codex", str(log), *flags]
    handle = tmux.spawn(PaneSpec(team="d", name="codex", argv=argv, cwd=str(tmp_path), env={"TERM": "xterm"}))
    wait_until(lambda: "fake codex agent" in "\n".join(tmux.screen(handle).lines), 20, "fake codex started")
    return handle, log


def test_control_keys_in_a_message_are_not_keys(tmux: TmuxBackend, tmp_path: Path, home: Path) -> None:
    handle, log = _fake_codex(tmux, tmp_path)
    mail = _mailbox(home)
    msg_id = mail.send("agent", "line one\x1b[201~\rsubmitted early?\x03\nline two\x04", sender=LEAD_NAME)
    deliver_unread(mail, "agent", tmux, handle, load_rules("codex"), timeout=20)
    assert mail.status(msg_id).state == "read"
    # one submission (the paste's newlines are inserted, not Enter), and Ctrl-C did not kill it
    assert log.read_text() == "line one submitted early? line two\n"
    assert tmux.is_alive(handle)


def test_a_message_typed_but_not_taken_is_not_retyped_by_the_loop(
    tmux: TmuxBackend, tmp_path: Path, home: Path
) -> None:
    handle, log = _fake_codex(tmux, tmp_path, "--drop-enters", "100")
    teams = TeamStore(home)
    teams.create("d")
    runtime = MemberRuntime(
        pid=handle.pid, pid_create_time=handle.pid_create_time, pane_session=handle.locator, agent_kind="codex"
    )
    teams.join("d", "agent", backend_type="tmux", pane_id=handle.pane_id, runtime=runtime)
    mail = Mailbox(teams, "d")
    msg_id = mail.send("agent", "typed once only", sender=LEAD_NAME)
    loop = InboxDelivery(mail, lambda _name: tmux, timeout=10, backoff=0.0)
    events, _ = loop.deliver_once()
    assert [e.error is not None for e in events] == [True]
    rules = load_rules("codex")
    tmux.server.run("send-keys", "-t", handle.pane_id, "C-u")  # the input line is cleared
    wait_until(lambda: input_text(tmux.screen(handle).lines, rules) == "", 10, "input line cleared")
    events, _ = loop.deliver_once()
    assert events == []  # held for a decision: not typed a second time
    assert input_text(tmux.screen(handle).lines, rules) == ""
    assert mail.status(msg_id).state == "sent" and log.read_text() == ""
    later = mail.send("agent", "a later message", sender=LEAD_NAME)
    events, _ = loop.deliver_once()  # later messages are not blocked behind the held one
    assert [e.error is not None for e in events] == [True]
    assert "a later message" in (input_text(tmux.screen(handle).lines, rules) or "")
    assert mail.status(later).state == "sent"

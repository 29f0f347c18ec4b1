"""The message ledger: sent → delivered → read, or dead with a reason; requeue and discard.

Fake agents (tests/agents/fake_agent.py) in real tmux panes; the CLI is the real ``crewmux``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.agents.adapters import load_rules
from app.agents.delivery import wait_for_input
from app.core.ledger import Ledger
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from app.core.team import TeamStore
from app.lifecycle.inbox_delivery import InboxDelivery, pane_handle
from app.lifecycle.permission_watch import PermissionWatch
from backends.base import PaneHandle, PaneSpec
from backends.tmux import TmuxBackend
from tests.agents.teammate_helpers import wait_until

FAKE = Path(__file__).with_name("fake_agent.py")
REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def tmux(monkeypatch: pytest.MonkeyPatch) -> Iterator[TmuxBackend]:
    sock = f"crewmux-ledger-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CREWMUX_TMUX_SOCKET", sock)
    monkeypatch.delenv("TMUX", raising=False)
    yield TmuxBackend()
    subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, check=False)


def _member(tmux: TmuxBackend, tmp_path: Path, home: Path, name: str, *flags: str) -> tuple[Mailbox, Path]:
    log = tmp_path / f"{name}.log"
    log.touch()
    argv = [sys.executable, str(FAKE), "codex", str(log), *flags]
    handle = tmux.spawn(PaneSpec(team="d", name=name, argv=argv, cwd=str(tmp_path), env={"TERM": "xterm"}))
    wait_until(lambda: "fake codex agent" in "\n".join(tmux.screen(handle).lines), 20, "fake agent started")
    teams = TeamStore(home)
    if teams.load("d").member(name) is None:
        runtime = MemberRuntime(
            pid=handle.pid, pid_create_time=handle.pid_create_time, pane_session=handle.locator, agent_kind="codex"
        )
        teams.join("d", name, backend_type="tmux", pane_id=handle.pane_id, runtime=runtime)
    return Mailbox(teams, "d"), log


def _cli(home: Path, *args: str) -> tuple[int, dict[str, object] | list[object], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "app", *args, "--team", "d", "--json"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "CREWMUX_HOME": str(home)}, cwd=REPO, check=False,
    )  # fmt: skip
    return proc.returncode, json.loads(proc.stdout or "null"), proc.stderr


def test_delivered_then_read_and_the_ledger_shows_it(tmux: TmuxBackend, tmp_path: Path, home: Path) -> None:
    TeamStore(home).create("d")
    mail, log = _member(tmux, tmp_path, home, "ok")
    msg_id = mail.send("ok", "hello there", sender=LEAD_NAME)
    code, doc, _ = _cli(home, "msg", "status", msg_id)
    assert code == 0 and isinstance(doc, dict) and doc["state"] == "sent"
    events, _ = InboxDelivery(mail, lambda _n: tmux, timeout=10).deliver_once()
    assert [e.msg_id for e in events] == [msg_id]
    assert log.read_text() == "hello there\n"
    code, doc, _ = _cli(home, "msg", "status", msg_id)
    assert isinstance(doc, dict) and doc["state"] == "read"
    ledger = doc["ledger"]
    assert isinstance(ledger, list) and [e["state"] for e in ledger] == ["typing", "delivered"]


def test_dead_letter_listed_never_retyped_until_requeued_then_discarded(
    tmux: TmuxBackend, tmp_path: Path, home: Path
) -> None:
    TeamStore(home).create("d")
    mail, log = _member(tmux, tmp_path, home, "deaf", "--drop-enters", "100")
    msg_id = mail.send("deaf", "you will not take this", sender=LEAD_NAME)
    loop = InboxDelivery(mail, lambda _n: tmux, timeout=10, backoff=0.0)
    events, _ = loop.deliver_once()
    assert [e.error is not None for e in events] == [True]
    code, doc, _ = _cli(home, "msg", "status", msg_id)
    assert isinstance(doc, dict) and doc["state"] == "dead" and "two Enters" in str(doc["reason"])
    code, dead, _ = _cli(home, "msg", "dead")
    assert code == 0 and isinstance(dead, list)
    assert [(d["msgId"], d["to"], d["text"]) for d in dead if isinstance(d, dict)] == [
        (msg_id, "deaf", "you will not take this")
    ]
    assert any("could not deliver" in m.text for m in mail.inbox(LEAD_NAME))
    # the loop never types a dead letter again
    screen = "\n".join(tmux.screen(loop_handle(mail, "deaf")).lines)
    assert loop.deliver_once() == ([], False)
    assert "\n".join(tmux.screen(loop_handle(mail, "deaf")).lines) == screen
    # requeued: typable once more (it is pasted a second time), and dead again when still not taken
    code, doc, err = _cli(home, "msg", "requeue", msg_id)
    assert code == 0, err
    tmux.server.run("send-keys", "-t", loop_handle(mail, "deaf").pane_id, "C-u")
    # a synchronous pass types only into an agent waiting right now: wait until the line is cleared
    wait_for_input(tmux, loop_handle(mail, "deaf"), load_rules("codex"), timeout=10)
    events, _ = loop.deliver_once()
    states = [e.state for e in Ledger(mail.paths).history(msg_id)]
    assert states == ["typing", "dead", "requeued", "typing", "dead"]
    code, doc, err = _cli(home, "msg", "discard", msg_id)
    assert code == 0, err
    code, doc, _ = _cli(home, "msg", "status", msg_id)
    assert isinstance(doc, dict) and doc["state"] == "discarded"
    code, dead, _ = _cli(home, "msg", "dead")
    assert dead == []
    code, _, err = _cli(home, "msg", "requeue", "no-such-id")
    assert code == 2, err
    assert log.read_text() == ""


def loop_handle(mail: Mailbox, name: str) -> PaneHandle:
    handle = pane_handle(mail.teams.member(mail.team, name))
    assert handle is not None
    return handle


def test_deliveries_to_different_teammates_do_not_wait_on_each_other(
    tmux: TmuxBackend, tmp_path: Path, home: Path
) -> None:
    """A teammate busy for a long time does not hold up another one's message (one worker each)."""
    import threading

    TeamStore(home).create("d")
    mail, slow_log = _member(tmux, tmp_path, home, "slow", "--busy-first", "30")
    _, quick_log = _member(tmux, tmp_path, home, "quick")
    mail.send("slow", "for the busy one", sender=LEAD_NAME)
    quick_id = mail.send("quick", "for the idle one", sender=LEAD_NAME)
    stop = threading.Event()
    loop = InboxDelivery(mail, lambda _n: tmux, timeout=2, backoff=0.0)
    runner = threading.Thread(target=loop.run, args=(stop, lambda _e: None), kwargs={"idle": 0.2}, daemon=True)
    runner.start()
    try:
        wait_until(lambda: quick_log.read_text() == "for the idle one\n", 10, "the idle teammate got its message")
        wait_until(lambda: mail.status(quick_id).state == "read", 10, "marked read once seen submitted")
        assert slow_log.read_text() == ""  # still busy: waited for, not failed
        assert not Ledger(mail.paths).dead()
    finally:
        stop.set()
        runner.join(timeout=20)
    assert load_rules("codex").reads_inbox is False


def test_a_permission_question_on_a_typed_agent_is_raised_to_the_lead_once(
    tmux: TmuxBackend, tmp_path: Path, home: Path
) -> None:
    import threading

    TeamStore(home).create("d")
    mail, _log = _member(tmux, tmp_path, home, "asker", "--ask-first")
    stop = threading.Event()
    loop = InboxDelivery(mail, lambda _n: tmux, timeout=2, backoff=0.0)
    runner = threading.Thread(target=loop.run, args=(stop, lambda _e: None), kwargs={"idle": 0.2}, daemon=True)
    runner.start()

    def raised() -> list[str]:
        return [m.text for m in mail.inbox(LEAD_NAME) if "asks for permission" in m.text]

    try:
        wait_until(lambda: raised(), 10, "the lead told about the permission question")
        assert "asker" in raised()[0] and "Allow command?" in raised()[0]
    finally:
        stop.set()
        runner.join(timeout=20)
    assert len(raised()) == 1
    watch = PermissionWatch(mail, lambda _n: tmux)
    assert watch.check() == ["asker"]  # a new watcher raises the question still on screen...
    assert watch.check() == []  # ...once: not once per look

"""The console's deliverer is supervised: a crash is told (its traceback's last line) and it restarts.

A fake codex in a real tmux pane (tests/agents/fake_agent.py). Before, an exception other than
CrewmuxError ended the teammate's worker thread or the whole loop without a word.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import app.lifecycle.inbox_delivery as inbox_delivery
from app.core.ledger import Ledger, dead_letters
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from app.core.team import TeamStore
from app.lifecycle.inbox_delivery import DeliveryEvent, InboxDelivery
from app.lifecycle.permission_watch import PermissionWatch
from backends.base import PaneSpec
from backends.tmux import TmuxBackend
from tests.agents.teammate_helpers import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

FAKE = Path(__file__).with_name("fake_agent.py")
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def tmux(monkeypatch: pytest.MonkeyPatch) -> Iterator[TmuxBackend]:
    sock = f"crewmux-supervised-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CREWMUX_TMUX_SOCKET", sock)
    monkeypatch.delenv("TMUX", raising=False)
    yield TmuxBackend()
    subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, check=False)


def _fake_codex(tmux: TmuxBackend, tmp_path: Path, home: Path) -> tuple[Mailbox, Path]:
    log = tmp_path / "mate.log"
    log.touch()
    argv = [sys.executable, str(FAKE), "codex", str(log)]
    handle = tmux.spawn(PaneSpec(team="d", name="mate", argv=argv, cwd=str(tmp_path), env={"TERM": "xterm"}))
    wait_until(lambda: "fake codex agent" in "\n".join(tmux.screen(handle).lines), 20, "fake agent started")
    teams = TeamStore(home)
    teams.create("d")
    runtime = MemberRuntime(
        pid=handle.pid, pid_create_time=handle.pid_create_time, pane_session=handle.locator, agent_kind="codex"
    )
    teams.join("d", "mate", backend_type="tmux", pane_id=handle.pane_id, runtime=runtime)
    return Mailbox(teams, "d"), log


def test_a_crashing_deliverer_is_told_restarted_and_never_types_twice(
    tmux: TmuxBackend, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mail, log = _fake_codex(tmux, tmp_path, home)
    first = mail.send("mate", "first message", sender=LEAD_NAME)
    ledger = Ledger(mail.paths)
    from app.agents.delivery import deliver_unread as real_deliver

    crashed: list[str] = []

    def crash_while_typing_once(*args: Any, **kwargs: Any) -> Any:
        if not crashed:
            crashed.append(first)
            ledger.record(first, "mate", "typing", via="typed")  # as deliver_unread does before the paste
            raise RuntimeError("boom in the middle of a paste")
        return real_deliver(*args, **kwargs)

    real_check = PermissionWatch.check
    loop_crashes: list[int] = []

    def loop_crash_once(self: PermissionWatch) -> None:
        if not loop_crashes:
            loop_crashes.append(1)
            raise ValueError("the loop itself broke")
        real_check(self)

    monkeypatch.setattr(inbox_delivery, "deliver_unread", crash_while_typing_once)
    monkeypatch.setattr(PermissionWatch, "check", loop_crash_once)
    events: list[DeliveryEvent] = []
    stop = threading.Event()
    loop = InboxDelivery(mail, lambda _n: tmux, timeout=10, restart=0.1)
    runner = threading.Thread(target=loop.run, args=(stop, events.append), kwargs={"idle": 0.2}, daemon=True)
    runner.start()
    try:
        wait_until(lambda: any(e.crash and "RuntimeError: boom" in (e.error or "") for e in events), 20, "crash told")
        wait_until(lambda: any(e.crash and "ValueError: the loop" in (e.error or "") for e in events), 20, "loop crash")
        second = mail.send("mate", "second message", sender=LEAD_NAME)
        wait_until(lambda: "second message" in log.read_text(), 30, "the restarted deliverer typed the next one")
        wait_until(lambda: mail.status(second).state == "read", 10, "marked read once seen submitted")
    finally:
        stop.set()
        runner.join(timeout=30)
    told = next(e for e in events if e.crash and e.name == "mate")
    assert "(at test_deliverer_supervised.py:" in str(told.error) and "restarting in" in str(told.error)
    assert "first message" not in log.read_text()  # it was being typed when the deliverer died: never again
    last = ledger.history(first)[-1]
    assert last.state == "dead" and "deliverer failed while typing" in str(last.reason)
    assert [d.event.id for d in dead_letters(mail)] == [first]  # listed for a person to requeue or discard

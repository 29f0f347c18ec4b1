"""The agents' own signals, with the REAL codex, gemini and aider: state follows each turn within
1 s, and a permission question reaches the lead once, with its text.

gemini 0.61 reports through its settings hooks (``BeforeAgent`` busy, ``AfterAgent`` waiting,
``Notification``/``ToolPermission`` permission), codex 0.169 through ``notify``
(``agent-turn-complete``), aider 0.86 through ``--notifications-command`` (it waits for the user):
each runs :mod:`app.core.hook_record`, which writes the member's status file. The judge
(:class:`app.agents.agent_state.StateSource`) takes that report first and the screen when it is
stale; a codex or aider turn start (no hook of theirs) is seen on the screen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.agents.adapters import load_rules
from app.agents.agent_state import StateSource
from app.core.agent_status import reported
from app.core.paths import LEAD_NAME
from tests.fakemodels.base import Reply, ToolCall
from tests.realcli.teammates import PROFILES, Crew, mate_crew, wait_until

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(300)]
FIRST = "First prompt: say 'ready' and wait."
HOOKED_BUSY = {"gemini", "codex"}
"""Kinds whose own hooks report the start of a turn (the others' start is seen on their screen)."""
HOOKED_PERMISSION = {"gemini", "codex"}
"""Kinds whose own hooks report a permission question (aider's is told from its screen)."""


@pytest.fixture(params=sorted(PROFILES))
def crew(request: pytest.FixtureRequest, real_cli: Callable[[str], Path], tmp_path: Path) -> Iterator[Crew]:
    """A fresh agent for each test: the permission test leaves its agent at a question, and
    pytest-xdist's work stealing may run it before the other test on the same worker."""
    kind = str(request.param)
    real_cli(kind)
    with mate_crew(kind, tmp_path / f"signals-{kind}", FIRST) as crew:
        yield crew


def _verdict(crew: Crew, states: StateSource) -> tuple[str, str]:
    member = crew.teams.member(crew.team, "mate")
    started = member.crewmux.pid_create_time if member.crewmux else None
    shot = crew.backend.screen(crew.handle("mate"))
    v = states.judge("mate", load_rules(crew.profile.kind), shot, started_at=started)
    return v.state, v.source


def _ready(crew: Crew) -> None:
    crew.server.wait_for_text(FIRST, timeout=90)
    crew.wait_state("mate", "waiting", timeout=60)
    paths = crew.teams.paths(crew.team)
    wait_until(lambda: (r := reported(paths, "mate")) and r.state == "waiting", 30, "the first turn's report")


def test_state_follows_a_turn_within_a_second(crew: Crew) -> None:
    _ready(crew)
    paths = crew.teams.paths(crew.team)
    states = StateSource(paths)
    _verdict(crew, states)  # the first look
    hold = threading.Event()
    crew.server.script(Reply(text="working on it", hold=hold, chunks=1))
    before = len(crew.server.requests)
    crew.mailbox.send("mate", "hold this turn", sender=LEAD_NAME)
    try:
        crew.server.wait_for_text("hold this turn", timeout=30, after=before)
        # busy within 1 s of the model request: the agent's own hook (gemini), its screen (codex, aider)
        wait_until(lambda: _verdict(crew, states)[0] == "busy", 1.0, f"{crew.profile.kind} busy", step=0.02)
        if crew.profile.kind in HOOKED_BUSY:
            got = reported(paths, "mate")
            assert got is not None and got.state == "busy", got
            assert _verdict(crew, states)[0] == "busy"
    finally:
        released = time.time()
        hold.set()

    def idle_reported() -> bool:
        got = reported(paths, "mate")
        return got is not None and got.state == "waiting" and got.at >= released

    wait_until(idle_reported, 1.0, f"{crew.profile.kind} reports waiting after the turn", step=0.02)
    wait_until(lambda: _verdict(crew, states)[0] == "waiting", 1.0, "judged waiting after the turn", step=0.02)


def _permission_reply(kind: str) -> Reply:
    if kind == "codex":  # a command that asks to leave the sandbox: codex asks the user under on-request
        args = {"cmd": "touch /tmp/crewmux-never", "sandbox_permissions": "require_escalated", "justification": "test"}
        return Reply(text="", tool_calls=[ToolCall("exec_command", args)])
    if kind == "gemini":  # any shell command needs approval in gemini's default approval mode
        return Reply(text="", tool_calls=[ToolCall("run_shell_command", {"command": "touch crewmux-approve-me"})])
    # aider offers to run the shell commands the model suggests: "Run shell command? (Y)es/(N)o"
    return Reply(text="Run this:\n\n```bash\necho crewmux-approve-me\n```\n")


def test_a_permission_question_reaches_the_lead_once(crew: Crew, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.lifecycle.permission_watch import PermissionWatch

    looks = [0]
    check = PermissionWatch.check

    def counted(self: PermissionWatch) -> list[str]:  # the deliverer's own watch, counted
        raised = check(self)
        looks[0] += 1
        return raised

    monkeypatch.setattr(PermissionWatch, "check", counted)
    _ready(crew)
    crew.server.script(_permission_reply(crew.profile.kind))
    crew.mailbox.send("mate", "please run the command", sender=LEAD_NAME)

    def asked() -> list[str]:
        return [m.text for m in crew.mailbox.inbox(LEAD_NAME) if m.summary == "permission requested"]

    wait_until(
        asked,
        60,
        lambda: (
            f"{crew.profile.kind}'s question at the lead; events {crew.events}; screen:\n{crew.screen_text('mate')}"
        ),
    )
    seen = looks[0]
    wait_until(lambda: looks[0] >= seen + 4, 20, "four more looks of the deliverer's permission watch")
    questions = asked()
    assert len(questions) == 1, questions
    got = reported(crew.teams.paths(crew.team), "mate")
    if crew.profile.kind in HOOKED_PERMISSION:  # its own hook said so, with what it asks
        assert got is not None and got.state == "permission" and got.detail, got
        assert f"mate says: {got.detail}" in questions[0]
    assert "mate asks for permission" in questions[0]
    assert "crewmux-approve-me" in questions[0] or "touch" in questions[0], questions[0]

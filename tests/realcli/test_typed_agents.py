"""codex, gemini and aider — the REAL pinned programs — as crewmux teammates that get messages typed.

One CLI per kind is spawned for the module (``crewmux spawn --agent KIND --prompt …`` in a tmux
pane) against the project's fake model server for its API, with the console's deliverer
(:class:`InboxDelivery`) running. What the CLI sends is read at the fake server: every message
must arrive byte-exact, submitted, once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from app.agents.adapters import load_rules
from app.core.paths import LEAD_NAME
from tests.fakemodels.base import Reply
from tests.realcli.teammates import PROFILES, Crew, mate_crew, wait_until

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(240)]
FIRST = "First prompt: say 'ready' and wait."
TRICKY = "quote \" and ' and $(echo no) and `echo no` and \\n literal ${HOME}"
MULTI = 'line one with "quotes"\n  line two $(not run)\nline three `tick`'


@pytest.fixture(scope="module", params=sorted(PROFILES))
def crew(
    request: pytest.FixtureRequest, real_cli: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crew]:
    kind = str(request.param)
    real_cli(kind)
    with mate_crew(kind, tmp_path_factory.mktemp(f"real-{kind}"), FIRST) as crew:
        yield crew


def _texts(crew: Crew) -> list[str]:
    return [t for r in crew.server.model_calls for t in crew.profile.user_texts(r)]


def _arrived(crew: Crew, text: str, timeout: float = 30.0) -> float:
    """When (wall clock) the first model call carrying exactly ``text`` as a user text arrived."""

    def found() -> float | None:
        for r in crew.server.model_calls:
            if any(t == text or t.endswith("\n" + text) or t.startswith(text) for t in crew.profile.user_texts(r)):
                return r.at
        return None

    return float(
        wait_until(found, timeout, f"{text!r} at the model server; events {crew.events}; got {_texts(crew)[-3:]!r}")
    )


def test_first_prompt_arrives_and_agent_goes_idle(crew: Crew) -> None:
    _arrived(crew, FIRST, timeout=60)
    crew.wait_state("mate", "waiting", timeout=30)


def test_usage_comes_from_the_agents_own_records(crew: Crew) -> None:
    """``crewmux usage`` reads codex's session token_count events, gemini's chat file tokens and
    aider's Tokens lines, beside what the fake reported per answer (Usage: 12 in, 7 out)."""
    _arrived(crew, FIRST, timeout=60)
    crew.wait_state("mate", "waiting", timeout=30)

    def row() -> dict[str, Any]:
        out = crew.crewmux("usage", "--team", crew.team, "--json")
        assert out.returncode == 0, out.stderr
        return dict(next(r for r in json.loads(out.stdout) if r["name"] == "mate"))

    got = row()
    assert got["state"] == "running" and got["cpuSeconds"] > 0 and got["memoryMb"] > 1
    got = wait_until(lambda: (r := row())["turns"] and r, 30, f"{crew.profile.kind}'s usage record")
    if crew.profile.kind in ("codex", "gemini"):
        assert got["tokensIn"] == 12 * got["turns"] and got["tokensOut"] == 7 * got["turns"], got
        # priced from app/lifecycle/prices.json for the model its record names (gpt-5-codex: $1.25/$10)
        assert got["costUsd"] is not None and got["costUsd"] > 0 and got["costNote"] is None, got
        if crew.profile.kind == "codex":
            assert got["costUsd"] == pytest.approx(got["turns"] * (12 * 1.25 + 7 * 10.0) / 1e6), got
        return
    # aider counts tokens itself (its "Tokens: 2.4k sent, 1 received." line, on its screen too) and
    # prices them from its own table: the history file's figures are the screen's
    sent, received = got["tokensIn"], got["tokensOut"]
    shown = f"{sent / 1000:.1f}k" if 1000 <= sent < 10000 else str(sent)
    line = f"Tokens: {shown} sent, {received} received."
    assert line in crew.screen_text("mate").replace("\n", " "), got
    assert got["costUsd"] is not None and got["costUsd"] > 0, got


@pytest.mark.parametrize("text", [TRICKY, MULTI], ids=["single-line", "multi-line"])
def test_message_arrives_byte_exact_and_submitted(crew: Crew, text: str) -> None:
    _arrived(crew, FIRST, timeout=60)
    msg_id = crew.mailbox.send("mate", text, sender=LEAD_NAME)
    _arrived(crew, text)
    wait_until(lambda: crew.mailbox.status(msg_id).state == "read", 10, "message marked read")
    sent = [t for t in _texts(crew) if text in t]
    assert len(sent) == 1, f"typed more than once: {sent!r}"
    assert not [e for e in crew.events if e.error], crew.events


def test_message_queued_while_busy_goes_out_at_next_idle(crew: Crew) -> None:
    _arrived(crew, FIRST, timeout=60)
    crew.wait_state("mate", "waiting", timeout=30)
    hold = threading.Event()
    crew.server.script(Reply(text="working on it", hold=hold, chunks=1))
    first = crew.mailbox.send("mate", "keep busy please", sender=LEAD_NAME)
    _arrived(crew, "keep busy please")
    crew.wait_state("mate", "busy", timeout=1.0)  # busy follows the agent within 1 s
    queued = crew.mailbox.send("mate", "queued behind the busy turn", sender=LEAD_NAME)
    time_released = time.time()
    try:
        wait_until(lambda: crew.mailbox.status(first).state == "read", 5, "first message read")
        assert crew.mailbox.status(queued).state == "sent"  # not typed into a busy agent
    finally:
        time_released = time.time()
        hold.set()
    crew.wait_state("mate", "waiting", timeout=10)
    at = _arrived(crew, "queued behind the busy turn")
    assert at >= time_released
    assert not [e for e in crew.events if e.error], crew.events


def test_plan_spawn_has_a_valid_argv_and_shutdown_ends_its_tree(crew: Crew) -> None:
    kind = crew.profile.kind
    crew.spawn("planner", "--plan")
    member = crew.teams.member(crew.team, "planner")
    assert member.crewmux is not None
    plan_args = load_rules(kind).plan_args or []
    argv = member.crewmux.argv or []
    assert argv[-len(plan_args) :] == plan_args or all(a in argv for a in plan_args), argv
    crew.wait_state("planner", "waiting", timeout=60)  # a rejected flag would have ended it
    pid, started = member.crewmux.pid, member.crewmux.pid_create_time
    assert pid is not None
    tree = [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    res = crew.crewmux("shutdown", "planner", "--team", crew.team, "--json", "--timeout", "15")
    assert res.returncode == 0, res.stderr

    def left() -> list[str]:
        out = []
        for p in tree:
            try:
                proc = psutil.Process(p)
                if proc.status() != psutil.STATUS_ZOMBIE:
                    out.append(f"{p} {proc.status()} {proc.cmdline()[:3]}")
            except psutil.NoSuchProcess:
                pass
        return out

    gone = wait_until(lambda: not left(), 15, f"{kind} process tree ended; left: {left()}; shutdown said {res.stdout}")
    assert gone
    assert crew.teams.load(crew.team).member("planner") is None
    assert started is not None


BAD_FLAGS = {
    "codex": ["--ask-for-approval", "untrusted"],  # what crewmux passed for --plan before 0.169
    "gemini": ["--approval-mode", "bogus"],
    "aider": ["--chat-mode", "bogus"],
}


def test_spawn_fails_with_the_last_output_of_a_teammate_that_dies_at_start(crew: Crew) -> None:
    kind = crew.profile.kind
    env_args = [a for k, v in crew.home.env.items() for a in ("--env", f"{k}={v}")]
    res = crew.crewmux(
        "spawn", "doomed", "--team", crew.team, "--backend", "tmux", "--agent", kind,
        "--cwd", str(crew.home.workdir), *env_args, "--", *BAD_FLAGS[kind],
    )  # fmt: skip
    assert res.returncode != 0, res.stdout
    assert "exited within" in res.stderr
    assert BAD_FLAGS[kind][0].lstrip("-") in res.stderr, res.stderr  # the CLI's own complaint, naming the flag
    assert crew.teams.load(crew.team).member("doomed") is None


def test_an_enter_right_after_the_paste_is_never_submitted_twice(crew: Crew) -> None:
    """No settle time after the paste: gemini may turn the Enter into a newline (its 40 ms paste
    window). Delivery takes such a newline back and presses Enter again; whatever happens, a text
    reaches the model at most once, and when it did not, delivery says so (never silently)."""
    from app.agents.delivery import DeliveryFailed, type_message

    rules = load_rules(crew.profile.kind).model_copy(update={"paste_settle": 0.0})
    _arrived(crew, FIRST, timeout=60)
    arrived = 0
    for i in range(3):
        crew.wait_state("mate", "waiting", timeout=30)
        text = f"eager enter number {i}"
        try:
            type_message(crew.backend, crew.handle("mate"), rules, text, timeout=30)
        except DeliveryFailed:
            crew.backend.server.run("send-keys", "-t", crew.handle("mate").pane_id, "C-u")  # clear the input line
            crew.wait_state("mate", "waiting", timeout=10)
            assert not any(text in t for t in _texts(crew))
            continue
        _arrived(crew, text)
        arrived += 1
        assert len([t for t in _texts(crew) if text in t]) == 1
    assert arrived >= 1


def test_the_agent_reports_its_own_state_through_its_hook(crew: Crew) -> None:
    """codex's hooks (``Stop``), gemini's settings hooks (``AfterAgent``) and aider's
    ``--notifications-command`` run crewmux's recorder, which records the member's self-reported state."""
    from app.core.agent_status import reported

    kind = crew.profile.kind
    _arrived(crew, FIRST, timeout=60)
    crew.wait_state("mate", "waiting", timeout=30)
    sent = time.time()
    crew.mailbox.send("mate", "report when done", sender=LEAD_NAME)
    _arrived(crew, "report when done")
    paths = crew.teams.paths(crew.team)

    def reported_after() -> bool:
        got = reported(paths, "mate")
        return got is not None and got.at > sent and got.state == "waiting"

    wait_until(reported_after, 20, f"{kind} reported its turn complete through its hook")

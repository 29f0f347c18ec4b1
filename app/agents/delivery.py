"""Typing messages into agents that cannot read their inbox (Codex, Gemini CLI, Aider, a shell).

For each unread message: wait until the screen shows the agent waiting for input (its input
line, no busy or permission marker, and no change for ``settle`` seconds); paste the text as a
bracketed paste *without* Enter; check it landed on the input line; press Enter as a separate
key; check the input line emptied (or the agent went busy). No sign of submission → press Enter
once more → still nothing → :class:`DeliveryFailed` (reported loudly: raised, logged as a
problem, and told to the lead). A message is marked read only once it was seen submitted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.agents.adapters import classify, input_text
from app.core.atomic import Problem, report_problem
from app.core.errors import CrewmuxError
from app.core.paths import LEAD_NAME
from app.core.sanitize import for_typing

if TYPE_CHECKING:
    from collections.abc import Collection

    from app.agents.adapters import AgentRules
    from app.core.mailbox import Mailbox
    from backends.base import PaneBackend, PaneHandle

POLL = 0.05


class DeliveryFailed(CrewmuxError):
    """A message could not be seen submitted to the agent (it stays unread).

    ``msg_id`` names the message (set by :func:`deliver_unread`); ``typed`` says its text had
    been pasted already, so an automatic deliverer leaves it alone until someone decides.
    """

    msg_id: str | None = None
    typed: bool = False


@dataclass(frozen=True)
class Delivered:
    msg_id: str | None
    enters: int  # 1 normally, 2 when the first Enter did not submit it


def _screen(backend: PaneBackend, handle: PaneHandle) -> list[str]:
    return backend.screen(handle).lines


def wait_for_input(
    backend: PaneBackend, handle: PaneHandle, rules: AgentRules, *, timeout: float, settle: float = 0.3
) -> list[str]:
    """The screen once it shows the agent waiting (unchanged for ``settle`` s). DeliveryFailed at the deadline."""
    deadline = time.monotonic() + timeout
    last: list[str] | None = None
    since = time.monotonic()
    state = "unknown"
    while time.monotonic() < deadline:
        lines = _screen(backend, handle)
        if lines != last:
            last, since = lines, time.monotonic()
        state = classify(lines, rules)
        if state == "waiting" and input_text(lines, rules) == "" and time.monotonic() - since >= settle:
            return lines
        time.sleep(POLL)
    raise DeliveryFailed(f"{rules.kind} agent never showed an empty input line within {timeout:.0f}s (last: {state})")


def _first_words(text: str) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return first[:20]


def _wait_for(backend: PaneBackend, handle: PaneHandle, seconds: float, ok: object) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if callable(ok) and ok(_screen(backend, handle)):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)


def type_message(
    backend: PaneBackend, handle: PaneHandle, rules: AgentRules, text: str, *, timeout: float = 30.0, check: float = 3.0
) -> int:
    """Type ``text`` and submit it; returns how many Enters it took (1 or 2). Raises DeliveryFailed.

    ``text`` is first made safe for ``rules.kind`` (:func:`app.core.sanitize.for_typing`): no
    escape sequence can end the paste early and no control character acts as a key.
    """
    if rules.reads_inbox:
        raise DeliveryFailed(f"{rules.kind} reads its own inbox; crewmux does not type into it")
    text = for_typing(text, rules.kind) or "(a message that held only control characters)"
    wait_for_input(backend, handle, rules, timeout=timeout)
    probe = _first_words(text)
    backend.write(handle, text, paste=True, enter=False)

    def typed(lines: list[str]) -> bool:
        now = input_text(lines, rules)
        return now is not None and probe in now

    if not _wait_for(backend, handle, check, typed):
        raise _typed(DeliveryFailed(f"the text never appeared on {rules.kind}'s input line"))

    def submitted(lines: list[str]) -> bool:
        state = classify(lines, rules)
        now = input_text(lines, rules)
        return state in ("busy", "permission") or (now is not None and probe not in now)

    for enters in (1, 2):
        backend.send_key(handle, "Enter")
        if _wait_for(backend, handle, check, submitted):
            return enters
    raise _typed(DeliveryFailed(f"{rules.kind} did not take the message: still on its input line after two Enters"))


def _typed(exc: DeliveryFailed) -> DeliveryFailed:
    exc.typed = True
    return exc


def deliver_unread(
    mailbox: Mailbox,
    agent: str,
    backend: PaneBackend,
    handle: PaneHandle,
    rules: AgentRules,
    *,
    timeout: float = 30.0,
    skip: Collection[str] = (),
) -> list[Delivered]:
    """Type every unread message into ``agent``'s pane, oldest first; mark each read once submitted.

    Stops at the first failure: that message stays unread, the lead is told, a problem is
    reported, and DeliveryFailed (with its ``msg_id``) is raised. Messages whose id is in
    ``skip`` (failed before, waiting for a decision) are not typed again.
    """
    done: list[Delivered] = []
    for m in mailbox.inbox(agent, unread_only=True):
        if m.msg_id is not None and m.msg_id in skip:
            continue
        body = m.text if m.sender == LEAD_NAME else f"[message from {m.sender}] {m.text}"
        try:
            enters = type_message(backend, handle, rules, body, timeout=timeout)
        except DeliveryFailed as exc:
            note = f"could not deliver a message to {agent}: {exc}"
            report_problem(Problem(path=mailbox.paths.inbox(agent), message=note, at=time.time()))
            if agent != LEAD_NAME:
                mailbox.send(LEAD_NAME, f"[crewmux] {note}", sender=agent, summary="delivery failed")
            exc.msg_id = m.msg_id
            raise
        if m.msg_id:
            mailbox.mark_read(agent, [m.msg_id])
        done.append(Delivered(m.msg_id, enters))
    return done

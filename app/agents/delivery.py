"""Typing messages into agents that cannot read their inbox (Codex, Gemini CLI, Aider, a shell).

For each unread message: wait until the screen shows the agent waiting with an EMPTY composer
(judged with the terminal cursor: a placeholder the cursor sits in front of is empty) and no
busy or permission marker, unchanged for ``settle`` seconds; paste the text as a bracketed paste
*without* Enter; check it landed in the composer; wait the agent's ``paste_settle`` (gemini turns
an Enter that follows a paste too closely into a newline); press Enter as a separate key; check
the composer emptied or the agent went busy. No sign of submission and the screen exactly as
before the Enter → one more Enter (it was dropped). For an agent whose rules say an Enter may
become a newline (gemini, when its event loop lags behind its 40 ms paste window), a new line in
the composer still holding our text is taken back (Backspace) and Enter pressed again. Any other
change without submission → never a second Enter (it could go into a running program's stdin):
:class:`DeliveryFailed`, saying the text may be left in its composer. A message is marked read
only once seen submitted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.agents.adapters import classify, composer
from app.agents.agent_state import screen_state
from app.core.atomic import Problem, report_problem
from app.core.errors import CrewmuxError
from app.core.ledger import Ledger
from app.core.paths import LEAD_NAME
from app.core.sanitize import for_typing

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from app.agents.adapters import AgentRules
    from app.core.mailbox import Mailbox
    from backends.base import PaneBackend, PaneHandle, ScreenText

POLL = 0.03


class DeliveryFailed(CrewmuxError):
    """A message could not be seen submitted to the agent (it stays unread).

    ``msg_id`` names the message (set by :func:`deliver_unread`); ``typed`` says its text had
    been pasted already, so an automatic deliverer leaves it alone until someone decides.
    """

    msg_id: str | None = None
    typed: bool = False


class AgentBusy(DeliveryFailed):
    """The agent did not wait for input with an empty composer before the deadline (nothing was typed)."""

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True)
class Delivered:
    msg_id: str | None
    enters: int  # 1 normally, 2 when the first Enter was dropped


def look(backend: PaneBackend, handle: PaneHandle) -> ScreenText:
    return backend.screen(handle)


def wait_for_input(
    backend: PaneBackend,
    handle: PaneHandle,
    rules: AgentRules,
    *,
    timeout: float,
    settle: float = 0.25,
    stop: Callable[[], bool] | None = None,
    judge: Callable[[ScreenText], str] | None = None,
) -> ScreenText:
    """The screen once the agent waits with an empty composer (unchanged ``settle`` s). AgentBusy at the deadline.

    ``judge`` gives the state of a screen (a :class:`app.agents.agent_state.StateSource`'s verdict:
    the agent's own report first); by default the screen rules alone."""
    deadline = time.monotonic() + timeout
    last: tuple[list[str], object] | None = None
    since = time.monotonic()
    state = "unknown"
    while time.monotonic() < deadline and not (stop and stop()):
        shot = look(backend, handle)
        key = (shot.lines, shot.cursor)
        if key != last:
            last, since = key, time.monotonic()
        state = judge(shot) if judge is not None else screen_state(shot, rules)
        if state == "waiting" and time.monotonic() - since >= settle:
            return shot
        time.sleep(POLL)
    raise AgentBusy(
        f"{rules.kind} agent never waited with an empty input line within {timeout:.0f}s (last: {state})", state
    )


def _first_words(text: str) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return first[:20]


def _shot_when(
    backend: PaneBackend, handle: PaneHandle, seconds: float, ok: Callable[[ScreenText], bool]
) -> tuple[bool, ScreenText]:
    """Look until a screen is ``ok`` or ``seconds`` pass: (whether it was, that or the last screen)."""
    deadline = time.monotonic() + seconds
    while True:
        shot = look(backend, handle)
        if ok(shot):
            return True, shot
        if time.monotonic() >= deadline:
            return False, shot
        time.sleep(POLL)


def _wait_for(backend: PaneBackend, handle: PaneHandle, seconds: float, ok: Callable[[ScreenText], bool]) -> bool:
    return _shot_when(backend, handle, seconds, ok)[0]


def type_message(
    backend: PaneBackend,
    handle: PaneHandle,
    rules: AgentRules,
    text: str,
    *,
    timeout: float = 30.0,
    check: float = 3.0,
    appear: float = 10.0,
    stop: Callable[[], bool] | None = None,
    before_paste: Callable[[], None] | None = None,
    judge: Callable[[ScreenText], str] | None = None,
) -> int:
    """Type ``text`` and submit it; returns how many Enters it took (1 or 2). Raises DeliveryFailed.

    ``appear`` bounds the wait for the pasted text to show on the input line (returns as soon as
    it does; a node TUI on a loaded machine can take seconds to draw it); ``check`` bounds each
    wait for a submission after an Enter.

    AgentBusy (a DeliveryFailed) means nothing was typed: the agent never waited for input in time.
    ``text`` is first made safe for ``rules.kind`` (:func:`app.core.sanitize.for_typing`): no
    escape sequence can end the paste early and no control character acts as a key.
    """
    if rules.reads_inbox:
        raise DeliveryFailed(f"{rules.kind} reads its own inbox; crewmux does not type into it")
    text = for_typing(text, rules.kind) or "(a message that held only control characters)"
    wait_for_input(backend, handle, rules, timeout=timeout, stop=stop, judge=judge)
    probe = _first_words(text)
    if before_paste is not None:
        before_paste()
    backend.write(handle, text, paste=True, enter=False)

    def typed(shot: ScreenText) -> bool:
        """Our text on the input line, the cursor in it: a whole frame (not a redraw caught midway)."""
        box = composer(shot.lines, rules, shot.cursor)
        return box is not None and probe in box.text and box.cursor_inside is not False

    if not _wait_for(backend, handle, appear, typed):
        raise _typed(DeliveryFailed(f"the text never appeared on {rules.kind}'s input line (it may be left there)"))
    if rules.paste_settle > 0:
        time.sleep(rules.paste_settle)  # the agent's own paste handling; see AgentRules.paste_settle

    def submitted(shot: ScreenText) -> bool:
        state = classify(shot.lines, rules, shot.cursor)
        box = composer(shot.lines, rules, shot.cursor)
        return state in ("busy", "permission") or (box is not None and probe not in box.text)

    for enters in (1, 2):
        # what Enter is judged against: a whole frame showing our text (an agent redrawing its
        # screen, gemini resuming a conversation say, parks the cursor at the top while it draws)
        _, before = _shot_when(backend, handle, check, typed)
        backend.send_key(handle, "Enter")
        if _wait_for(backend, handle, check, submitted):
            return enters
        after = look(backend, handle)
        if (after.lines, after.cursor) == (before.lines, before.cursor) or _same_composer(before, after, rules):
            continue  # the Enter was dropped (the input line is as it was, maybe scrolled): one more
        if enters == 1 and _became_newline(before, after, rules, probe):
            # gemini: an Enter too soon after a paste is a newline in the composer; take it back
            backend.send_key(handle, "BSpace")
            if not _wait_for(backend, handle, check, _cursor_at(before.cursor)):
                break
            time.sleep(max(rules.paste_settle, 0.1))
            continue
        break
    else:
        raise _typed(DeliveryFailed(f"{rules.kind} did not take the message: still on its input line after two Enters"))
    box = composer(after.lines, rules, after.cursor)
    raise _typed(
        DeliveryFailed(
            f"{rules.kind}'s screen changed after Enter but shows no submission; no second Enter "
            "(it could reach a running program); the text may be left in its input line "
            f"(cursor {before.cursor} -> {after.cursor}; input line now {box.text if box else None!r})"
        )
    )


def _same_composer(before: ScreenText, after: ScreenText, rules: AgentRules) -> bool:
    """The input line holds the same text with the cursor at the same place in it (the rest of the
    screen may have moved): the Enter went nowhere, so a second one goes to the same input line."""
    a = composer(before.lines, rules, before.cursor)
    b = composer(after.lines, rules, after.cursor)
    if a is None or b is None or before.cursor is None or after.cursor is None or not b.cursor_inside:
        return False
    return (
        a.text == b.text
        and before.cursor[1] == after.cursor[1]
        and before.cursor[0] - a.first_row == after.cursor[0] - b.first_row
        and a.last_row - a.first_row == b.last_row - b.first_row
    )


def _cursor_at(cursor: tuple[int, int] | None) -> Callable[[ScreenText], bool]:
    return lambda shot: shot.cursor == cursor


def _became_newline(before: ScreenText, after: ScreenText, rules: AgentRules, probe: str) -> bool:
    """True when the only effect of Enter was a new line in the composer that still holds our text."""
    if not rules.enter_may_be_newline or after.cursor is None or before.cursor is None:
        return False
    box = composer(after.lines, rules, after.cursor)
    # the cursor went back to the start of a (new) composer line; the screen may have scrolled.
    # Should it be anything else, the Backspace does not bring the cursor back and delivery fails.
    return box is not None and probe in box.text and box.cursor_inside is True and after.cursor[1] < before.cursor[1]


def _typed(exc: DeliveryFailed) -> DeliveryFailed:
    exc.typed = True
    return exc


def typed_body(sender: str, text: str) -> str:
    """What is typed for a message: the text, prefixed with its sender unless it is the lead."""
    return text if sender == LEAD_NAME else f"[message from {sender}] {text}"


def report_failure(mailbox: Mailbox, agent: str, exc: DeliveryFailed) -> None:
    """Tell the lead and the problem log that a message could not be delivered to ``agent``."""
    note = f"could not deliver a message to {agent}: {exc}"
    report_problem(Problem(path=mailbox.paths.inbox(agent), message=note, at=time.time()))
    if agent != LEAD_NAME:
        mailbox.send(LEAD_NAME, f"[crewmux] {note}", sender=agent, summary="delivery failed")


def deliver_unread(
    mailbox: Mailbox,
    agent: str,
    backend: PaneBackend,
    handle: PaneHandle,
    rules: AgentRules,
    *,
    timeout: float = 30.0,
    skip: Collection[str] = (),
    stop: Callable[[], bool] | None = None,
    on_delivered: Callable[[Delivered], None] | None = None,
    judge: Callable[[ScreenText], str] | None = None,
) -> list[Delivered]:
    """Type every unread message into ``agent``'s pane, oldest first; mark each read once submitted.

    The ledger (:mod:`app.core.ledger`) gets ``typing`` just before the paste, then ``delivered``
    or ``dead`` with the reason; a message whose last ledger event says it was typed, delivered,
    dead or discarded is never typed (again) — only ``requeue`` makes it typable. ``skip`` adds ids.
    Stops at the first failure: that message stays unread, the lead is told, a problem is
    reported, and DeliveryFailed (with its ``msg_id``) is raised (AgentBusy — nothing typed — is
    raised without telling).
    """
    ledger = Ledger(mailbox.paths)
    blocked = set(skip) | ledger.not_typable(agent)
    done: list[Delivered] = []
    for m in mailbox.inbox(agent, unread_only=True):
        if stop and stop():
            break
        if m.msg_id is not None and m.msg_id in blocked:
            continue
        msg_id = m.msg_id

        def typing(msg_id: str | None = msg_id) -> None:
            if msg_id:
                ledger.record(msg_id, agent, "typing", via="typed")

        try:
            body = typed_body(m.sender, m.text)
            enters = type_message(
                backend, handle, rules, body, timeout=timeout, stop=stop, before_paste=typing, judge=judge
            )
        except AgentBusy as exc:
            exc.msg_id = msg_id
            raise
        except DeliveryFailed as exc:
            exc.msg_id = msg_id
            if msg_id and exc.typed:
                ledger.record(msg_id, agent, "dead", reason=str(exc), via="typed")
            report_failure(mailbox, agent, exc)
            raise
        except CrewmuxError as exc:  # the pane went away while typing: never type it blindly again
            if msg_id and msg_id in ledger.not_typable(agent):
                ledger.record(msg_id, agent, "dead", reason=f"agent gone while typing: {exc}", via="typed")
            raise
        if msg_id:
            ledger.record(msg_id, agent, "delivered", via="typed")
            mailbox.mark_read(agent, [msg_id])
        item = Delivered(msg_id, enters)
        done.append(item)
        if on_delivered is not None:
            on_delivered(item)
    return done

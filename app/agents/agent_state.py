"""A teammate's state: what the agent reported itself first, its screen when that report is stale.

The one place that decides whether an agent is busy, waiting for input or asking permission; the
deliverer (:mod:`app.agents.delivery`, :mod:`app.lifecycle.inbox_delivery`), the permission watch
and the console's teammate rows all ask a :class:`StateSource`.

The agent's own report (:mod:`app.core.agent_status`, written by its hooks in milliseconds) is
the PRIMARY source. A report is STALE, and the screen rules decide instead, when

1. it was written before the member's process started (``started_at``, the recorded pid's
   create time): a restarted agent's old report says nothing about the new one; or
2. the screen changed more than :data:`GRACE` seconds after the report was written: the agent did
   something its hooks did not report (a codex turn starts with no hook, aider asks a question
   with the same notification as its prompt, the user typed in the pane). Changes within the
   grace are the agent drawing what it just reported. A :class:`StateSource` remembers, per
   member, the last screen it saw and when that screen first showed; the first look counts as
   "unchanged" (there is nothing to compare with); or
3. it is older than 10 minutes (:func:`app.core.agent_status.reported`'s ``fresh_for``).

A fresh report is combined with the screen in one way only: a permission question the screen
shows wins over a reported "waiting" (aider runs the same notification command for its prompt and
for its ``(Y)es/(N)o`` questions), and so do a composer holding text ("typed") and a screen that
shows no composer at all: a report never makes crewmux type where no empty input line shows.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from app.agents.adapters import classify, composer
from app.core.agent_status import reported

if TYPE_CHECKING:
    from app.agents.adapters import AgentRules
    from app.core.agent_status import AgentStatus
    from app.core.paths import TeamPaths
    from backends.base import ScreenText

GRACE = 1.0
"""Seconds after a report during which screen changes are the agent drawing what it reported."""

State = Literal["busy", "permission", "waiting", "typed", "unknown"]


def screen_state(shot: ScreenText, rules: AgentRules) -> State:
    """The agent's state from one screen: "waiting" only with an empty composer holding the cursor
    ("typed" when something sits in the composer: the user's, or a failed delivery's)."""
    state = classify(shot.lines, rules, shot.cursor)
    if state == "waiting":
        box = composer(shot.lines, rules, shot.cursor)
        if box is None or box.text:
            return "typed"
    return state


@dataclass(frozen=True)
class Verdict:
    state: State
    source: Literal["report", "screen"]
    """Where the state came from: the agent's own report, or its screen (no fresh report)."""
    report: AgentStatus | None = None
    """The report it was judged with (fresh), if any; its ``detail`` is e.g. gemini's permission question."""


class StateSource:
    """Judges members of one team; remembers when each member's screen last changed (thread-safe)."""

    def __init__(self, paths: TeamPaths, *, grace: float = GRACE) -> None:
        self.paths = paths
        self.grace = grace
        self._seen: dict[str, tuple[tuple[tuple[str, ...], object], float]] = {}
        self._lock = threading.Lock()

    def changed_at(self, name: str, shot: ScreenText | None) -> float:
        """When ``name``'s screen first showed as it is now (-inf: no change seen since the first look)."""
        if shot is None:
            return float("-inf")
        key = (tuple(shot.lines), shot.cursor)
        now = time.time()
        with self._lock:
            last = self._seen.get(name)
            if last is None:
                self._seen[name] = (key, float("-inf"))
                return float("-inf")
            if last[0] != key:
                self._seen[name] = (key, now)
                return now
            return last[1]

    def fresh_report(self, name: str, shot: ScreenText | None, started_at: float | None) -> AgentStatus | None:
        """``name``'s own report unless it is stale (see the module docstring)."""
        changed = self.changed_at(name, shot)
        report = reported(self.paths, name)
        if report is None or (started_at is not None and report.at < started_at):
            return None
        return None if changed > report.at + self.grace else report

    def judge(
        self, name: str, rules: AgentRules | None, shot: ScreenText | None, *, started_at: float | None = None
    ) -> Verdict:
        """``name``'s state: its fresh report first, else its screen (``unknown`` with neither)."""
        report = self.fresh_report(name, shot, started_at)
        on_screen: State = screen_state(shot, rules) if shot is not None and rules is not None else "unknown"
        if report is None:
            return Verdict(on_screen, "screen")
        if report.state == "waiting":
            looked = shot is not None and rules is not None  # an agent that reads its inbox is not looked at
            if looked and on_screen in ("permission", "typed", "unknown"):  # never type where no empty composer shows
                return Verdict(on_screen, "screen", report)
            return Verdict("waiting", "report", report)
        return Verdict(report.state, "report", report)

"""Teammate states for the console's rows (blocking: call from workers).

Each state comes from :class:`app.agents.agent_state.StateSource`, the one judge the deliverer
uses too: the agent's own report (its hooks) first, its screen through its agent's rules when the
report is missing or stale. Screens are read only for teammates crewmux types into (codex, gemini,
aider, a shell); a Claude Code teammate, which reads its own inbox, is shown working by its report
(its hooks) and otherwise by its idle notifications, as before.
An in-process screen is read from memory; a tmux pane costs one ``capture-pane``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from app.agents.agent_state import StateSource
from app.core.errors import CrewmuxError
from app.core.liveness import is_alive
from app.core.paths import LEAD_NAME
from app.lifecycle.inbox_delivery import pane_handle, typed_rules

if TYPE_CHECKING:
    from pathlib import Path

    from app.console.ops import TeamContext
    from app.core.models import TeamFile
    from backends.base import ScreenText

_sources: dict[Path, StateSource] = {}
"""One judge per team dir for the console's life: it remembers when each screen last changed."""


def _source(ctx: TeamContext) -> StateSource:
    key = ctx.paths.team_dir
    if key not in _sources:
        _sources[key] = StateSource(ctx.paths)
    return _sources[key]


def screen_states(ctx: TeamContext, team_file: TeamFile) -> dict[str, str]:
    """name → ``busy``/``permission``/``waiting`` (``typed`` shows as waiting) for live teammates that tell."""
    states = _source(ctx)
    found: dict[str, str] = {}
    for m in team_file.members:
        rt = m.crewmux
        if m.name == LEAD_NAME or rt is None or not rt.pid or not is_alive(rt.pid, rt.pid_create_time):
            continue
        rules = typed_rules(m)
        handle = pane_handle(m) if rules is not None else None
        shot: ScreenText | None = None
        if handle is not None:
            with contextlib.suppress(CrewmuxError):
                shot = ctx.backend_for(m.backend_type or "in-process").screen(handle)
        state = states.judge(m.name, rules, shot, started_at=rt.pid_create_time).state
        if rules is None and state == "waiting":
            continue  # Claude Code: its idle notification says why it waits (turn ended, waiting on input)
        if state != "unknown":
            found[m.name] = "waiting" if state == "typed" else state
    return found

"""Teammate states read off their screens with their agent's rules (blocking: call from workers).

Only teammates crewmux types into (agents that cannot read their inbox: codex, gemini, aider, a
shell) are looked at; the others report their state through protocol messages. An in-process
screen is read from memory; a tmux pane costs one ``capture-pane``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from app.agents.adapters import classify
from app.core.errors import CrewmuxError
from app.core.paths import LEAD_NAME
from app.lifecycle.inbox_delivery import pane_handle, typed_rules

if TYPE_CHECKING:
    from app.console.ops import TeamContext
    from app.core.models import TeamFile


def screen_states(ctx: TeamContext, team_file: TeamFile) -> dict[str, str]:
    """name → ``busy``/``permission``/``waiting`` for live typed-into teammates whose screen tells."""
    found: dict[str, str] = {}
    for m in team_file.members:
        if m.name == LEAD_NAME:
            continue
        rules = typed_rules(m)
        handle = pane_handle(m) if rules is not None else None
        if rules is None or handle is None:
            continue
        with contextlib.suppress(CrewmuxError):
            state = classify(ctx.backend_for(m.backend_type or "in-process").screen(handle).lines, rules)
            if state != "unknown":
                found[m.name] = state
    return found

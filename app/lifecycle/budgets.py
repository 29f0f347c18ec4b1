"""Budgets, enforced: tokens, USD and wall minutes per teammate (``crewmux spawn --max-*`` or the
team's ``budget`` in ``crewmux.json``), measured by :mod:`app.lifecycle.usage`.

At 80 % of any limit the lead is told once. At 100 % the teammate is paused: ``crewmux.paused``
is set first (from then on :class:`app.core.mailbox.Mailbox` holds every message for it in
``inboxes/.<name>.held.json`` and the deliverer types nothing into it), then its turn is
interrupted with its agent's interrupt key, and the lead is told. The lead raises the budget
(:func:`set_budget`, ``crewmux budget NAME --max-tokens N``), which resumes it and releases the
held messages in order, hands its task to another teammate, or shuts it down.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.atomic import atomic_write
from app.core.errors import BadInput, CrewmuxError
from app.core.interop import read_shared, shared_lock
from app.core.mailbox import Mailbox
from app.core.models import InboxAdapter, inbox_json
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    from app.core.models import InboxMessage, Member
    from app.core.team import TeamStore
    from app.lifecycle.teammates import Teammates
    from app.lifecycle.usage import MemberUsage

WARN_AT = 0.8


@dataclass(frozen=True)
class BudgetEvent:
    name: str
    what: str  # warned | paused
    detail: str


def spent(member: Member, usage: MemberUsage) -> tuple[float, str]:
    """The largest fraction of ``member``'s budget used, and which limit it is ("" without one)."""
    rt = member.crewmux
    if rt is None:
        return 0.0, ""
    parts: list[tuple[float, str]] = []
    tokens = (usage.tokens_in or 0) + (usage.tokens_out or 0)
    if rt.max_tokens:
        parts.append((tokens / rt.max_tokens, f"{tokens:,} of {rt.max_tokens:,} tokens"))
    if rt.max_usd and usage.cost_usd is not None:
        parts.append((usage.cost_usd / rt.max_usd, f"${usage.cost_usd:.4f} of ${rt.max_usd:g}"))
    if rt.max_minutes and usage.wall_seconds is not None:
        minutes = usage.wall_seconds / 60
        parts.append((minutes / rt.max_minutes, f"{minutes:.1f} of {rt.max_minutes:g} minutes"))
    return max(parts, default=(0.0, ""))


def _interrupt(teammates: Teammates, member: Member) -> None:
    """Interrupt its turn with its agent's interrupt key (nothing for worker/shell teammates)."""
    from app.agents.adapters import KINDS, load_rules

    kind = member.crewmux.agent_kind if member.crewmux else None
    if kind not in KINDS or kind in ("worker", "shell") or member.backend_type in (None, "in-process"):
        return
    with contextlib.suppress(CrewmuxError):
        teammates.backend_for(member).send_key(teammates.handle_of(member), load_rules(kind).interrupt_key)


def _set_runtime(teams: TeamStore, team: str, name: str, **values: object) -> None:
    def change(m: Member) -> None:
        for key, value in values.items():
            setattr(m.crewmux, key, value)

    teams.set_member(team, name, change)


def check_budgets(teams: TeamStore, team: str, teammates: Teammates | None = None) -> list[BudgetEvent]:
    """Warn at 80 %, pause at 100 % (see the module docstring); returns what it did."""
    from app.lifecycle.teammates import Teammates
    from app.lifecycle.usage import member_usage

    teammates = teammates or Teammates(teams, team)
    mail = Mailbox(teams, team)
    events: list[BudgetEvent] = []
    for m in teams.load(team).members:
        rt = m.crewmux
        if m.name == LEAD_NAME or rt is None or rt.paused or not (rt.max_tokens or rt.max_usd or rt.max_minutes):
            continue
        usage = member_usage(m)
        if usage.state != "running":
            continue
        fraction, detail = spent(m, usage)
        if fraction >= 1.0:
            _set_runtime(teams, team, m.name, paused=f"over-budget: {detail}")
            _interrupt(teammates, m)
            text = f"[crewmux] {m.name} is over budget ({detail}): paused, its messages held. Raise it with "
            text += f"`crewmux budget {m.name} --team {team} --max-…`, hand its task on, or shut it down."
            mail.send(LEAD_NAME, text, sender=m.name, summary=f"{m.name} over budget")
            events.append(BudgetEvent(m.name, "paused", detail))
        elif fraction >= WARN_AT and not rt.budget_warned:
            _set_runtime(teams, team, m.name, budget_warned=True)
            text = f"[crewmux] {m.name} has used {fraction:.0%} of its budget ({detail})"
            mail.send(LEAD_NAME, text, sender=m.name, summary=f"{m.name} at {fraction:.0%} of budget")
            events.append(BudgetEvent(m.name, "warned", detail))
    return events


def held_messages(teams: TeamStore, team: str, name: str) -> list[InboxMessage]:
    """Messages held back from ``name`` while it is paused, oldest first."""
    path = teams.paths(team).held(name)
    found = read_shared(path, InboxAdapter, interop=teams.paths(team).interop) if path.exists() else None
    return found if isinstance(found, list) else []


def release_held(teams: TeamStore, team: str, name: str) -> list[str]:
    """Send ``name``'s held messages to its inbox, in order (it must no longer be paused); returns
    their new ids."""
    paths = teams.paths(team)
    mail = Mailbox(teams, team)
    with shared_lock(paths.held(name), interop=paths.interop):
        held = held_messages(teams, team, name)
        ids = [mail.send(name, m.text, sender=m.sender, summary=m.summary, color=m.color) for m in held]
        if held:
            atomic_write(paths.held(name), inbox_json([]))
    return ids


def set_budget(
    teams: TeamStore,
    team: str,
    name: str,
    *,
    max_tokens: int | None = None,
    max_usd: float | None = None,
    max_minutes: float | None = None,
) -> list[str]:
    """Change ``name``'s budget (a value not given stays); it is un-paused and its held messages
    released into its inbox. Returns the released message ids. BadInput for a value <= 0."""
    for label, value in (("--max-tokens", max_tokens), ("--max-usd", max_usd), ("--max-minutes", max_minutes)):
        if value is not None and value <= 0:
            raise BadInput(f"{label} must be more than 0, got {value}")

    def change(m: Member) -> None:
        if m.crewmux is None:
            raise BadInput(f"{name!r} was not started by crewmux: it has no budget")
        rt = m.crewmux
        rt.max_tokens = max_tokens or rt.max_tokens
        rt.max_usd = max_usd or rt.max_usd
        rt.max_minutes = max_minutes or rt.max_minutes
        rt.paused, rt.budget_warned = None, False

    teams.set_member(team, name, change)
    return release_held(teams, team, name)

"""Shutdown that always ends.

``shutdown_member``: send ``shutdown_request`` → wait up to ``timeout`` for the answer →
approved: give the process a short grace to exit by itself → rejected: report the reason and stop
(unless ``force``) → no answer: SIGTERM the process tree, SIGKILL after ``grace`` → close the
pane (only one crewmux created) → remove the member → release its tasks. With the default
grace a teammate that ignores everything is gone within ``timeout + 5`` seconds.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import psutil

from app.core.errors import CrewmuxError
from app.core.heartbeat import clear_heartbeat, read_heartbeat
from app.core.liveness import is_alive
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.proctree import terminate_tree, tree
from app.core.protocol import (
    ShutdownApproved,
    ShutdownRejected,
    ShutdownRequest,
    protocol_text,
    request_id,
)
from app.core.tasks import TaskStore
from app.core.team import claude_code_reads_inbox
from app.lifecycle.lead_inbox import LeadInbox
from app.lifecycle.teammates import Teammates

if TYPE_CHECKING:
    from app.core.models import Member
    from app.core.team import TeamStore

Outcome = Literal["approved", "rejected", "timeout", "not_running", "quit"]


@dataclass
class ShutdownResult:
    """What happened, for the CLI and the console."""

    name: str
    outcome: Outcome
    reason: str = ""
    removed: bool = False
    killed: list[int] = field(default_factory=list)
    """Every pid crewmux ended (SIGTERM, and SIGKILL for those in ``sigkilled``)."""
    sigkilled: list[int] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    pane_closed: bool = False
    """True when the pane is gone at the end: closed by crewmux, or already closed."""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _pids(teams: TeamStore, team: str, member: Member) -> list[tuple[int, float | None]]:
    out: list[tuple[int, float | None]] = []
    if member.crewmux is not None and member.crewmux.pid:
        out.append((member.crewmux.pid, member.crewmux.pid_create_time))
    hb = read_heartbeat(teams.paths(team), member.name)
    if hb is not None and (hb.pid, hb.pid_create_time) not in out:
        out.append((hb.pid, hb.pid_create_time))
    return out


def _running(pids: list[tuple[int, float | None]]) -> bool:
    return any(is_alive(pid, started) for pid, started in pids)


def _end_processes(result: ShutdownResult, pids: list[tuple[int, float | None]], grace: float) -> None:
    """SIGTERM what is left of the member's process trees (SIGKILL after ``grace``), and say so."""
    procs = [p for pid, st in pids for p in tree(pid, st)]
    if procs:
        result.sigkilled = terminate_tree(procs, grace)
        result.killed = [p.pid for p in procs]
        extra = f", {len(result.sigkilled)} needed SIGKILL" if result.sigkilled else ""
        result.notes.append(f"terminated {len(procs)} process(es){extra}")


def _started_elsewhere(teams: TeamStore, team: str, member: Member) -> bool:
    """A member crewmux knows no process of and that Claude Code may run (see
    :func:`app.core.team.claude_code_reads_inbox`): not crewmux's to judge dead, so it is asked."""
    tf = teams.load(team)
    return member.crewmux is None and claude_code_reads_inbox(tf, member, interop=teams.paths(team).interop)


def _ask_only(
    mail: Mailbox, member: Member, result: ShutdownResult, *, timeout: float, force: bool, reason: str | None
) -> bool:
    """Shut down a member crewmux did not start: ask it. True when it is to be removed (it
    approved, or ``force``); False when it stays a member (rejected, or no answer)."""
    rid = request_id("shutdown", member.name)
    req = ShutdownRequest(request_id=rid, reason=reason, force=force or None, sender=LEAD_NAME)
    mail.send(member.name, protocol_text(req), sender=LEAD_NAME, summary="shutdown request")
    answer = _wait_answer(mail, rid, timeout)
    if isinstance(answer, ShutdownApproved):
        result.outcome = "approved"
        return True
    if isinstance(answer, ShutdownRejected):
        result.outcome, result.reason = "rejected", answer.reason
    else:
        result.outcome, result.reason = "timeout", f"no answer within {timeout:.0f}s"
    if force:
        result.notes.append("not started by crewmux: removed from the team, its process left alone")
        return True
    result.notes.append("not started by crewmux: left in the team and running (--force removes it)")
    return False


def _wait_answer(mail: Mailbox, rid: str, timeout: float) -> ShutdownApproved | ShutdownRejected | None:
    """The teammate's answer to ``rid``, wherever it is in the lead's history (see :mod:`.lead_inbox`)."""
    answer = LeadInbox.of(mail).wait_answer(rid, timeout)
    return answer if isinstance(answer, ShutdownApproved | ShutdownRejected) else None


def _wait_exit(pids: list[tuple[int, float | None]], seconds: float) -> bool:
    procs = []
    for pid, started in pids:
        if is_alive(pid, started):
            with contextlib.suppress(psutil.NoSuchProcess):
                procs.append(psutil.Process(pid))
    _gone, alive = psutil.wait_procs(procs, timeout=seconds)
    return not alive


def quit_typed_agent(
    member: Member, pids: list[tuple[int, float | None]], grace: float, teammates: Teammates
) -> str | None:
    """End an agent that does not read its inbox the way its CLI ends: its quit command when it
    waits for input, else its quit keys (Ctrl-C / Ctrl-D). Never types protocol JSON into it.

    Returns how it ended ("quit command", "C-c", …), or None when it is not a typed-into agent
    with a pane crewmux can type into, or it did not end (the caller ends its process tree).
    """
    from app.lifecycle.inbox_delivery import pane_handle, typed_rules

    rules = typed_rules(member)
    handle = pane_handle(member)
    if rules is None or handle is None or member.backend_type in (None, "in-process"):
        return None
    try:
        from app.agents.agent_state import screen_state
        from app.agents.delivery import look

        backend = teammates.backend_for(member)
        if rules.quit_text and screen_state(look(backend, handle), rules) == "waiting":
            backend.write(handle, rules.quit_text, paste=False, enter=True)
            if _wait_exit(pids, grace):
                return f"its quit command {rules.quit_text}"
        for key in rules.quit_keys:
            backend.send_key(handle, key)
            if _wait_exit(pids, min(grace, 1.0)):
                return key
    except CrewmuxError:
        return None
    return None


def _mark_ended(teams: TeamStore, team: str, name: str, why: str | None) -> None:
    """Record that ``name`` ended on purpose, so a resume does not bring it back (kept should
    removing the member fail)."""

    def ended(m: Member) -> None:
        if m.crewmux is not None:
            m.crewmux.ended = why

    with contextlib.suppress(CrewmuxError):
        teams.set_member(team, name, ended)


def shutdown_member(
    teams: TeamStore,
    team: str,
    name: str,
    *,
    timeout: float = 10.0,
    force: bool = False,
    grace: float = 2.0,
    reason: str | None = None,
    teammates: Teammates | None = None,
) -> ShutdownResult:
    """Stop teammate ``name``; see the module docstring. Raises TeammateNotFound for a stranger.

    Call it through :meth:`app.lifecycle.teammates.Teammates.shutdown` (which passes itself as
    ``teammates``, so the pane is closed through that service's backends)."""
    started = time.monotonic()
    teammates = teammates or Teammates(teams, team)
    member = teams.member(team, name)
    mail = Mailbox(teams, team)
    pids = _pids(teams, team, member)
    result = ShutdownResult(name=name, outcome="not_running")
    from app.lifecycle.inbox_delivery import typed_rules

    if _running(pids):  # recorded first, so liveness never reports the exit it asks for as a death
        _mark_ended(teams, team, name, "shutting down")
    if not pids and _started_elsewhere(teams, team, member):
        if not _ask_only(mail, member, result, timeout=timeout, force=force, reason=reason):
            result.seconds = time.monotonic() - started
            return result
    elif _running(pids) and typed_rules(member) is not None:  # it cannot read a shutdown_request
        ended = quit_typed_agent(member, pids, grace, teammates)
        result.outcome = "quit" if ended else "timeout"
        result.reason = f"ended with {ended}" if ended else "its quit command and keys did not end it"
        _end_processes(result, pids, grace)
    elif _running(pids):
        rid = request_id("shutdown", name)
        req = ShutdownRequest(request_id=rid, reason=reason, force=force or None, sender=LEAD_NAME)
        mail.send(name, protocol_text(req), sender=LEAD_NAME, summary="shutdown request")
        answer = _wait_answer(mail, rid, timeout)
        if isinstance(answer, ShutdownRejected):
            result.outcome, result.reason = "rejected", answer.reason
            if not force:
                _mark_ended(teams, team, name, None)  # it stays, running
                result.seconds = time.monotonic() - started
                return result
        elif isinstance(answer, ShutdownApproved):
            result.outcome = "approved"
            _wait_exit(pids, grace)
        else:
            result.outcome = "timeout"
            result.reason = f"no answer within {timeout:.0f}s"
        _end_processes(result, pids, grace)
    _mark_ended(teams, team, name, f"shut down ({result.outcome})")
    result.pane_closed = teammates.close_pane(member)
    store = TaskStore(teams.paths(team))
    try:
        result.released = store.release(name)
    finally:
        store.close()
    with contextlib.suppress(CrewmuxError):
        teams.leave(team, name)
        result.removed = True
    clear_heartbeat(teams.paths(team), name)
    if member.crewmux is not None and member.crewmux.worktree:
        from app.agents.worktree import describe_leftover

        result.notes.append(describe_leftover(member.crewmux.worktree))
    result.seconds = time.monotonic() - started
    return result


def shutdown_team(
    teams: TeamStore,
    team: str,
    *,
    timeout: float = 10.0,
    force: bool = True,
    grace: float = 2.0,
    teammates: Teammates | None = None,
) -> list[ShutdownResult]:
    """Shut every teammate down in parallel (what ``team delete`` and "stop the team" should call).

    Each member gets its own thread running :func:`shutdown_member`, so the whole team is gone
    within ``timeout + 5`` seconds however many teammates ignore the request.
    """
    from concurrent.futures import ThreadPoolExecutor

    names = [m.name for m in teams.load(team).members if m.name != LEAD_NAME]
    if not names:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(names))) as pool:
        futures = [
            pool.submit(shutdown_member, teams, team, n, timeout=timeout, force=force, grace=grace, teammates=teammates)
            for n in names
        ]
        return [f.result() for f in futures]

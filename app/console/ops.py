"""What the console does to the team, UI-free and blocking (run these in thread workers).

Each operation the lead starts goes through the delegate-mode policy first
(:mod:`app.core.policy`), so a refusal is the core's :class:`PolicyRefused`, never a hidden button.
Pane operations go through a backend from ``backends.registry``; when the backends layer is not
installed, they fail with :class:`BackendUnavailable` naming what is missing.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core import policy
from app.core.errors import BadInput, CrewmuxError, PaneNotFound
from app.core.liveness import is_alive
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME, team_paths
from app.core.protocol import PlanApprovalResponse, protocol_text
from app.core.settings import load_settings
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from app.lifecycle.lead_inbox import LeadInbox
from backends import registry

if TYPE_CHECKING:
    from app.core.models import Member, Task
    from app.core.paths import TeamPaths
    from backends.base import Key, PaneBackend, PaneHandle

AGENT_KINDS = ("shell", "worker", "claude", "codex", "gemini", "aider")
BACKENDS = ("in-process", "tmux", "iterm2")


@dataclass
class TeamContext:
    """The team the console runs, and the stores it works through."""

    home: Path
    team: str
    backend: PaneBackend | None = None
    interop: bool = False
    teams: TeamStore = field(init=False)
    mailbox: Mailbox = field(init=False)
    tasks: TaskStore = field(init=False)
    _backends: dict[str, PaneBackend] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.teams = TeamStore(self.home, interop=self.interop)
        self.mailbox = Mailbox(self.teams, self.team)
        self.tasks = TaskStore(self.teams.paths(self.team))

    @property
    def paths(self) -> TeamPaths:
        return self.teams.paths(self.team)

    @property
    def lead_inbox(self) -> LeadInbox:
        """The one reader of the lead's inbox (this process's, shared with any waiting shutdown)."""
        return LeadInbox.of(self.mailbox)

    def backend_for(self, name: str) -> PaneBackend:
        """The backend called ``name`` (the injected one when its name matches).

        Raises :class:`BackendUnavailable` when that backend is missing.
        """
        if self.backend is not None and self.backend.name == name:
            return self.backend
        if name in self._backends:
            return self._backends[name]
        found: PaneBackend = registry.load(registry.choose(name))
        self._backends[name] = found
        return found

    def close(self) -> None:
        """Stop the teammates this console hosts (in-process panes die with it) and close the stores."""
        hosted = [b for b in (self.backend, *self._backends.values()) if b is not None and not b.SURVIVES_CONSOLE]
        for backend in {id(b): b for b in hosted}.values():
            for handle in backend.list_panes(self.team):
                with contextlib.suppress(CrewmuxError):
                    backend.kill(handle, grace=0.5)
        self.tasks.close()


def ensure_team(home: Path, team: str) -> None:
    """Create ``team`` under ``home`` when it does not exist yet (first use)."""
    teams = TeamStore(home)
    if not teams.exists(team):
        teams.create(team, f"created by the console in {Path.cwd()}", lead_pid=os.getpid())


def handle_of(member: Member) -> PaneHandle:
    """The pane handle recorded for ``member``; PaneNotFound when it has no pane."""
    from backends.base import PaneHandle

    if not member.backend_type or not member.tmux_pane_id:
        raise PaneNotFound(f"{member.name} has no pane recorded")
    rt = member.crewmux or MemberRuntime()
    return PaneHandle(
        backend=member.backend_type,
        pane_id=member.tmux_pane_id,
        pid=rt.pid,
        pid_create_time=rt.pid_create_time,
        locator=rt.pane_session,
    )


# -- messages ----------------------------------------------------------------------------------
def send_message(ctx: TeamContext, to: str | None, text: str) -> dict[str, str]:
    """Send ``text`` from the lead to ``to`` (None: everyone); returns recipient → message id."""
    policy.check(ctx.paths, LEAD_NAME, "message")
    if not text.strip():
        raise BadInput("an empty message is not sent")
    if to is None:
        return ctx.mailbox.broadcast(text, sender=LEAD_NAME)
    if to == LEAD_NAME:
        raise BadInput("the lead cannot message itself; select a teammate or broadcast")
    return {to: ctx.mailbox.send(to, text, sender=LEAD_NAME)}


def answer_plan(ctx: TeamContext, to: str, req_id: str, approved: bool, feedback: str | None = None) -> str:
    """Approve or reject a teammate's plan; returns the message id."""
    policy.check(ctx.paths, LEAD_NAME, "approve_plan")
    reply = PlanApprovalResponse(sender=LEAD_NAME, request_id=req_id, approved=approved, feedback=feedback)
    return ctx.mailbox.send(to, protocol_text(reply), sender=LEAD_NAME)


# -- panes -------------------------------------------------------------------------------------
def _member(ctx: TeamContext, name: str) -> Member:
    return ctx.teams.member(ctx.team, name)


def write_to(ctx: TeamContext, name: str, text: str) -> None:
    """Type ``text`` into a teammate's pane; the lead's own pane is refused in delegate mode."""
    if name == LEAD_NAME:
        policy.check(ctx.paths, LEAD_NAME, "type_into_own_pane")
        raise BadInput("the lead has no pane in the console to type into")
    member = _member(ctx, name)
    ctx.backend_for(member.backend_type or "in-process").write(handle_of(member), text, paste=False, enter=False)


def interrupt(ctx: TeamContext, name: str, key: Key = "Escape") -> None:
    """Send Escape (or C-c) to a teammate to interrupt its current work."""
    if name == LEAD_NAME:
        raise BadInput("select a teammate to interrupt; the lead is you")
    member = _member(ctx, name)
    ctx.backend_for(member.backend_type or "in-process").send_key(handle_of(member), key)


def focus(ctx: TeamContext, name: str) -> None:
    """Bring a tmux/iTerm2 teammate's real pane to the front."""
    member = _member(ctx, name)
    backend = ctx.backend_for(member.backend_type or "in-process")
    if not backend.CAN_FOCUS:
        raise BadInput(f"{name} runs {backend.name}: it is shown in the console itself, there is no pane to jump to")
    backend.focus(handle_of(member))


def argv_for(
    kind: str, command: str, *, team: str, name: str, plan: bool = False, home: Path | None = None, cwd: str = ""
) -> list[str]:
    """The command line for a new teammate: ``command`` when given, else the agent kind's.

    Agent kinds come from :func:`app.agents.adapters.agent_argv` (BadInput for an unknown kind,
    or for plan mode on a kind that has none).
    """
    if command.strip():
        try:
            return shlex.split(command)
        except ValueError as exc:
            raise BadInput(f"cannot read the command {command!r}: {exc}") from exc
    if kind not in AGENT_KINDS:
        raise BadInput(f"unknown agent kind {kind!r} (one of {', '.join(AGENT_KINDS)})")
    from app.agents.adapters import agent_argv

    mode = load_settings(team_paths(home, team)).permission_mode if home is not None else "default"
    where = Path(cwd) if cwd else None
    return agent_argv(kind, name=name, team=team, plan=plan, home=home, cwd=where, permission_mode=mode)


@dataclass(frozen=True)
class SpawnRequest:
    """What the spawn form asks for."""

    name: str
    kind: str = "shell"
    command: str = ""
    backend: str = "in-process"
    cwd: str = ""
    plan_mode: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def spawn(ctx: TeamContext, req: SpawnRequest) -> Member:
    """Start a teammate through its backend and record it in the team file."""
    from backends.base import PaneSpec

    policy.check(ctx.paths, LEAD_NAME, "spawn")
    if req.name == LEAD_NAME:
        raise BadInput(f"{LEAD_NAME!r} is the lead's name")
    cwd = req.cwd or str(Path.cwd())
    if not Path(cwd).is_dir():
        raise BadInput(f"working directory {cwd!r} does not exist")
    argv = argv_for(req.kind, req.command, team=ctx.team, name=req.name, plan=req.plan_mode, home=ctx.home, cwd=cwd)
    backend = ctx.backend_for(req.backend)
    env = {"CREWMUX_HOME": str(ctx.home), "CREWMUX_TEAM": ctx.team, "CREWMUX_AGENT": req.name}
    if req.plan_mode:
        env["CREWMUX_PLAN_MODE"] = "1"
    existing = ctx.teams.load(ctx.team).member(req.name)
    if existing is not None and existing.is_active is not False:
        rt = existing.crewmux
        if rt is not None and is_alive(rt.pid, rt.pid_create_time):
            raise BadInput(f"{req.name!r} is already a running member of the team")
    watched = not req.command.strip() and req.kind not in ("worker", "shell")
    spec = PaneSpec(team=ctx.team, name=req.name, argv=argv, cwd=cwd, env=env, title=req.name, keep_on_exit=watched)
    handle = backend.spawn(spec)
    runtime = MemberRuntime(
        pid=handle.pid,
        pid_create_time=handle.pid_create_time,
        argv=argv,
        agent_kind=req.kind if not req.command.strip() else "command",
        pane_session=handle.locator,
        created_by_crewmux=True,
        env=env,
    )
    try:
        member = ctx.teams.join(
            ctx.team,
            req.name,
            agent_type=req.kind,
            cwd=cwd,
            backend_type=handle.backend,
            pane_id=handle.pane_id,
            plan_mode_required=req.plan_mode or None,
            runtime=runtime,
            replace_dead=True,
        )
    except CrewmuxError:
        backend.kill(handle, grace=0.5)
        raise
    if watched:  # an agent CLI that dies in its first seconds fails the spawn with its last output
        from app.agents.adapters import load_rules
        from app.agents.startup import AgentDiedAtStart, confirm_started

        try:
            confirm_started(backend, handle, load_rules(req.kind))
        except AgentDiedAtStart:
            with contextlib.suppress(CrewmuxError):
                ctx.teams.leave(ctx.team, req.name)
            raise
    return member


def shutdown(ctx: TeamContext, name: str, *, grace: float = 10.0) -> str:
    """Shut a teammate down through :func:`app.lifecycle.shutdown.shutdown_member`.

    That is: a ShutdownRequest into its inbox, up to ``grace`` seconds for an answer, then
    SIGTERM/SIGKILL of its process tree, its pane closed, its tasks released, the member removed.
    Returns a one-line account (outcome, reason, what was killed). A rejection is reported, not forced.
    """
    from app.lifecycle.shutdown import shutdown_member

    policy.check(ctx.paths, LEAD_NAME, "shutdown")
    if name == LEAD_NAME:
        raise BadInput("the lead is shut down by quitting the console")
    result = shutdown_member(ctx.teams, ctx.team, name, timeout=grace, reason="asked by the lead in the console")
    parts = [result.outcome.replace("_", " ")]
    if result.reason:
        parts.append(result.reason)
    if result.killed:
        parts.append(f"killed {len(result.killed)} process(es)")
    if result.released:
        parts.append(f"released task(s) {', '.join(result.released)}")
    parts.extend(result.notes)
    return "; ".join(parts)


# -- tasks -------------------------------------------------------------------------------------
def assign(ctx: TeamContext, task_id: str, owner: str | None) -> Task | None:
    """Set (or clear, with None) a task's owner; making the lead its owner is refused in delegate mode."""
    policy.check(ctx.paths, LEAD_NAME, "manage_tasks")  # the owner rule lives in TaskStore
    if owner is not None:
        ctx.teams.member(ctx.team, owner)
        return ctx.tasks.claim(task_id, owner)
    return ctx.tasks.update(task_id, owner=None)

"""What the console does to the team, UI-free and blocking (run these in thread workers).

Each operation the lead starts goes through the delegate-mode policy first
(:mod:`app.core.policy`), so a refusal is the core's :class:`PolicyRefused`, never a hidden button.
Spawning, shutting down, restarting and finding panes are the teammate service's
(:class:`app.lifecycle.teammates.Teammates`, ``ctx.teammates``), shared with the CLI and the MCP
server; its one backend lookup hosts in-process panes in this console.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.console.seat import ConsoleSeat
from app.core import policy
from app.core.errors import BadInput, CrewmuxError
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.protocol import PlanApprovalResponse, protocol_text
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from app.lifecycle.lead_inbox import LeadInbox
from app.lifecycle.teammates import Backends, Teammates
from app.lifecycle.teammates import SpawnRequest as TeammateSpawn
from backends import registry
from backends.base import PaneHandle, TerminalHost

if TYPE_CHECKING:
    from app.core.models import Member, Task
    from app.core.paths import TeamPaths
    from backends.base import Key, Layout, PaneBackend

AGENT_KINDS = ("shell", "worker", "claude", "codex", "gemini", "aider")
BACKENDS = ("auto", "in-process", "tmux", "iterm2")


def fit_terminals(ctx: TeamContext, cols: int, rows: int) -> None:
    """Resize every in-process teammate's terminal to the console's view (``cols`` x ``rows``):
    the view and the teammate's terminal are always the same size."""
    ctx.view_size = (cols, rows)
    with contextlib.suppress(CrewmuxError):
        backend = ctx.backend_for("in-process")
        if isinstance(backend, TerminalHost):
            backend.resize_all(cols, rows)


def auto_backend(ctx: TeamContext, env: dict[str, str] | None = None) -> str:
    """What ``auto`` means for a teammate the console starts: ``$CREWMUX_BACKEND`` or the team's
    ``crewmux.json`` when set; else tmux inside tmux, iTerm2 inside iTerm2 (API reachable); else
    in-process (outside a multiplexer the console itself is the place to watch them)."""
    env = dict(os.environ) if env is None else env
    explicit = env.get("CREWMUX_BACKEND") or registry.team_setting(ctx.paths.settings)
    if explicit and explicit != "auto":
        return registry.choose(explicit, env=env)
    found = registry.detect(env)
    return found if found == "iterm2" or (found == "tmux" and env.get("TMUX")) else "in-process"


@dataclass
class TeamContext:
    """The team the console runs, and the stores and teammate service it works through."""

    home: Path
    team: str
    backend: PaneBackend | None = None
    interop: bool = False
    layout: Layout = "main-vertical"
    """Where tmux teammates go: inside tmux, beside the console in its window laid out so
    (``main-vertical``, ``tiled``), or ``windows`` (a window each)."""
    teams: TeamStore = field(init=False)
    mailbox: Mailbox = field(init=False)
    tasks: TaskStore = field(init=False)
    teammates: Teammates = field(init=False)
    view_size: tuple[int, int] | None = field(init=False, default=None)
    """The terminal view's (cols, rows): an in-process teammate starts at it (see :func:`fit_terminals`)."""
    seat: ConsoleSeat = field(init=False)
    """Held while this console owns the team's single-owner duties (see :mod:`app.console.seat`)."""

    def __post_init__(self) -> None:
        self.teams = TeamStore(self.home, interop=self.interop)
        self.mailbox = Mailbox(self.teams, self.team)
        self.tasks = TaskStore(self.teams.paths(self.team))
        injected = (self.backend,) if self.backend is not None else ()
        backends = Backends(self.paths.settings, *injected, console=True)  # in-process panes live here
        self.teammates = Teammates(self.teams, self.team, backends)
        self.seat = ConsoleSeat(self.paths.console_seat)

    @property
    def paths(self) -> TeamPaths:
        return self.teams.paths(self.team)

    @property
    def lead_inbox(self) -> LeadInbox:
        """The one reader of the lead's inbox (this process's, shared with any waiting shutdown)."""
        return LeadInbox.of(self.mailbox)

    def backend_for(self, name: str) -> PaneBackend:
        """The backend called ``name``, through the teammate service's one lookup (the injected
        one when its name matches). BadInput for an unknown name, BackendUnavailable."""
        return self.teammates.backends.get(name)

    def close(self) -> None:
        """Stop the teammates this console hosts (in-process panes die with it) and close the stores."""
        for backend in self.teammates.backends.loaded():
            if backend.SURVIVES_CONSOLE:
                continue
            for handle in backend.list_panes(self.team):
                with contextlib.suppress(CrewmuxError):
                    backend.kill(handle, grace=0.5)
        self.tasks.close()
        self.seat.release()


def ensure_team(home: Path, team: str) -> None:
    """Create ``team`` under ``home`` when it does not exist yet (first use)."""
    teams = TeamStore(home)
    if not teams.exists(team):
        teams.create(team, f"created by the console in {Path.cwd()}", lead_pid=os.getpid())


def handle_of(member: Member) -> PaneHandle:
    """The pane handle recorded for ``member``; PaneNotFound when it has no pane."""
    return PaneHandle.for_member(member)


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


@dataclass(frozen=True)
class SpawnRequest:
    """What the spawn form asks for."""

    name: str
    kind: str = "shell"
    command: str = ""
    backend: str = "auto"
    cwd: str = ""
    plan_mode: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def spawn(ctx: TeamContext, req: SpawnRequest) -> Member:
    """Start the teammate the form asks for, through the teammate service (which checks the name,
    picks a color, builds the agent's command line and records the member): ``command`` when
    given (run by ``sh -c``, so loops, pipes and ``$VARS`` work as typed), else the agent kind's.
    ``auto`` is :func:`auto_backend`; inside tmux a tmux teammate goes beside the console in its
    window, laid out by ``ctx.layout`` (``windows``: a window of its own)."""
    argv = ["sh", "-c", req.command] if req.command.strip() else []
    backend = auto_backend(ctx) if req.backend == "auto" else req.backend
    spawn_req = TeammateSpawn(
        name=req.name,
        kind=None if argv else req.kind,
        argv=argv,
        backend=backend,
        cwd=req.cwd or str(Path.cwd()),
        plan=req.plan_mode,
        layout=ctx.layout,
        beside_lead=backend == "tmux" and bool(os.environ.get("TMUX")) and ctx.layout != "windows",
        size=ctx.view_size if backend == "in-process" else None,  # its terminal is the view's size from the start
    )
    return ctx.teammates.spawn(spawn_req).member


def shutdown(ctx: TeamContext, name: str, *, grace: float = 10.0) -> str:
    """Shut a teammate down through the teammate service (:meth:`Teammates.shutdown`).

    That is: a ShutdownRequest into its inbox, up to ``grace`` seconds for an answer, then
    SIGTERM/SIGKILL of its process tree, its pane closed, its tasks released, the member removed.
    Returns a one-line account (outcome, reason, what was killed). A rejection is reported, not forced.
    """
    result = ctx.teammates.shutdown(name, timeout=grace, reason="asked by the lead in the console")
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

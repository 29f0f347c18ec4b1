"""One teammate service: spawn, find, shut down, restart and kill teammates — for every entry point.

The CLI (``crewmux spawn|kill|shutdown|resume``), the console and the MCP server all call this,
so each rule lives here once: a name is checked and never the lead's; a color is picked; the
backend comes from the one lookup (:class:`Backends` over ``backends.registry``); an agent kind's
command line comes from :mod:`app.agents.adapters`; the member is recorded with its runtime and,
if recording fails, its pane is closed again; the first prompt goes to its inbox; delegate mode
is checked (:mod:`app.core.policy`) for whoever acts. The API::

    svc = Teammates(teams, team)                     # or Teammates(teams, team, Backends(..., hosted))
    result = svc.spawn(SpawnRequest(name="w1", kind="worker"))      # -> SpawnResult
    svc.shutdown("w1", timeout=10.0, force=False)    # -> ShutdownResult (app.lifecycle.shutdown)
    svc.kill("w1", grace=3.0)                        # -> "killed" / "already gone (...)"
    svc.resume()                                     # -> list[ResumeEntry]: re-attach or restart
    svc.handle_of(member), svc.backend_for(member)   # -> PaneHandle, PaneBackend

Errors are the core's: BadInput / MemberExists (exit 2), PolicyRefused (3), BackendUnavailable,
PaneNotFound, BackendError.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.core import policy
from app.core.errors import BadInput, CrewmuxError, MemberExists, PaneNotFound
from app.core.liveness import is_alive
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME, check_name
from app.core.settings import load_settings
from app.core.team import COLORS
from backends import registry
from backends.base import PaneHandle, PaneSpec

if TYPE_CHECKING:
    from app.core.models import Member
    from app.core.team import TeamStore
    from app.lifecycle.resume import ResumeEntry
    from app.lifecycle.shutdown import ShutdownResult
    from backends.base import Layout, PaneBackend


class Backends:
    """The one backend lookup: registry backends loaded once per name; ``injected`` ones are used
    for their name. ``settings`` is the team's ``crewmux.json`` (its ``backend`` key is part of
    :func:`backends.registry.choose`). ``console``: this process hosts in-process panes itself
    (elsewhere an in-process spawn asks the team's running console, :mod:`backends.console_link`)."""

    def __init__(self, settings: Path | None = None, *injected: PaneBackend, console: bool = False) -> None:
        self.settings = settings
        self.console = console
        self._loaded: dict[tuple[str, bool], PaneBackend] = {(b.name, False): b for b in injected}
        self._injected = {b.name for b in injected}

    def choose(self, explicit: str | None = None) -> str:
        """The backend name to use: ``explicit`` (``auto``/None: flag → env → team setting → detect)."""
        return registry.choose(None if explicit in (None, "auto") else explicit, settings=self.settings)

    def hosts(self, name: str) -> bool:
        """True when this process hosts ``name``'s panes itself (injected, or in-process in a console)."""
        return name in self._injected or (self.console and name == "in-process")

    def get(self, name: str, *, beside_lead: bool = False) -> PaneBackend:
        """The backend called ``name`` (BadInput for an unknown one, BackendUnavailable)."""
        beside = beside_lead and name == "tmux"
        found = self._loaded.get((name, beside))
        if found is None:
            if name not in self._injected:
                registry.backend_class(name).check_available()
            found = self._loaded[(name, beside)] = registry.load(name, **({"beside_lead": True} if beside else {}))
        return found

    def loaded(self) -> list[PaneBackend]:
        """Every backend loaded so far (each once)."""
        return list({id(b): b for b in self._loaded.values()}.values())


@dataclass(frozen=True)
class SpawnRequest:
    """A teammate to start. ``kind`` (an agent kind: worker, claude, codex, gemini, aider, shell)
    builds the command line, with ``argv`` as extra arguments (for ``shell``: the command itself);
    without ``kind``, ``argv`` is the command. ``backend`` None or ``auto`` detects one."""

    name: str
    kind: str | None = None
    argv: list[str] = field(default_factory=list)
    backend: str | None = None
    cwd: str = ""
    color: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    prompt: str | None = None
    plan: bool = False
    model: str | None = None
    worktree: bool = False
    layout: Layout = "main-vertical"
    beside_lead: bool = False
    actor: str = LEAD_NAME
    max_tokens: int | None = None
    max_usd: float | None = None
    max_minutes: float | None = None
    size: tuple[int, int] | None = None
    """The terminal's (cols, rows) at start (the console's view for an in-process teammate);
    None: the backend's default."""


@dataclass(frozen=True)
class SpawnResult:
    """The recorded member, its pane, and how the user can see it (``attach``, or None)."""

    member: Member
    handle: PaneHandle
    attach: str | None = None


class Teammates:
    """The teammates of one team. Blocking (run it in a worker thread under a UI)."""

    def __init__(self, teams: TeamStore, team: str, backends: Backends | None = None) -> None:
        self.teams = teams
        self.team = team
        self.paths = teams.paths(team)
        self.backends = backends or Backends(self.paths.settings)

    # -- finding ---------------------------------------------------------------------------
    def member(self, name: str) -> Member:
        """The member (TeammateNotFound naming the members)."""
        return self.teams.member(self.team, name)

    def handle_of(self, member: Member) -> PaneHandle:
        """The pane handle recorded for ``member``; PaneNotFound when it has no pane."""
        return PaneHandle.for_member(member)

    def backend_for(self, member: Member) -> PaneBackend:
        """The backend ``member``'s pane lives in; PaneNotFound when it has none."""
        if not member.backend_type:
            raise PaneNotFound(f"{member.name} has no pane recorded")
        return self.backends.get(member.backend_type)

    # -- spawning --------------------------------------------------------------------------
    def next_color(self) -> str:
        """The first team color nobody uses yet (cycling once all are taken)."""
        used = {m.color for m in self.teams.load(self.team).members}
        return next((c for c in COLORS if c not in used), COLORS[len(used) % len(COLORS)])

    def _check_new(self, name: str) -> None:
        check_name(name, "agent name")
        if name.lower() == LEAD_NAME:
            raise BadInput(f"{name!r} is the lead's name; give the teammate another")
        existing = self.teams.load(self.team).member(name)
        rt = existing.crewmux if existing is not None else None
        if rt is not None and is_alive(rt.pid, rt.pid_create_time):
            raise MemberExists(f"{name!r} is already a running member of team {self.team!r}")

    def command_for(self, req: SpawnRequest, *, color: str, cwd: str) -> tuple[list[str], str]:
        """The command line ``req`` starts (an agent kind's from :mod:`app.agents.adapters`, with
        crewmux's MCP server wired in for kinds that speak MCP) and its working directory (a new
        git worktree's, with ``worktree``). BadInput for an unknown kind or nothing to run."""
        if not req.kind:
            if not req.argv:
                raise BadInput(f"nothing to run for {req.name!r}: give an agent kind or a command")
            return list(req.argv), cwd
        from app.agents.adapters import KINDS, agent_argv

        if req.kind not in KINDS:
            raise BadInput(f"unknown agent kind {req.kind!r} (one of {', '.join(KINDS)})")
        if req.worktree:
            from app.agents.worktree import create_worktree

            cwd = str(create_worktree(Path(cwd), self.team, req.name))
        mode = load_settings(self.paths).permission_mode if req.kind == "claude" else "default"
        from app.agents.conversation import start_args  # its own conversation, resumable by crewmux
        from app.core.agent_status import status_path
        from app.core.atomic import ensure_dir

        status_file = status_path(self.paths, req.name)
        ensure_dir(status_file.parent)

        user_extra = [a for a in req.argv if a != "--"]
        if not any(a in user_extra for a in ("--session-id", "--resume", "--chat-history-file")):
            user_extra = start_args(req.kind, team_dir=self.paths.team_dir, name=req.name).args + user_extra
        argv = agent_argv(
            req.kind,
            name=req.name,
            team=self.team,
            color=color,
            session=os.environ.get("CLAUDE_SESSION_ID", ""),
            prompt=req.prompt,
            plan=req.plan,
            model=req.model,
            extra=user_extra,
            home=self.teams.home,
            cwd=Path(cwd),
            permission_mode=mode,  # a claude teammate: the team's, and its config under crewmux's root
            status_file=status_file,  # its own hooks report its state here
        )
        from app.agents.mcp_wiring import wire  # crewmux's MCP server, as this teammate (kinds that speak MCP)

        return wire(argv, req.kind, self.team, req.name, self.teams.home, interop=self.paths.interop), cwd

    def spawn(self, req: SpawnRequest) -> SpawnResult:
        """Start a teammate in a pane and record it; see the module docstring. The first prompt
        (``req.prompt``) goes to its inbox from the lead when its agent reads it there or has it typed."""
        policy.check(self.paths, req.actor, "spawn")
        limits = {"--max-tokens": req.max_tokens, "--max-usd": req.max_usd, "--max-minutes": req.max_minutes}
        for label, value in limits.items():
            if value is not None and value <= 0:
                raise BadInput(f"{label} must be more than 0, got {value}")
        self._check_new(req.name)
        cwd = str(Path(req.cwd).expanduser().resolve()) if req.cwd else os.getcwd()
        if not Path(cwd).is_dir():
            raise BadInput(f"working directory {cwd!r} does not exist")
        color = req.color or self.next_color()
        backend_name = self.backends.choose(req.backend)
        argv, cwd = self.command_for(req, color=color, cwd=cwd)
        env = {"CREWMUX_HOME": str(self.teams.home), "CREWMUX_TEAM": self.team, "CREWMUX_AGENT": req.name}
        if req.plan:
            env["CREWMUX_PLAN_MODE"] = "1"
        env.update(req.env)
        watched = req.kind not in (None, "worker", "shell")  # an agent CLI: watched through its first seconds
        spec = PaneSpec(
            team=self.team, name=req.name, argv=argv, cwd=cwd, env=env, color=color, title=req.name,
            layout=req.layout, keep_on_exit=watched,
            **({"cols": req.size[0], "rows": req.size[1]} if req.size else {}),
        )  # fmt: skip
        handle, attach = self._open_pane(backend_name, spec, beside_lead=req.beside_lead)
        from app.agents.conversation import recorded_session

        runtime = MemberRuntime(
            pid=handle.pid,
            pid_create_time=handle.pid_create_time,
            argv=argv,
            agent_kind=req.kind or "command",
            pane_session=handle.locator,
            created_by_crewmux=True,
            env=env,
            worktree=cwd if req.worktree else None,
            session_id=recorded_session(argv),
        )
        default = load_settings(self.paths).budget  # the team's default budget, where the request sets none
        runtime.max_tokens = req.max_tokens or default.max_tokens
        runtime.max_usd = req.max_usd or default.max_usd
        runtime.max_minutes = req.max_minutes or default.max_minutes
        try:
            member = self.teams.join(
                self.team,
                req.name,
                agent_type=req.kind,
                color=color,
                cwd=cwd,
                backend_type=handle.backend,
                pane_id=handle.pane_id,
                prompt=req.prompt,
                model=req.model,
                plan_mode_required=req.plan or None,
                runtime=runtime,
                replace_dead=True,
            )
        except CrewmuxError:
            self._close_pane(handle, grace=1.0)
            raise
        self._first_prompt(req)
        if watched:
            self._confirm_started(req, backend_name, handle)
        return SpawnResult(member=member, handle=handle, attach=attach)

    def _confirm_started(self, req: SpawnRequest, backend_name: str, handle: PaneHandle) -> None:
        """Fail the spawn, with the agent's last output, when it died in its first seconds
        (:mod:`app.agents.startup`); the member is removed again."""
        from app.agents.adapters import load_rules
        from app.agents.startup import AgentDiedAtStart, confirm_started

        try:
            confirm_started(self.backends.get(backend_name), handle, load_rules(req.kind or ""))
        except AgentDiedAtStart:
            with contextlib.suppress(CrewmuxError):
                self.teams.leave(self.team, req.name)
            raise

    def _open_pane(self, backend_name: str, spec: PaneSpec, *, beside_lead: bool) -> tuple[PaneHandle, str | None]:
        if backend_name == "in-process" and not self.backends.hosts(backend_name):
            from backends.console_link import handle_from_doc, request_spawn  # the console hosts them

            return handle_from_doc(request_spawn(self.paths, spec)), None
        backend = self.backends.get(backend_name, beside_lead=beside_lead)
        return backend.spawn(spec), backend.attach_command(self.team)

    def _first_prompt(self, req: SpawnRequest) -> None:
        if not req.prompt or not req.kind:
            return
        from app.agents.adapters import load_rules

        if req.kind == "worker" or load_rules(req.kind).prompt in ("inbox", "type"):
            Mailbox(self.teams, self.team).send(req.name, req.prompt, sender=LEAD_NAME, summary="first prompt")

    # -- stopping --------------------------------------------------------------------------
    def _close_pane(self, handle: PaneHandle, *, grace: float) -> None:
        """End the pane's process tree and close it. PaneNotFound when it is already gone."""
        if handle.backend == "in-process" and not self.backends.hosts("in-process"):
            from app.core.proctree import kill_tree
            from backends.console_link import request_kill

            try:
                request_kill(self.paths, handle)
            except CrewmuxError:
                if handle.pid is None or not kill_tree(handle.pid, handle.pid_create_time, grace=grace):
                    raise PaneNotFound(f"in-process pane (pid {handle.pid}) is no longer running") from None
            return
        self.backends.get(handle.backend).kill(handle, grace=grace)

    def close_pane(self, member: Member, *, grace: float = 0.5) -> bool:
        """Close ``member``'s pane when crewmux created it (in-process panes end with their
        process). True when the pane is gone: closed now, or found already closed."""
        rt = member.crewmux
        if rt is None or not rt.created_by_crewmux or member.backend_type is None:
            return False
        if member.backend_type == "in-process":
            return not (rt.pid and is_alive(rt.pid, rt.pid_create_time))
        try:
            self._close_pane(self.handle_of(member), grace=grace)
        except PaneNotFound:
            return True
        except CrewmuxError:
            return False
        return True

    def kill(self, name: str, *, grace: float = 3.0, actor: str = LEAD_NAME) -> str:
        """End a teammate's processes and close its pane at once (no request); the member stays,
        marked inactive. Returns ``killed`` or ``already gone (...)``. The lead's pane, and panes
        crewmux did not create, are refused (BadInput)."""
        policy.check(self.paths, actor, "shutdown")
        member = self.member(name)
        if member.name == LEAD_NAME:
            raise BadInput("crewmux never kills the lead's pane")
        if member.crewmux is None or not member.crewmux.created_by_crewmux:
            raise BadInput(f"{name!r}'s pane was not created by crewmux; refusing to kill it")
        note = "killed"
        try:
            self._close_pane(self.handle_of(member), grace=grace)
        except PaneNotFound as exc:
            note = f"already gone ({exc})"

        def inactive(m: Member) -> None:
            m.is_active = False
            if m.crewmux is not None:
                m.crewmux.ended = f"killed by {actor}"

        self.teams.set_member(self.team, name, inactive)
        return note

    def shutdown(
        self,
        name: str,
        *,
        timeout: float = 10.0,
        force: bool = False,
        grace: float = 2.0,
        reason: str | None = None,
        actor: str = LEAD_NAME,
    ) -> ShutdownResult:
        """Ask ``name`` to shut down, escalate when it does not answer; always ends within
        ``timeout + 5`` s (:func:`app.lifecycle.shutdown.shutdown_member`)."""
        from app.lifecycle.shutdown import shutdown_member

        policy.check(self.paths, actor, "shutdown")
        if name == LEAD_NAME:
            raise BadInput("the lead is shut down by quitting the console (or deleting the team), not by request")
        return shutdown_member(
            self.teams, self.team, name, timeout=timeout, force=force, grace=grace, reason=reason, teammates=self
        )

    # -- restarting ------------------------------------------------------------------------
    def resume(self, *, backend: str | None = None) -> list[ResumeEntry]:
        """Re-attach teammates whose processes live; restart the others with their recorded
        command, cwd and tasks (``backend`` forces one backend for every restart)."""
        from app.lifecycle.resume import resume_team

        hosts = self.backends.hosts("in-process")
        return resume_team(
            self.teams, self.team, backend=backend, load_backend=self.backends.get, hosts_in_process=hosts
        )

    def shutdown_all(
        self, *, timeout: float = 10.0, force: bool = True, actor: str = LEAD_NAME
    ) -> list[ShutdownResult]:
        """Shut every teammate down in parallel (``team delete --force``, the console's f10)."""
        from app.lifecycle.shutdown import shutdown_team

        policy.check(self.paths, actor, "shutdown")
        return shutdown_team(self.teams, self.team, timeout=timeout, force=force, teammates=self)

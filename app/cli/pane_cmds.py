"""``crewmux spawn``, ``crewmux panes``, ``crewmux kill``: teammates as processes in panes.

The command a teammate runs is built in one place, :func:`build_command`, so agent adapters can
add their options (``--agent KIND --prompt --plan --model``) there.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.context import Context, common_parser, team_option
from app.core.errors import BadInput, CrewmuxError, MemberExists, PaneNotFound
from app.core.liveness import is_alive
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from backends import registry
from backends.base import PaneHandle, PaneSpec

if TYPE_CHECKING:
    from app.core.models import BackendType, Member

LAYOUTS = ("main-vertical", "tiled", "windows")


def _spawn_options(p: argparse.ArgumentParser) -> None:
    team_option(p)
    p.add_argument("--backend", choices=registry.CHOICES, default="auto")
    p.add_argument("--layout", choices=LAYOUTS, default="main-vertical")
    p.add_argument("--cwd", metavar="DIR")
    p.add_argument("--color", metavar="COLOR")
    p.add_argument("--env", action="append", default=[], metavar="K=V")
    p.add_argument(
        "--beside-lead",
        action="store_true",
        default=False,
        help="inside tmux: split beside your pane, not a new window",
    )
    from app.agents.spawn_options import add_agent_options

    add_agent_options(p)  # --agent KIND --prompt TEXT --plan --model M --worktree


def _parse_rest(ctx: Context, args: argparse.Namespace) -> None:
    """Split ``NAME [options] -- CMD...`` (argparse leaves it whole) into args.name/args.command_argv."""
    rest = list(args.rest)
    cut = rest.index("--") if "--" in rest else len(rest)
    head, args.command_argv = rest[:cut], rest[cut + 1 :]
    inner = argparse.ArgumentParser(prog="crewmux spawn", parents=[common_parser()], add_help=False)
    inner.add_argument("name", metavar="NAME")
    _spawn_options(inner)
    for key in (
        "team",
        "env",
        "json",
        "agent",
        "prompt",
        "plan",
        "model",
        "worktree",
    ):  # values given before NAME stay unless repeated after it
        inner.set_defaults(**{key: getattr(args, key)})
    inner.parse_args(head, namespace=args)
    ctx.json = bool(args.json)


def build_command(args: argparse.Namespace, home: Path | None = None) -> list[str]:
    """The argv the teammate runs (everything after ``--``). BadInput when there is none."""
    if getattr(args, "agent", None):  # crewmux spawn NAME --agent KIND (app/agents adapters)
        from app.agents.spawn_options import agent_command

        return agent_command(args, home)
    argv = list(args.command_argv or [])
    if not argv:
        raise BadInput("nothing to run: give the command after '--', e.g. crewmux spawn NAME --team T -- bash")
    return argv


def _env(ctx: Context, team: str, name: str, pairs: list[str]) -> dict[str, str]:
    env = {"CREWMUX_HOME": str(ctx.home), "CREWMUX_TEAM": team, "CREWMUX_AGENT": name}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--env wants KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def _handle(m: Member) -> PaneHandle:
    rt = m.crewmux or MemberRuntime()
    backend: BackendType = m.backend_type or "tmux"
    return PaneHandle(backend, m.tmux_pane_id, rt.pid, rt.pid_create_time, rt.pane_session)


def spawn(ctx: Context, args: argparse.Namespace) -> int:
    _parse_rest(ctx, args)
    team = ctx.team(args)
    paths = ctx.teams.paths(team)
    existing = ctx.teams.load(team).member(args.name)
    if existing is not None and (
        args.name == LEAD_NAME
        or (existing.crewmux and is_alive(existing.crewmux.pid, existing.crewmux.pid_create_time))
    ):
        raise MemberExists(f"{args.name!r} is already a running member of team {team!r}")
    argv = build_command(args, ctx.home)
    cwd = str(Path(args.cwd).resolve()) if args.cwd else os.getcwd()
    color = args.color or _next_color(ctx, team)
    spec = PaneSpec(
        team=team, name=args.name, argv=argv, cwd=cwd, env=_env(ctx, team, args.name, args.env),
        color=color, title=args.name, layout=args.layout, keep_on_exit=_watched(args),
    )  # fmt: skip
    name = registry.choose(None if args.backend == "auto" else args.backend, settings=paths.settings)
    attach: str | None = None
    if name == "in-process":
        from backends.console_link import handle_from_doc, request_spawn

        handle = handle_from_doc(request_spawn(paths, spec))
    else:
        backend = registry.load(name, **({"beside_lead": True} if args.beside_lead and name == "tmux" else {}))
        handle = backend.spawn(spec)
        attach_of = getattr(backend, "attach_command", None)
        attach = attach_of(team) if callable(attach_of) else None
    runtime = MemberRuntime(
        pid=handle.pid, pid_create_time=handle.pid_create_time, argv=argv,
        pane_session=handle.locator, created_by_crewmux=True, env=dict(spec.env),
    )  # fmt: skip
    try:
        member = ctx.teams.join(
            team, args.name, color=color, cwd=cwd, backend_type=handle.backend,
            pane_id=handle.pane_id, runtime=runtime, replace_dead=True,
        )  # fmt: skip
    except Exception:
        _kill(ctx, team, handle, grace=1.0)
        raise
    from app.agents.spawn_options import after_spawn

    after_spawn(ctx.teams, team, args)
    if _watched(args):
        _confirm_started(ctx, team, args.name, handle, name)
    doc: dict[str, Any] = {
        "name": member.name, "backendType": handle.backend, "paneId": handle.pane_id,
        "pid": handle.pid, "color": color, "attach": attach,
    }  # fmt: skip
    text = f"spawned {member.name} in {handle.backend} pane {handle.pane_id} (pid {handle.pid})"
    ctx.emit(doc, text + (f"\nattach with: {attach}" if attach else ""))
    return 0


def _watched(args: argparse.Namespace) -> bool:
    """Agent CLIs are watched through their first seconds (a rejected flag ends them at once)."""
    return bool(getattr(args, "agent", None)) and args.agent not in ("worker", "shell")


def _confirm_started(ctx: Context, team: str, name: str, handle: PaneHandle, backend_name: str) -> None:
    """Fail the spawn, with the teammate's last output, when it died in its first seconds."""
    from app.agents.adapters import load_rules
    from app.agents.startup import AgentDiedAtStart, confirm_started

    try:
        confirm_started(registry.load(backend_name), handle, load_rules(ctx.teams.member(team, name).agent_type or ""))
    except AgentDiedAtStart:
        with contextlib.suppress(CrewmuxError):
            ctx.teams.leave(team, name)
        raise


def _next_color(ctx: Context, team: str) -> str:
    from app.core.team import COLORS

    used = {m.color for m in ctx.teams.load(team).members}
    return next((c for c in COLORS if c not in used), COLORS[len(used) % len(COLORS)])


def _kill(ctx: Context, team: str, handle: PaneHandle, *, grace: float) -> None:
    if handle.backend == "in-process":
        from app.core.proctree import kill_tree
        from backends.console_link import request_kill

        try:
            request_kill(ctx.teams.paths(team), handle)
        except Exception:
            if handle.pid is None or not kill_tree(handle.pid, handle.pid_create_time, grace=grace):
                raise PaneNotFound(f"in-process pane (pid {handle.pid}) is no longer running") from None
        return
    registry.load(handle.backend).kill(handle, grace=grace)


def panes(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    rows = []
    for m in ctx.teams.load(team).members:
        if m.name == LEAD_NAME:
            continue
        rt = m.crewmux
        alive = rt is not None and is_alive(rt.pid, rt.pid_create_time)
        rows.append(
            {
                "name": m.name,
                "backendType": m.backend_type,
                "paneId": m.tmux_pane_id,
                "pid": rt.pid if rt else None,
                "alive": alive,
            }
        )
    lines = [
        f"{r['name']:20} {r['backendType'] or '-':10} {r['paneId'] or '-':10} pid {r['pid'] or '-'!s:8} "
        + ("alive" if r["alive"] else "not running")
        for r in rows
    ]
    ctx.emit(rows, "\n".join(lines) if lines else f"team {team!r} has no teammates")
    return 0


def kill(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    member = ctx.teams.member(team, args.name)
    if member.name == LEAD_NAME:
        raise BadInput("crewmux never kills the lead's pane")
    if member.crewmux is None or not member.crewmux.created_by_crewmux:
        raise BadInput(f"{args.name!r}'s pane was not created by crewmux; refusing to kill it")
    handle = _handle(member)
    note = "killed"
    try:
        _kill(ctx, team, handle, grace=args.grace)
    except PaneNotFound as exc:
        note = f"already gone ({exc})"

    def inactive(m: Member) -> None:
        m.is_active = False

    ctx.teams.set_member(team, args.name, inactive)
    ctx.emit({"name": args.name, "killed": note == "killed", "detail": note}, f"{args.name}: {note}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "spawn",
        parents=[common_parser()],
        help="start a teammate in a pane",
        usage="crewmux spawn NAME --team T [--backend B] [--layout L] [--cwd DIR] [--color C] [--env K=V]..."
        " -- CMD [ARG...]",
    )
    _spawn_options(p)
    p.add_argument("rest", nargs=argparse.REMAINDER, metavar="NAME [options] -- CMD [ARG...]")
    p.set_defaults(handler=spawn)
    p = sub.add_parser("panes", parents=[common_parser()], help="list the team's panes")
    team_option(p)
    p.set_defaults(handler=panes)
    p = sub.add_parser("kill", parents=[common_parser()], help="end a teammate's processes and close its pane")
    p.add_argument("name", metavar="NAME")
    team_option(p)
    p.add_argument("--grace", type=float, default=3.0, metavar="S", help="seconds between SIGTERM and SIGKILL")
    p.set_defaults(handler=kill)

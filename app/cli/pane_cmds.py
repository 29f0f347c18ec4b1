"""``crewmux spawn``, ``crewmux panes``, ``crewmux kill``: teammates as processes in panes.

Spawning and killing are the teammate service's (:mod:`app.lifecycle.teammates`); this module
only turns the command line into its requests and prints the results.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.context import Context, common_parser, team_option
from app.core.errors import BadInput
from app.core.liveness import TeamLiveness
from app.core.paths import LEAD_NAME
from app.lifecycle.teammates import SpawnRequest, Teammates
from backends import registry

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


def _env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--env wants KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def spawn_request(args: argparse.Namespace) -> SpawnRequest:
    """The teammate service's request for ``crewmux spawn NAME [options] -- CMD...``."""
    if not args.agent and not args.command_argv:
        raise BadInput("nothing to run: give the command after '--', e.g. crewmux spawn NAME --team T -- bash")
    return SpawnRequest(
        name=args.name, kind=args.agent, argv=list(args.command_argv or []),
        backend=None if args.backend == "auto" else args.backend, cwd=args.cwd or "", color=args.color,
        env=_env(args.env), prompt=args.prompt, plan=bool(args.plan), model=args.model,
        worktree=bool(args.worktree), layout=args.layout, beside_lead=bool(args.beside_lead),
        max_tokens=args.max_tokens, max_usd=args.max_usd, max_minutes=args.max_minutes,
    )  # fmt: skip


def spawn(ctx: Context, args: argparse.Namespace) -> int:
    _parse_rest(ctx, args)
    team = ctx.team(args)
    result = Teammates(ctx.teams, team).spawn(spawn_request(args))
    member, handle, attach = result.member, result.handle, result.attach
    doc: dict[str, Any] = {
        "name": member.name, "backendType": handle.backend, "paneId": handle.pane_id,
        "pid": handle.pid, "color": member.color, "attach": attach,
    }  # fmt: skip
    text = f"spawned {member.name} in {handle.backend} pane {handle.pane_id} (pid {handle.pid})"
    ctx.emit(doc, text + (f"\nattach with: {attach}" if attach else ""))
    return 0


def panes(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    rows = []
    tf = ctx.teams.load(team)
    liveness = TeamLiveness(tf)  # Claude Code's own teammates too: by their process, never by isActive
    for m in tf.members:
        if m.name == LEAD_NAME:
            continue
        rt = m.crewmux
        alive = bool(liveness.alive(m))
        rows.append(
            {
                "name": m.name,
                "backendType": m.backend_type,
                "paneId": m.tmux_pane_id,
                "pid": (rt.pid if rt else None) or liveness.pid(m),
                "alive": alive,
                "state": ("over-budget" if rt is not None and rt.paused else "running") if alive else "not running",
            }
        )
    lines = [
        f"{r['name']:20} {r['backendType'] or '-':10} {r['paneId'] or '-':10} pid {r['pid'] or '-'!s:8} {r['state']}"
        for r in rows
    ]
    ctx.emit(rows, "\n".join(lines) if lines else f"team {team!r} has no teammates")
    return 0


def kill(ctx: Context, args: argparse.Namespace) -> int:
    note = Teammates(ctx.teams, ctx.team(args)).kill(args.name, grace=args.grace)
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

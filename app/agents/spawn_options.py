"""The ``crewmux spawn`` options that choose an agent kind (``--agent --prompt --plan --model --worktree``).

:func:`add_agent_options` adds them to the spawn parser; :func:`agent_command` is called by
``build_command`` when ``--agent`` is given and returns the argv; :func:`after_spawn` runs once
the member has joined: it records prompt/model/plan/worktree in the member and writes the first
prompt into the teammate's inbox from ``team-lead`` (Claude Code's convention; for agents that
cannot read their inbox, the deliverer types it once the agent waits for input).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from app.agents.adapters import KINDS, agent_argv, load_rules
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    import argparse

    from app.core.models import Member
    from app.core.team import TeamStore


def add_agent_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--agent", choices=KINDS, default=None, help="agent kind; builds its command line")
    p.add_argument("--prompt", default=None, metavar="TEXT", help="the teammate's first prompt")
    p.add_argument("--plan", action="store_true", help="plan mode: it must get a plan approved first")
    p.add_argument("--model", default=None, metavar="M", help="model the agent runs")
    p.add_argument("--worktree", action="store_true", help="give it its own git worktree and branch")


def agent_command(args: argparse.Namespace, home: Path | None = None) -> list[str]:
    """The argv for ``--agent`` (anything after ``--`` is passed through / is the shell command).

    With ``--worktree`` it creates the worktree and points ``args.cwd`` at it. ``home`` is
    crewmux's root: a claude teammate gets the team's permission mode and finds its team there.
    """
    extra = [a for a in (getattr(args, "command_argv", None) or []) if a != "--"]
    if getattr(args, "worktree", False):
        from app.agents.worktree import create_worktree

        base = Path(args.cwd).resolve() if getattr(args, "cwd", None) else Path.cwd()
        path = create_worktree(base, str(args.team), str(args.name))
        args.cwd = str(path)
        args.worktree_path = str(path)
    permission_mode = "default"
    if home is not None and args.agent == "claude":
        from app.core.paths import team_paths
        from app.core.settings import load_settings

        permission_mode = load_settings(team_paths(home, str(args.team))).permission_mode
    argv = agent_argv(
        str(args.agent),
        name=str(args.name),
        team=str(args.team),
        color=str(getattr(args, "color", None) or "blue"),
        session=os.environ.get("CLAUDE_SESSION_ID", ""),
        prompt=args.prompt,
        plan=bool(args.plan),
        model=args.model,
        extra=extra,
        home=home,
        cwd=Path(args.cwd).resolve() if getattr(args, "cwd", None) else Path.cwd(),
        permission_mode=permission_mode,
    )
    return with_mcp(argv, args, home)


def with_mcp(argv: list[str], args: argparse.Namespace, home: Path | None) -> list[str]:
    """``argv`` with crewmux's MCP server wired in for this teammate's identity (kinds that speak MCP)."""
    from app.agents.mcp_wiring import wire
    from app.core.interop import claude_home, interop_from_env
    from app.core.paths import resolve_home

    interop = interop_from_env()
    if home is None:
        explicit = getattr(args, "home", None)
        home = claude_home() if interop and not explicit else resolve_home(explicit)
    return wire(argv, str(args.agent), str(args.team), str(args.name), home, interop=interop)


def after_spawn(teams: TeamStore, team: str, args: argparse.Namespace) -> None:
    """Record the agent's settings in its member entry and put its first prompt in its inbox."""
    kind = getattr(args, "agent", None)
    if not kind:
        return
    worktree = getattr(args, "worktree_path", None)

    def change(m: Member) -> None:
        m.agent_type = kind
        m.model = args.model
        m.prompt = args.prompt
        m.plan_mode_required = bool(args.plan) or None
        if m.crewmux is not None:
            m.crewmux.agent_kind = kind
            m.crewmux.worktree = worktree

    teams.set_member(team, str(args.name), change)
    if args.prompt and (kind == "worker" or load_rules(kind).prompt in ("inbox", "type")):
        Mailbox(teams, team).send(str(args.name), args.prompt, sender=LEAD_NAME, summary="first prompt")

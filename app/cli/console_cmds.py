"""``crewmux console [--team T]``: open the lead console (also what a bare ``crewmux`` does)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import common_parser
from app.core.errors import InvalidName
from app.core.paths import sanitize

if TYPE_CHECKING:
    import argparse

    from app.cli.context import Context


def default_team(explicit: str | None = None, cwd: Path | None = None) -> str:
    """``--team``, else ``$CREWMUX_TEAM``, else the current directory's name, sanitized."""
    if explicit:
        return explicit
    env = os.environ.get("CREWMUX_TEAM")
    if env:
        return env
    name = (cwd or Path.cwd()).name or "crewmux"
    try:
        return sanitize(name, "team name").strip("-") or "crewmux"
    except InvalidName:
        return "crewmux"


def console(ctx: Context, args: argparse.Namespace) -> int:
    """Open the console on the team; returns 0 when the user quits."""
    from app.console.app import make_app
    from app.console.heap import tune_malloc

    tune_malloc()  # before the console's threads start (see app.console.heap)

    team = default_team(getattr(args, "team", None))
    app = make_app(ctx.home, team, layout=getattr(args, "layout", "main-vertical"))
    app.run()
    return 0


def attach(ctx: Context, args: argparse.Namespace) -> int:
    """Open the console on a team Claude Code runs (its root, its locks); the team must exist.

    The console only watches and coordinates such a team: it does not restart, monitor or type
    into Claude Code's teammates (Claude Code manages their lives), so ``life`` stays off.
    """
    from app.console.app import make_app
    from app.console.heap import tune_malloc
    from app.core.interop import claude_home, export_interop

    tune_malloc()

    home = ctx.home if ctx.interop or getattr(args, "home", None) else claude_home()
    export_interop(home)  # what the console starts works on the same root, in the same mode
    app = make_app(home, args.team, interop=True, life=False)
    app.run()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    a = sub.add_parser(
        "attach",
        help="open the console on a team Claude Code runs (interop mode)",
        parents=[common_parser(json_flag=False)],
        description="Open the console on a Claude Code Agent Teams team under $CLAUDE_CONFIG_DIR (else ~/.claude).",
    )
    a.add_argument("team", metavar="TEAM")
    a.set_defaults(handler=attach)

    p = sub.add_parser(
        "console",
        help="open the lead console (the default command)",
        parents=[common_parser(json_flag=False)],
        description="Open the lead console on a team: --team, $CREWMUX_TEAM, or the current directory's name.",
    )
    p.add_argument("--team", default=None, metavar="T", help="team (default $CREWMUX_TEAM or the directory name)")
    p.add_argument(
        "--layout",
        choices=("main-vertical", "tiled", "windows"),
        default="main-vertical",
        help="inside tmux: tmux teammates share the console's window, laid out so (windows: a window each)",
    )
    p.set_defaults(handler=console)

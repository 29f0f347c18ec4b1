"""``crewmux claude [--delegate] [--no-console] [-- CLAUDE_ARGS...]``: co-host a team Claude Code runs.

Starts the real ``claude`` as the team lead, in a tmux pane (a new window inside tmux, else a
session ``crewmux-claude-<pid>`` on ``$CREWMUX_TMUX_SOCKET`` or the default server), with:

* agent teams on (``CLAUDE_CODE_EXPERIMENTAL_AGENT_TEAMS=1``) and the task tools on
  (``CLAUDE_CODE_ENABLE_TODO_TOOLS=1``; 2.1.332 offers them only then);
* ``CLAUDE_CODE_TEAMMATE_COMMAND`` = crewmux's ``crewmux-teammate``, and ``--teammate-mode tmux``
  unless given, so every pane teammate the lead starts goes through crewmux (``worker-*`` names
  run crewmux's worker, others the real claude);
* crewmux's delegate gate (:mod:`app.core.lead_gate`): a ``PreToolUse`` hook in ``--settings``
  that refuses the lead's editing and shell tools (``Edit``, ``MultiEdit``, ``Write``,
  ``NotebookEdit``, ``Bash``) with crewmux's reason while the team is in delegate mode, read at
  each call — so ``crewmux team delegate`` and the console's toggle apply to the running lead at
  once, both ways. The lead keeps ``Agent``, ``SendMessage``, the task tools and MCP tools.
  ``--delegate`` turns the team's delegate mode on from the start.

Claude Code 2.1.332 gives every session one team, ``session-<first 8 hex of the session id>``;
this waits for the one whose ``leadProcess.pid`` is the started claude, then opens the console on
it (``crewmux attach``), or with ``--no-console`` prints it. Other teammates (codex, gemini,
aider, worker) join the same team with ``crewmux --claude spawn NAME --team session-… --agent …``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import common_parser
from app.core.errors import BadInput, Timeout
from app.core.interop import claude_home, export_interop
from app.core.lead_gate import settings_json

if TYPE_CHECKING:
    import argparse

    from app.cli.context import Context

WAIT_FOR_TEAM = 60.0


def _binary(name: str, env_var: str) -> str:
    found = os.environ.get(env_var) or shutil.which(name)
    if not found:
        local = Path(sys.executable).with_name(name)
        if local.exists():
            return str(local)
        raise BadInput(f"{name!r} is not on PATH (set ${env_var})")
    return found


def claude_argv(claude: str, args: list[str], *, home: Path, delegate: bool) -> list[str]:
    """The lead's command line: the user's arguments, plus what co-hosting needs."""
    if any(a == "--settings" or a.startswith("--settings=") for a in args):
        raise BadInput("crewmux claude passes its own --settings (the delegate gate); put yours in a settings file")
    argv = [claude, *args]
    if not any(a == "--teammate-mode" or a.startswith("--teammate-mode=") for a in args):
        argv += ["--teammate-mode", "tmux"]
    return [*argv, "--settings", settings_json(sys.executable, home, delegate=delegate)]


def lead_env(claude: str) -> dict[str, str]:
    return {
        "CLAUDE_CODE_EXPERIMENTAL_AGENT_TEAMS": "1",
        "CLAUDE_CODE_ENABLE_TODO_TOOLS": "1",
        "CLAUDE_CODE_TEAMMATE_COMMAND": _binary("crewmux-teammate", "CREWMUX_TEAMMATE_COMMAND"),
        "CREWMUX_REAL_CLAUDE": claude,
    }


def _server_env(base: list[str]) -> dict[str, str] | None:
    """The global environment of the tmux server ``base`` talks to; None when none runs."""
    out = subprocess.run([*base, "show-environment", "-g"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line and not line.startswith("-"))


def _start_in_tmux(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[str, int]:
    """Run ``argv`` in a new tmux pane; (pane id, pid of its process).

    A pane gets the tmux server's environment, not this process's: every variable of ours the
    server lacks or holds otherwise (the API key and base URL exported in this shell, ...) is
    passed with ``-e``, besides ``env``.
    """
    sock = os.environ.get("CREWMUX_TMUX_SOCKET")
    base = ["tmux", *(["-L", sock] if sock else [])]
    server = _server_env(base)
    ours = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    differs = {} if server is None else {k: v for k, v in ours.items() if server.get(k) != v}
    command = [arg for k, v in {**differs, **env}.items() for arg in ("-e", f"{k}={v}")] + ["--", *argv]
    fmt = ["-P", "-F", "#{pane_id} #{pane_pid}", "-c", str(cwd)]
    if os.environ.get("TMUX") and not sock:
        where = [*base, "new-window", "-d", *fmt, "-n", "claude-lead"]  # the console keeps the front
    else:
        where = [*base, "new-session", "-d", "-s", f"crewmux-claude-{os.getpid()}", "-x", "200", "-y", "50", *fmt]
    out = subprocess.run([*where, *command], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise BadInput(f"could not start claude in tmux: {out.stderr.strip() or out.stdout.strip()}")
    pane, pid = out.stdout.split()
    return pane, int(pid)


def find_session_team(home: Path, pid: int, timeout: float = WAIT_FOR_TEAM) -> str:
    """The team Claude Code made for the lead running as ``pid`` (its ``leadProcess.pid``)."""
    from app.core.team import TeamStore

    teams = TeamStore(home, interop=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for config in sorted((home / "teams").glob("session-*/config.json")):
            tf = teams.load(config.parent.name)
            lead = (tf.model_extra or {}).get("leadProcess")
            if isinstance(lead, dict) and lead.get("pid") == pid:
                return tf.name
        time.sleep(0.1)
    raise Timeout(f"claude (pid {pid}) made no session team under {home / 'teams'} within {timeout:.0f}s")


def cohost(ctx: Context, args: argparse.Namespace) -> int:
    claude = _binary("claude", "CREWMUX_REAL_CLAUDE")
    extra = [a for a in args.claude_args if a != "--"]
    env = lead_env(claude)
    home = ctx.home if getattr(args, "home", None) else claude_home()
    pane, pid = _start_in_tmux(claude_argv(claude, extra, home=home, delegate=args.delegate), env, Path.cwd())
    team = find_session_team(home, pid)
    export_interop(home)
    if args.delegate:
        from app.core.policy import set_delegate
        from app.core.team import TeamStore

        set_delegate(TeamStore(home, interop=True).paths(team), True)
    if args.no_console:
        doc = {"team": team, "paneId": pane, "pid": pid, "home": str(home), "delegate": bool(args.delegate)}
        ctx.emit(doc, f"claude leads team {team!r} in tmux pane {pane}; open the console: crewmux attach {team}")
        return 0
    from app.console.app import make_app
    from app.console.heap import tune_malloc

    tune_malloc()
    make_app(home, team, interop=True, life=False).run()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "claude",
        help="start the real Claude Code as the lead of a team crewmux co-hosts, then its console",
        parents=[common_parser()],
        description="Start claude as team lead (agent teams and task tools on, teammates through crewmux) "
        "in a tmux pane, and open the console on its session team.",
    )
    p.add_argument(
        "--delegate",
        action="store_true",
        help="start with delegate mode on (the lead's editing and shell tools refused until it is lifted)",
    )
    p.add_argument("--no-console", action="store_true", help="print the team instead of opening the console")
    p.add_argument("claude_args", nargs="*", metavar="-- CLAUDE_ARGS", help="passed to claude (after --)")
    p.set_defaults(handler=cohost)

"""``crewmux doctor``: which agent CLIs are here, their versions, and whether crewmux was verified with them."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from app.cli.context import Context, common_parser

if TYPE_CHECKING:
    import argparse

    from app.agents.clis import FoundCli


def tmux_version() -> str | None:
    path = shutil.which("tmux")
    if path is None:
        return None
    try:
        proc = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None


def _line(found: FoundCli, pinned_version: str, verified_range: str) -> str:
    if found.path is None:
        return f"{found.kind:<7} missing      (pinned {pinned_version}; `make agent-clis` installs it)"
    mark = "ok" if found.verified else "UNVERIFIED"
    version = found.version or f"? ({found.error})"
    return f"{found.kind:<7} {version:<12} {mark:<10} verified {verified_range}  {found.path} [{found.where}]"


def doctor(ctx: Context, args: argparse.Namespace) -> int:
    from app.agents.clis import bin_dir, clis_folder, find_cli, pinned

    clis = pinned()
    with ThreadPoolExecutor(max_workers=len(clis)) as pool:
        found = list(pool.map(lambda c: find_cli(c.kind), clis))
    tmux = tmux_version()
    doc = {
        "agentClis": [
            {**f.as_dict(), "pinned": c.version, "verifiedRange": f">={c.verified.min},<{c.verified.below}"}
            for f, c in zip(found, clis, strict=True)
        ],
        "projectFolder": str(clis_folder()),
        "bin": str(bin_dir()),
        "tmux": tmux,
    }
    lines = [_line(f, c.version, f">={c.verified.min},<{c.verified.below}") for f, c in zip(found, clis, strict=True)]
    lines.append(f"tmux    {tmux or 'missing (needed for tmux panes; in-process panes work without it)'}")
    ctx.emit(doc, "\n".join(lines))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        parents=[common_parser()],
        help="list the agent CLIs found, their versions and whether each was verified",
        description="Look for each agent CLI crewmux drives (the project's .agent-clis/ first, then $PATH), "
        "ask its version, and say whether crewmux was verified with it; tmux's version too.",
    )
    p.set_defaults(handler=doctor)

"""``crewmux-teammate``: a ``CLAUDE_CODE_TEAMMATE_COMMAND`` for Claude Code's lead.

Claude Code's lead runs this (in the pane it made) in place of ``claude``, with claude's own
teammate flags (``--agent-id N@T --agent-name N --team-name T --agent-color C ...``), after it has
recorded the member and written the first prompt to its inbox. Teammates named ``worker-*`` run
crewmux's built-in worker on that team, in interop mode; every other teammate is a real Claude
Code (``$CREWMUX_REAL_CLAUDE``, default ``claude``), with the flags unchanged.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def _flag(argv: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(argv[:-1]):
        if arg == name:
            return argv[i + 1]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    name = _flag(args, "--agent-name")
    team = _flag(args, "--team-name")
    if name and team and name.startswith("worker-"):
        worker = [sys.executable, "-m", "app", "--claude", "worker", "--team", team, "--as", name]
        os.execv(sys.executable, worker)  # noqa: S606 - replacing this process is the point
    os.environ["CREWMUX_VIA_TEAMMATE_COMMAND"] = "1"  # what started it, for whoever looks (tests, doctor)
    real = os.environ.get("CREWMUX_REAL_CLAUDE", "claude")
    try:
        os.execvp(real, [real, *args])  # noqa: S606
    except FileNotFoundError:
        print(f"crewmux-teammate: {real!r} not found (set $CREWMUX_REAL_CLAUDE)", file=sys.stderr)
        return 127
    return 0  # not reached: exec replaces this process


if __name__ == "__main__":
    raise SystemExit(main())

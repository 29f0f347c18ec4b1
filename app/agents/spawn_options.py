"""The ``crewmux spawn`` options that choose an agent kind (``--agent --prompt --plan --model --worktree``).

:func:`add_agent_options` adds them to the spawn parser. What they do — the agent's argv, its
worktree, recording prompt/model/plan in the member and the first prompt in its inbox from
``team-lead`` — is the teammate service's (:meth:`app.lifecycle.teammates.Teammates.spawn`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.agents.adapters import KINDS

if TYPE_CHECKING:
    import argparse


def add_agent_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--agent", choices=KINDS, default=None, help="agent kind; builds its command line")
    p.add_argument("--prompt", default=None, metavar="TEXT", help="the teammate's first prompt")
    p.add_argument("--plan", action="store_true", help="plan mode: it must get a plan approved first")
    p.add_argument("--model", default=None, metavar="M", help="model the agent runs")
    p.add_argument("--worktree", action="store_true", help="give it its own git worktree and branch")
    p.add_argument("--max-tokens", type=int, default=None, metavar="N", help="budget: tokens in + out")
    p.add_argument("--max-usd", type=float, default=None, metavar="X", help="budget: cost in USD")
    p.add_argument("--max-minutes", type=float, default=None, metavar="M", help="budget: wall minutes")

"""Typed delivery into the REAL agent CLIs: send → the request at the model server, per CLI.

For codex, gemini and aider (pinned, installed in .agent-clis/), one teammate is spawned with
``crewmux spawn`` in a tmux pane against the project's fake model server, and the console's
deliverer (:class:`InboxDelivery`) runs. Once the agent waits for input, a message is sent
(``Mailbox.send``) and the time until the model call carrying it arrives at the fake server is
taken; p50 and p99 over the run. Goal: ≤ 1.5 s for every CLI (the issue measured gemini at
4.9–6.3 s before, codex and gemini never received a message).

Baseline, measured in the same run on the same pane: the text pasted with tmux and Enter pressed
at once, with no check at all (the CLI's own floor; a paste this quick is what gemini drops).

"Idle" includes the agent's MCP start-up: codex and gemini draw an empty input line seconds
before their MCP servers are up and hold any prompt in their own queue until then, so for a kind
whose rules wait for it (``mcp_start``) the first round starts once it has listed crewmux's tools.
Where the time goes is read from the ledger: send → ``typing`` (wake-up, the wait for a settled
screen) and ``typing`` → the request (paste, its check, paste settle, Enter, the CLI's own work).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.agents.adapters import load_rules
from app.agents.clis import installed_binary, installed_version, pinned_for
from app.core.ledger import Ledger
from app.core.mcp_ready import listed_since
from app.core.paths import LEAD_NAME
from bench import Row, percentile, print_table, quick, ratio_text, verdict
from tests.fakemodels.base import Reply
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import PROFILES, Crew, wait_until

GOAL_S = 1.5


def _arrival(crew: Crew, text: str, timeout: float = 30.0) -> float:
    def found() -> float | None:
        for r in crew.server.model_calls:
            if any(text in t for t in crew.profile.user_texts(r)):
                return r.at
        return None

    return float(wait_until(found, timeout, f"{text!r} at the fake server"))


def _phases(crew: Crew, msg_id: str, sent: float, arrived: float) -> tuple[float, float]:
    """(send → ``typing`` recorded, ``typing`` → request at the model server) in seconds."""
    typing = next(e.at for e in Ledger(crew.mailbox.paths).history(msg_id) if e.state == "typing")
    return typing - sent, arrived - typing


def _mcp_started(crew: Crew, kind: str) -> None:
    """Wait until the agent has listed crewmux's MCP tools, when its rules say it queues prompts until then."""
    if load_rules(kind).mcp_start <= 0:
        return
    member = crew.teams.member(crew.team, "mate")
    started = member.crewmux.pid_create_time if member.crewmux else None
    if started:
        wait_until(lambda: listed_since(crew.mailbox.paths, "mate", started), 60, "MCP start-up over")


def _measure(kind: str, rounds: int) -> tuple[list[float], list[float], list[tuple[float, float]]]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-delivery-{kind}-"))
    profile = PROFILES[kind]
    server = profile.server().start()
    server.default = Reply(text="ok", chunks=1)
    crew = Crew(root, profile, server, AgentHome.create(root / "agent")).start()
    ours: list[float] = []
    raw: list[float] = []
    phases: list[tuple[float, float]] = []
    try:
        crew.start_deliverer()
        crew.spawn("mate")
        crew.wait_state("mate", "waiting", timeout=60)
        _mcp_started(crew, kind)
        for i in range(rounds):
            crew.wait_state("mate", "waiting", timeout=30)
            text = f"bench message {i} via crewmux"
            sent = time.time()
            msg_id = crew.mailbox.send("mate", text, sender=LEAD_NAME)
            arrived = _arrival(crew, text)
            ours.append(arrived - sent)
            phases.append(_phases(crew, msg_id, sent, arrived))
            wait_until(lambda: not crew.mailbox.inbox("mate", unread_only=True), 10, "marked read")
        crew.close_deliverer()
        for i in range(rounds):
            crew.wait_state("mate", "waiting", timeout=30)
            text = f"bench message {i} raw paste"
            sent = time.time()
            crew.backend.write(crew.handle("mate"), text, paste=True, enter=True)
            try:
                raw.append(_arrival(crew, text, timeout=5) - sent)
            except AssertionError:  # the Enter was taken as a newline: submit it for the next round
                crew.backend.send_key(crew.handle("mate"), "Enter")
                raw.append(float("nan"))
    finally:
        crew.close()
    return ours, raw, phases


def _ms(value: float) -> str:
    return "lost" if value != value else f"{value * 1000:.0f} ms"


def main() -> None:
    rounds = 4 if quick() else 15
    rows: list[Row] = []
    for kind in ("codex", "gemini", "aider"):
        cli = pinned_for(kind)
        if installed_version(cli) != cli.version or not installed_binary(cli).exists():
            rows.append(Row(f"{kind}: not installed (make agent-clis)", "-"))
            continue
        try:
            ours, raw, phases = _measure(kind, rounds)
        except AssertionError as exc:  # a lost message is a result, not a crash of the whole bench
            rows.append(
                Row(f"{kind}: a message did not arrive", str(exc)[:80], target=f"≤ {GOAL_S:g} s", verdict="MISS")
            )
            continue
        kept = [r for r in raw if r == r]
        lost = len(raw) - len(kept)
        for pct in (50, 99):
            mine, base = percentile(ours, pct), percentile(kept, pct)
            rows.append(
                Row(
                    f"{kind} send→model p{pct} (n={len(ours)})",
                    _ms(mine),
                    _ms(base) + (f", {lost} lost" if lost and pct == 50 else ""),
                    ratio_text(mine, base),
                    f"≤ {GOAL_S:g} s",
                    verdict(mine <= GOAL_S),
                )
            )
        for label, values in (
            ("send→typing (wake + settled screen)", [p[0] for p in phases]),
            ("typing→model (paste, checks, Enter, CLI)", [p[1] for p in phases]),
        ):
            spread = f"{_ms(percentile(values, 50))} / {_ms(percentile(values, 99))}"
            rows.append(Row(f"{kind} {label} p50/p99", spread))
    print_table("typed delivery into real CLIs (baseline: raw paste + Enter, no checks)", rows)


if __name__ == "__main__":
    main()

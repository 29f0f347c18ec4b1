"""The agents' own signals: what one hook event costs the agent, and how soon crewmux knows.

1. Cost per event (the agent waits for it: gemini runs its hooks synchronously in every turn):
   crewmux's recorder (``python -I -S -c …`` → :mod:`app.core.hook_record`) beside ``true`` (the
   floor: a shell that starts and exits) and ``crewmux hook-event`` (the whole CLI, what spawn
   wired before), each run the way gemini runs a hook (``bash -c CMD`` with its JSON on stdin).
2. Status change after the agent's event, with the REAL pinned CLIs against the fake model
   servers: the model request arrives (a turn started) / the held answer is released (the turn
   ends) → the member's report file says busy / waiting (hooks) vs the screen rules say so on a
   ``capture-pane`` poll every 30 ms (the deliverer's screen polling), both watched in one loop on
   the same turns. aider reports no turn start of its own (its busy is screen-only).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from app.agents.adapters import load_rules
from app.agents.agent_state import screen_state
from app.agents.clis import installed_binary, installed_version, pinned_for
from app.core.agent_status import reported
from app.core.hook_record import command
from app.core.paths import LEAD_NAME
from bench import Row, percentile, print_table, quick, ratio_text
from tests.fakemodels.base import Reply
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import PROFILES, Crew, wait_until

REPO = Path(__file__).resolve().parents[1]
PAYLOAD = json.dumps({"hook_event_name": "BeforeAgent", "session_id": "x", "cwd": "/tmp", "prompt": "hello " * 50})


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _run_times(cmds: dict[str, str], n: int, *, every: dict[str, int] | None = None) -> dict[str, list[float]]:
    """Each command run ``n`` times, interleaved (one of each per round, so all see the same load);
    ``every[name] = k``: that one only every k-th round (a slow one)."""
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for i in range(n):
        for name, cmd in cmds.items():
            if i % (every or {}).get(name, 1):
                continue
            t0 = time.perf_counter()
            subprocess.run(["bash", "-c", cmd], input=PAYLOAD.encode(), capture_output=True, check=True, cwd=REPO)
            times[name].append(time.perf_counter() - t0)
    return times


def cost_section(tmp: Path) -> list[Row]:
    n = 10 if quick() else 60
    status = tmp / "agent-status" / "mate.json"
    ours = shlex.join(command(sys.executable, status, "BeforeAgent", stdin=True))
    home = tmp / "home"
    subprocess.run(
        [sys.executable, "-m", "app", "team", "create", "t"], env={**os.environ, "CREWMUX_HOME": str(home)},
        capture_output=True, check=True, cwd=REPO,
    )  # fmt: skip
    cli = (
        f"CREWMUX_HOME={shlex.quote(str(home))} {shlex.quote(sys.executable)} -m app hook-event --team t --as mate busy"
    )
    bare = shlex.join([sys.executable, "-I", "-S", "-c", "pass"])
    got = _run_times({"true": "true", "ours": ours, "cli": cli, "python": bare}, n, every={"cli": 3})
    floor, fast, whole, python = got["true"], got["ours"], got["cli"], got["python"]
    assert json.loads(status.read_text())["state"] == "busy"  # the recorder did its work
    rows = []
    for pct in (50, 99):
        f, b, w = percentile(fast, pct), percentile(floor, pct), percentile(whole, pct)
        rows.append(Row(f"recorder vs `true`, p{pct} (n={n})", _ms(f), _ms(b), ratio_text(f, b)))
        rows.append(Row(f"recorder vs `crewmux hook-event`, p{pct}", _ms(f), _ms(w), ratio_text(f, w)))
        p = percentile(python, pct)
        rows.append(Row(f"recorder vs `python -I -S -c pass`, p{pct}", _ms(f), _ms(p), ratio_text(f, p)))
    return rows


def _latencies(kind: str, rounds: int) -> dict[str, list[float]]:
    """Seconds from each turn's start/end to the report (hooks) and to the screen rules (poll) saying so."""
    profile = PROFILES[kind]
    out: dict[str, list[float]] = {"busy hooks": [], "busy screen": [], "idle hooks": [], "idle screen": []}
    with tempfile.TemporaryDirectory(prefix=f"crewmux-bench-signals-{kind}-") as tmp:
        root = Path(tmp)
        server = profile.server().start()
        server.default = Reply(text="ready")
        crew = Crew(root, profile, server, AgentHome.create(root / "agent")).start()
        rules = load_rules(kind)
        paths = crew.teams.paths(crew.team)
        try:
            crew.start_deliverer()
            crew.spawn("mate", "--prompt", "say ready")
            server.wait_for_text("say ready", timeout=90)
            crew.wait_state("mate", "waiting", timeout=60)
            for i in range(rounds):
                hold = threading.Event()
                server.script(Reply(text="working", hold=hold, chunks=1))
                before = len(server.requests)
                text = f"bench turn {i:02d} of {rounds}"
                mid = crew.mailbox.send("mate", text, sender=LEAD_NAME)
                start = server.wait_for_text(text, timeout=60, after=before).at
                _watch(crew, rules, paths, "busy", start, out, hooks=kind in ("gemini", "codex"))
                released = time.time()
                hold.set()
                _watch(crew, rules, paths, "waiting", released, out, hooks=True)
                wait_until(partial(_is_read, crew, mid), 30, f"{text!r} read")
        finally:
            crew.close()
    return out


def _is_read(crew: Crew, msg_id: str) -> bool:
    return crew.mailbox.status(msg_id).state == "read"


def _watch(
    crew: Crew, rules: object, paths: object, want: str, since: float, out: dict[str, list[float]], *, hooks: bool
) -> None:
    """Poll the report file (each turn) and the screen (every 30 ms) until both say ``want`` (10 s at most).

    A busy report is this turn's (the last one ended waiting); gemini's BeforeAgent runs before its
    request is sent, so crewmux may know before ``since``: that counts as seen at the first look.
    A waiting report counts only when written after ``since`` (the release)."""
    from app.agents.adapters import AgentRules
    from app.core.paths import TeamPaths

    assert isinstance(rules, AgentRules) and isinstance(paths, TeamPaths)
    label = "busy" if want == "busy" else "idle"
    seen_report = None if hooks else -1.0
    seen_screen = None
    deadline = time.monotonic() + 10
    next_look = 0.0
    while (seen_report is None or seen_screen is None) and time.monotonic() < deadline:
        now = time.time()
        if (
            seen_report is None
            and (r := reported(paths, "mate")) is not None
            and r.state == want
            and (want == "busy" or r.at >= since)
        ):
            seen_report = now
        if seen_screen is None and time.monotonic() >= next_look:
            next_look = time.monotonic() + 0.03
            if screen_state(crew.backend.screen(crew.handle("mate")), rules) == want:
                seen_screen = time.time()
        time.sleep(0.002)
    if seen_report is not None and seen_report >= 0:
        out[f"{label} hooks"].append(seen_report - since)
    if seen_screen is not None:
        out[f"{label} screen"].append(seen_screen - since)


def main() -> None:
    print("Agent signals. Cost: ratio = crewmux recorder / baseline (lower is better). Latency: hooks vs screen poll.")
    with tempfile.TemporaryDirectory(prefix="crewmux-bench-signals-") as tmp:
        print_table("Per-event cost of the hook the agent waits for", cost_section(Path(tmp)))
    rounds = 3 if quick() else 12
    for kind in ("gemini", "codex", "aider"):
        cli = pinned_for(kind)
        if installed_version(cli) != cli.version or not installed_binary(cli).exists():
            print_table(f"{kind}: status after the agent's event", [Row(f"{kind}: not installed", "-")])
            continue
        got = _latencies(kind, rounds)
        rows = []
        for label in ("busy", "idle"):
            hooks, screen = got[f"{label} hooks"], got[f"{label} screen"]
            for pct in (50, 99):
                h, s = percentile(hooks, pct), percentile(screen, pct)
                rows.append(
                    Row(
                        f"{kind} {label} p{pct} (n={len(hooks)}/{len(screen)})",
                        _ms(h) if hooks else "no hook",
                        _ms(s),
                        ratio_text(s, h) if hooks else "-",
                    )
                )
        print_table(
            f"{kind}: status after the agent's event (crewmux hooks; baseline: screen poll; ratio = screen/hooks)", rows
        )


if __name__ == "__main__":
    main()

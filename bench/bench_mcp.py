"""crewmux's MCP server: a tool call's round trip, and many servers claiming at once.

* round trip p50/p99 of ``task_claim`` and ``send_message`` through the official ``mcp`` client
  SDK over stdio (one long-lived ``crewmux mcp`` server), beside the same operation done the way
  an agent without MCP does it — one ``crewmux task claim`` / ``crewmux msg send`` process per
  call — measured in the same run;
* 16 servers (16 members) claiming from 2,000 tasks at once: every task claimed exactly once
  (checked against the task files), claims/s beside 16 concurrent CLI claimers over the same
  kind of list (the CLI run stops at a time cap and its rate is taken over what it finished).

Server start-up (the SDK import, ~1 s of CPU) is outside the timed part: a teammate starts its
server once. ``CREWMUX_BENCH_QUICK=1`` shrinks it to 4 servers over 120 tasks and short caps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from app.core.tasks import TaskStore
from app.core.team import TeamStore
from bench import Row, percentile, print_table, quick, ratio_text, verdict

REPO = Path(__file__).resolve().parent.parent
TEAM = "bench"


def _team(home: Path, members: int, tasks: int) -> None:
    """The team, its members and ``tasks`` pending tasks (written without fsync: setup is not measured)."""
    saved = os.environ.get("CREWMUX_FSYNC")
    os.environ["CREWMUX_FSYNC"] = "0"
    try:
        _fill(home, members, tasks)
    finally:
        if saved is None:
            os.environ.pop("CREWMUX_FSYNC", None)
        else:
            os.environ["CREWMUX_FSYNC"] = saved


def _fill(home: Path, members: int, tasks: int) -> None:
    teams = TeamStore(home)
    teams.create(TEAM)
    for i in range(members):
        teams.join(TEAM, f"m{i}")
    store = TaskStore(teams.paths(TEAM))
    for i in range(tasks):
        store.create(f"task {i}")
    store.close()


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "CREWMUX_HOME": str(home), "PYTHONPATH": str(REPO)}


def _server(home: Path, name: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "app", "mcp", "--team", TEAM, "--as", name],
        env={"CREWMUX_HOME": str(home), "PYTHONPATH": str(REPO)},
        cwd=str(REPO),
    )


def _cli(home: Path, *args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "app", *args], env=_env(home), cwd=REPO, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"crewmux {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")


# -- round trips ---------------------------------------------------------------------------------
async def _mcp_round_trips(home: Path, n: int) -> tuple[list[float], list[float]]:
    claims: list[float] = []
    sends: list[float] = []
    async with Client(_server(home, "m0"), read_timeout_seconds=120) as client:
        await client.call_tool("team_status", {})  # warm: first-call costs are not a round trip
        for _ in range(n):
            started = time.perf_counter()
            result = await client.call_tool("task_claim", {})
            claims.append(time.perf_counter() - started)
            if result.is_error:
                raise RuntimeError(f"task_claim failed: {result.content}")
        for i in range(n):
            started = time.perf_counter()
            result = await client.call_tool("send_message", {"to": "m1", "text": f"note {i}"})
            sends.append(time.perf_counter() - started)
            if result.is_error:
                raise RuntimeError(f"send_message failed: {result.content}")
    return claims, sends


def _cli_round_trips(home: Path, n: int) -> tuple[list[float], list[float]]:
    claims: list[float] = []
    sends: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        _cli(home, "task", "claim", "--team", TEAM, "--as", "m2")
        claims.append(time.perf_counter() - started)
    for i in range(n):
        started = time.perf_counter()
        _cli(home, "msg", "send", "m1", f"cli note {i}", "--team", TEAM, "--as", "m2")
        sends.append(time.perf_counter() - started)
    return claims, sends


def round_trip_section(work: Path) -> list[Row]:
    n_mcp, n_cli = (20, 3) if quick() else (300, 30)
    home = Path(tempfile.mkdtemp(prefix="rt-", dir=work))
    _team(home, 3, n_mcp + n_cli)
    mcp_claims, mcp_sends = anyio.run(_mcp_round_trips, home, n_mcp)
    cli_claims, cli_sends = _cli_round_trips(home, n_cli)
    rows: list[Row] = []
    for what, ours, base in (("task_claim", mcp_claims, cli_claims), ("send_message", mcp_sends, cli_sends)):
        for pct in (50, 99):
            o, b = percentile(ours, pct) * 1000, percentile(base, pct) * 1000
            rows.append(
                Row(
                    f"{what} p{pct} ({len(ours)} calls; CLI {len(base)})",
                    f"{o:.1f} ms",
                    f"{b:.0f} ms",
                    ratio_text(b, o) + " faster",
                )
            )
    return rows


# -- many servers at once ------------------------------------------------------------------------
async def _swarm(home: Path, servers: int) -> tuple[dict[str, list[str]], float]:
    """Every server claims until nothing is left; returns ids per member and the seconds it took."""
    got: dict[str, list[str]] = {f"m{i}": [] for i in range(servers)}
    ready: list[str] = []
    all_ready, go = anyio.Event(), anyio.Event()

    async def member(name: str) -> None:
        async with Client(_server(home, name), read_timeout_seconds=300) as client:
            await client.call_tool("team_status", {})  # started and answering: start-up is not timed
            ready.append(name)
            if len(ready) == servers:
                all_ready.set()
            await go.wait()
            while True:
                result = await client.call_tool("task_claim", {})
                if result.is_error:
                    text = " ".join(getattr(c, "text", "") for c in result.content)
                    if "no task is available" not in text:
                        raise RuntimeError(f"{name}: {text}")
                    return
                doc = result.structured_content or {}
                got[name].append(str(doc["id"]))

    seconds = 0.0
    async with anyio.create_task_group() as tg:
        for name in got:
            tg.start_soon(member, name)
        await all_ready.wait()
        started = time.perf_counter()
        go.set()
    seconds = time.perf_counter() - started
    return got, seconds


def _double_claims(home: Path, got: dict[str, list[str]], total: int) -> tuple[int, int]:
    """(ids claimed more than once, ids whose task file names another owner or none)."""
    ids = [i for claimed in got.values() for i in claimed]
    doubles = len(ids) - len(set(ids))
    store = TaskStore(TeamStore(home).paths(TEAM))
    owners = {t.id: t.owner for t in store.list_tasks()}
    store.close()
    wrong = sum(1 for name, claimed in got.items() for i in claimed if owners.get(i) != name)
    wrong += sum(1 for i in owners if owners[i] is None) if len(ids) == total else 0
    return doubles, wrong


def _cli_swarm(home: Path, procs: int, cap: float) -> tuple[int, float]:
    """``procs`` loops of ``crewmux task claim`` processes for up to ``cap`` seconds; (claims, seconds)."""
    counts = [0] * procs
    deadline = time.monotonic() + cap

    def loop(k: int) -> None:
        while time.monotonic() < deadline:
            proc = subprocess.run(
                [sys.executable, "-m", "app", "task", "claim", "--team", TEAM, "--as", f"m{k}"],
                env=_env(home),
                cwd=REPO,
                capture_output=True,
                check=False,
            )
            if proc.returncode != 0:
                return
            counts[k] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(k,)) for k in range(procs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), time.perf_counter() - started


def swarm_section(work: Path) -> list[Row]:
    servers, total, cli_cap = (4, 120, 2.0) if quick() else (16, 2000, 20.0)
    home = Path(tempfile.mkdtemp(prefix="swarm-", dir=work))
    _team(home, servers, total)
    got, seconds = anyio.run(_swarm, home, servers)
    claimed = sum(len(v) for v in got.values())
    doubles, wrong = _double_claims(home, got, total)
    ours = claimed / seconds if seconds else 0.0

    cli_home = Path(tempfile.mkdtemp(prefix="cliswarm-", dir=work))
    _team(cli_home, servers, total)
    cli_claims, cli_seconds = _cli_swarm(cli_home, servers, cli_cap)
    base = cli_claims / cli_seconds if cli_seconds else 0.0
    busiest = max(len(v) for v in got.values())
    idlest = min(len(v) for v in got.values())
    return [
        Row(
            f"claims/s, {servers} servers, {total} tasks",
            f"{ours:,.0f}/s ({claimed} in {seconds:.1f}s)",
            f"{base:,.1f}/s ({cli_claims} in {cli_seconds:.1f}s cap)",
            ratio_text(ours, base),
        ),
        Row(
            "every task claimed exactly once",
            f"{claimed}/{total}, {doubles} double, {wrong} wrong owner",
            "-",
            "-",
            "0 double",
            verdict(claimed == total and doubles == 0 and wrong == 0),
        ),
        Row("claims per server (min-max)", f"{idlest}-{busiest}"),
    ]


def main() -> None:
    print(
        "crewmux MCP server (official mcp SDK, stdio) vs the CLI (one process per operation), same run;"
        " ratio = CLI / MCP for latency, MCP / CLI for throughput (higher is better)."
    )
    with tempfile.TemporaryDirectory(prefix="crewmux-bench-mcp-") as tmp:
        for title, section in (
            ("Tool call round trip (SDK client -> crewmux mcp -> core)", round_trip_section),
            ("Many servers claiming at once", swarm_section),
        ):
            started = time.monotonic()
            rows = section(Path(tmp))
            print_table(f"{title}  [{time.monotonic() - started:.1f} s]", rows)


if __name__ == "__main__":
    main()

"""``crewmux web --team T [--host H] [--port P] [--allow-remote]``: the console in a browser.

Prints one URL carrying a fresh secret token; each browser tab that opens it gets its own console
process (the same one ``crewmux console`` runs). Anything without the token gets 403.
"""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import socket
import sys
from typing import TYPE_CHECKING

from app.cli.console_cmds import default_team
from app.cli.context import common_parser
from app.core.errors import BadInput, UnsafeBind
from app.core.paths import sanitize

if TYPE_CHECKING:
    import argparse

    from app.cli.context import Context

DEFAULT_PORT = 8765
RISK = (
    "anyone who can reach {where} and gets the URL drives this team's console: types into its agents, "
    "spawns and stops them. The traffic, token included, is plain HTTP: put a TLS reverse proxy in "
    "front of it, or reach it through an SSH tunnel instead."
)


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is this machine's loopback (unresolvable: not)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def ipaddress_is_unspecified(host: str) -> bool:
    """``0.0.0.0`` or ``::``: every address of this machine."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def web(ctx: Context, args: argparse.Namespace) -> int:
    """Serve the console until Ctrl+C; 0 then."""
    from app.console.ops import ensure_team
    from app.core.team import TeamStore
    from app.web.server import TokenServer, console_command, make_token

    host: str = args.host
    port: int = args.port
    if not 0 <= port <= 65535:
        raise BadInput(f"--port {port}: not a TCP port (0 picks a free one)")
    team = sanitize(default_team(args.team), "team name")
    remote = not is_loopback(host)
    if remote and not args.allow_remote:
        raise UnsafeBind(
            f"{host} is not a loopback address: serving there needs --allow-remote; "
            + RISK.format(where=f"{host}:{port}")
        )
    if ctx.interop:
        TeamStore(ctx.home, interop=True).load(team)  # as attach: the team must exist
    else:
        ensure_team(ctx.home, team)
    server = TokenServer(
        console_command(ctx.home, team, interop=ctx.interop),
        token=make_token(),
        title=f"crewmux — {team}",
        host=host,
        port=port,
    )

    def ready(url: str) -> None:
        if remote:
            warning = RISK.format(where=url.split("/")[2])
            print(f"crewmux web: WARNING: listening on {host}: {warning}", file=sys.stderr)
        print(f"crewmux web: team {team}'s console; open this URL (it holds the access token):", file=sys.stderr)
        print(url, flush=True)
        if ipaddress_is_unspecified(host):
            print(
                f"crewmux web: {host} listens on every address: open it with this machine's name or address",
                file=sys.stderr,
            )
        print("crewmux web: Ctrl+C stops it.", file=sys.stderr, flush=True)

    import asyncio  # only when serving (the CLI's other commands start faster without it)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await server.run(stop, ready)

    try:
        asyncio.run(serve())
    except OSError as exc:
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "web",
        help="serve the console to a browser (prints a URL with an access token)",
        parents=[common_parser(json_flag=False)],
        description="Serve the lead console to a browser with textual-serve. Each tab gets its own console; "
        "every request must carry the printed token.",
    )
    p.add_argument("--team", default=None, metavar="T", help="team (default $CREWMUX_TEAM or the directory name)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (anyone who reaches it with the URL drives the console)",
    )
    p.set_defaults(handler=web)

"""``crewmux mcp``: serve the team tools over MCP as one member (stdio, or HTTP with ``--http``).

The MCP SDK is imported only when this command runs, so other commands start as fast as before.
Nothing but the MCP protocol is written to stdout on stdio; notices go to stderr.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.cli.context import Context, as_option, common_parser, team_option

if TYPE_CHECKING:
    import argparse


def serve(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    paths = ctx.teams.paths(team)
    if args.show_token:
        from app.mcp.http import team_token

        print(team_token(paths))
        return 0
    from app.mcp.server import build_server
    from app.mcp.tools import TeamTools, await_member

    me = ctx.agent(args)
    if args.wait_member > 0:
        await_member(ctx.teams, team, me, args.wait_member)
    server = build_server(TeamTools(ctx.teams, team, me))
    if args.http is None:
        server.run("stdio")
        return 0
    from app.mcp.http import serve_http

    serve_http(server, paths, args.host, args.http, allow_remote=args.allow_remote)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "mcp",
        parents=[common_parser(json_flag=False)],
        help="MCP server with the team tools, acting as one member (stdio; --http PORT for HTTP)",
        description="Serve the team's tools (tasks, messages, status) over MCP as the member --as NAME of --team T.",
    )
    team_option(p)
    as_option(p)
    p.add_argument("--http", type=int, default=None, metavar="PORT", help="serve streamable HTTP on this port")
    p.add_argument("--host", default="127.0.0.1", help="address to bind with --http (default 127.0.0.1)")
    p.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback --host (the token is sent in clear)"
    )
    p.add_argument(
        "--wait-member",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for --as to join the team (a teammate's CLI may start the server first)",
    )
    p.add_argument("--show-token", action="store_true", help="print the team's HTTP bearer token and exit")
    p.set_defaults(handler=serve)

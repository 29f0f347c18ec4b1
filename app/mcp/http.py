"""The streamable-HTTP transport of ``crewmux mcp``: loopback by default, a per-team bearer token always.

The token is made once per team (``secrets.token_urlsafe``), kept 0600 in
``teams/<team>/.crewmux/mcp-token`` and shared by every member's HTTP server of that team; a
request without ``Authorization: Bearer <token>`` gets 401 before it reaches the MCP layer.
Only a loopback address is bound unless the caller passes ``allow_remote`` (and is warned):
the token then travels in clear text, so it belongs behind a tunnel.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import sys
from typing import TYPE_CHECKING, Any

from app.core.atomic import atomic_write, read_bytes
from app.core.errors import BadInput, PolicyRefused
from app.core.locks import file_lock

if TYPE_CHECKING:
    from pathlib import Path

    from mcp.server.mcpserver import MCPServer
    from starlette.types import ASGIApp, Receive, Scope, Send

    from app.core.paths import TeamPaths

MCP_PATH = "/mcp"


def token_path(paths: TeamPaths) -> Path:
    return paths.runtime_dir / "mcp-token"


def team_token(paths: TeamPaths) -> str:
    """The team's bearer token, made (0600) on first use."""
    path = token_path(paths)
    raw = read_bytes(path)
    if raw and raw.strip():
        return raw.decode("ascii", "replace").strip()
    with file_lock(path):
        raw = read_bytes(path)  # someone may have made it while we waited for the lock
        if raw and raw.strip():
            return raw.decode("ascii", "replace").strip()
        token = secrets.token_urlsafe(32)
        atomic_write(path, token + "\n")
        return token


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless asked for explicitly; warn when it is."""
    if is_loopback(host):
        return
    if not allow_remote:
        raise PolicyRefused(
            f"refusing to serve MCP on {host}: not a loopback address; pass --allow-remote to expose the team "
            "(anyone who can reach it and holds the team token acts as this member)"
        )
    print(
        f"crewmux mcp: WARNING: serving on {host}, reachable from other hosts; the bearer token travels "
        "unencrypted over plain HTTP — put it behind a tunnel or TLS proxy",
        file=sys.stderr,
    )


class BearerGate:
    """ASGI middleware: 401 for any HTTP request without the right bearer token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                body = json.dumps({"error": "missing or wrong bearer token (see 'crewmux mcp --show-token')"})
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="crewmux"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body.encode()})
                return
        await self.app(scope, receive, send)


def http_app(server: MCPServer[Any], token: str, host: str) -> ASGIApp:
    """The server's streamable-HTTP app at :data:`MCP_PATH`, behind the bearer gate."""
    from mcp.server.transport_security import TransportSecuritySettings

    security = None if is_loopback(host) else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, transport_security=security, host=host)
    return BearerGate(app, token)


def serve_http(server: MCPServer[Any], paths: TeamPaths, host: str, port: int, *, allow_remote: bool) -> None:
    """Serve until interrupted. Refuses a remote bind unless ``allow_remote``; BadInput for a bad port."""
    import anyio
    import uvicorn

    check_bind(host, allow_remote=allow_remote)
    if not 0 <= port <= 65535:
        raise BadInput(f"port {port} is out of range")
    token = team_token(paths)
    config = uvicorn.Config(http_app(server, token, host), host=host, port=port, log_level="warning")
    web = uvicorn.Server(config)

    async def run() -> None:
        await web.serve()

    shown = f"[{host}]" if ":" in host else host
    print(
        f"crewmux mcp: serving on http://{shown}:{port}{MCP_PATH} (token in {token_path(paths)})",
        file=sys.stderr,
        flush=True,
    )
    anyio.run(run)

"""The console in a browser: textual-serve behind a secret token in every URL's path.

textual-serve runs a command under its web driver once per browser connection and relays the
terminal over a websocket. :class:`TokenServer` keeps its relay (``AppService`` and the message
loop) and replaces what faces the network: every route lives under ``/<token>/`` and one
middleware answers 403 to any request whose first path segment is not the token, compared in
constant time — the page, the websocket, the scripts, anything that would reveal the team. The
page is crewmux's own template: it loads nothing from other hosts (textual-serve's loads a web
font) and builds the websocket URL from the address the browser used, so a TLS reverse proxy in
front just works.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import shlex
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_SESSIONS = 8
"""Browser connections served at once (each runs a console process); more get 503."""
STOP_GRACE_S = 5.0
"""How long a console gets to quit when its tab closes or the server stops, before it is killed."""
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",  # the token is in the path: never hand it to another site
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

REFUSED = "403: this URL needs the token that crewmux web printed\n"
"""The whole answer to a request without the token: nothing about the team."""

log = logging.getLogger("crewmux.web")


def make_token() -> str:
    """A fresh secret for one run of ``crewmux web`` (192 random bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def console_command(home: Path, team: str, *, interop: bool = False) -> str:
    """The shell command textual-serve starts per browser: this Python's ``crewmux console``.

    ``-P`` keeps the working directory off ``sys.path``, so a folder called ``app`` there is never
    imported in crewmux's place. Interop teams open as ``crewmux attach`` does.
    """
    argv = [sys.executable, "-P", "-m", "app", "--home", str(home)]
    argv += ["attach", team] if interop else ["console", "--team", team]
    return shlex.join(argv)


class TokenServer(Server):
    """textual-serve's ``Server`` with every route behind ``/<token>/``; see the module doc."""

    def __init__(self, command: str, *, token: str, title: str, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(command, host=host, port=port, title=title, templates_path=TEMPLATES)
        if not token or "/" in token:
            raise ValueError("the token must be a non-empty path segment")
        self.token = token
        self.prefix = f"/{token}/"
        self.sessions: dict[web.WebSocketResponse, AppService] = {}
        self.bound_port: int | None = None

    # -- the guard ---------------------------------------------------------------------------
    def authorized(self, path: str) -> bool:
        """Whether ``path``'s first segment is the token (constant-time: no timing hints)."""
        segment = path[1:].split("/", 1)[0] if path.startswith("/") else ""
        return hmac.compare_digest(segment.encode(), self.token.encode())

    @web.middleware
    async def require_token(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not self.authorized(request.path):
            raise web.HTTPForbidden(text=REFUSED)
        response = await handler(request)
        if not response.prepared:  # a websocket is already under way: nothing left to add
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.require_token])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path), autoescape=True)
        p = self.prefix
        app.add_routes(
            [
                web.get(p.rstrip("/"), self.to_page),
                web.get(p, self.page, name="index"),
                web.get(p + "ws", self.websocket, name="websocket"),
                web.static(p + "static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    # -- the routes --------------------------------------------------------------------------
    async def to_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(self.prefix)

    async def page(self, request: web.Request) -> web.StreamResponse:
        context = {
            "title": self.title,
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "static_url": self.prefix + "static/",
            "websocket_path": self.prefix + "ws",
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """One browser connection: one console process, relayed until either side closes."""
        if len(self.sessions) >= MAX_SESSIONS:
            raise web.HTTPServiceUnavailable(text=f"503: {MAX_SESSIONS} consoles are open already\n")
        ws = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await ws.prepare(request)
        service = AppService(
            self.command,
            write_bytes=ws.send_bytes,
            write_str=ws.send_str,
            close=partial(close_quietly, ws),
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.sessions[ws] = service
        try:
            await service.start(width, height)
            await self._process_messages(ws, service)
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken browser message ends that session only
            log.exception("browser session failed")
        finally:
            self.sessions.pop(ws, None)
            await stop_service(service)
            await ws.close()
        return ws

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every browser session; each console quits (or is killed after a grace)."""
        for ws in list(self.sessions):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"crewmux web is stopping")
        services = list(self.sessions.values())
        await asyncio.gather(*(stop_service(s) for s in services), return_exceptions=True)

    # -- running -----------------------------------------------------------------------------
    def url(self, host: str | None = None) -> str:
        """The URL to open (after :meth:`run` bound the port)."""
        host = host or self.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.bound_port or self.port}{self.prefix}"

    async def run(self, stop: asyncio.Event, ready: Callable[[str], None]) -> None:
        """Serve until ``stop`` is set; ``ready(url)`` once the port listens."""
        runner = web.AppRunner(await self._make_app(), handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, shutdown_timeout=STOP_GRACE_S)
            await site.start()
            self.bound_port = int(runner.addresses[0][1])
            ready(self.url())
            await stop.wait()
        finally:
            await runner.cleanup()


async def stop_service(service: AppService) -> None:
    """Ask the console to quit; kill it when it has not within :data:`STOP_GRACE_S`."""
    try:
        await asyncio.wait_for(service.stop(), STOP_GRACE_S)
    except Exception:  # timed out, or the pipe broke: the kill below settles it
        log.warning("a browser console did not quit in %.0fs: killing it", STOP_GRACE_S)
    process = service._process  # textual-serve keeps it private; nothing else reaches it
    if process is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), STOP_GRACE_S)


async def close_quietly(ws: web.WebSocketResponse) -> None:
    """Close the browser's websocket (the console quit)."""
    await ws.close()

"""A shell's line to the running console: JSON requests over the team's Unix socket.

In-process teammates live inside the console, so ``crewmux spawn --backend in-process`` asks it.
The console starts :class:`ConsoleLinkServer` on ``<team dir>/.crewmux/console.sock``; a request
is one JSON line (:class:`LinkRequest`), the answer one JSON line (:class:`LinkResponse`).
A bad request gets an error answer; a connection idle for :data:`IDLE_TIMEOUT` is closed; no
failure ever prints a traceback over the console. The socket is 0600 in a 0700 folder: only
the user can ask the console to start a program. A socket path longer than the kernel's limit
(108 bytes, a deep ``$CREWMUX_HOME``) is reached through ``/proc/self/fd/<folder fd>`` on Linux.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.atomic import ensure_dir
from app.core.errors import BackendError, BackendUnavailable
from backends.base import PaneHandle, PaneSpec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from app.core.paths import TeamPaths

MAX_LINE = 1 << 20
# A connection that sends no complete request within this many seconds is closed.
IDLE_TIMEOUT = 10.0
log = logging.getLogger("crewmux")
SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes with its NUL (Linux; 104 on macOS)


class LinkRequest(BaseModel):
    """One request to the console."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys")

    op: Literal["ping", "spawn", "kill"] = Field(description="What to do.")
    spec: dict[str, Any] | None = Field(default=None, description="PaneSpec fields, for spawn.")
    handle: dict[str, Any] | None = Field(default=None, description="PaneHandle fields, for kill.")


class LinkResponse(BaseModel):
    """The console's answer."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys")

    ok: bool = Field(description="True when the request was carried out.")
    result: dict[str, Any] = Field(default_factory=dict, description="The handle (spawn) or details.")
    error: str | None = Field(default=None, description="Why it failed, when not ok.")


def socket_path(paths: TeamPaths) -> Path:
    """Where the team's console listens."""
    return paths.runtime_dir / "console.sock"


@contextlib.contextmanager
def _address(path: Path) -> Iterator[str]:
    """``path`` as an AF_UNIX address: itself when short enough, else (Linux) the same file named
    through an ``O_PATH`` descriptor of its folder, ``/proc/self/fd/<n>/<name>``, for as long as
    the block runs (binding and connecting resolve it like any path: same inode, same 0600).
    Raises BackendError where neither works."""
    if len(os.fsencode(path)) <= SUN_PATH_MAX:
        yield str(path)
        return
    if not hasattr(os, "O_PATH") or not os.path.isdir("/proc/self/fd"):
        raise BackendError(f"the console link's socket path is too long for this system: {path}")
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def handle_doc(handle: PaneHandle) -> dict[str, Any]:
    """A handle as a JSON-able dict."""
    return asdict(handle)


def handle_from_doc(doc: dict[str, Any]) -> PaneHandle:
    """The handle a :func:`handle_doc` dict describes."""
    return PaneHandle(**doc)


def spec_from_doc(doc: dict[str, Any]) -> PaneSpec:
    """The spec a request carries."""
    return PaneSpec(**doc)


class _Conn(socketserver.StreamRequestHandler):
    server: _Server
    timeout = IDLE_TIMEOUT  # socketserver sets it on the connection: an idle client is dropped

    def handle(self) -> None:
        try:
            raw = self.rfile.readline(MAX_LINE)
        except OSError:  # idle past the timeout, or gone
            return
        if not raw:
            return
        try:
            request = LinkRequest.model_validate_json(raw)
            result = {"pong": True} if request.op == "ping" else self.server.link_handler(request)
            response = LinkResponse(ok=True, result=result)
        except ValidationError as exc:
            response = LinkResponse(ok=False, error=f"bad request: {exc.errors()[0]['msg']}")
        except Exception as exc:
            response = LinkResponse(ok=False, error=f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(OSError):  # the client may have left without waiting
            self.wfile.write(response.model_dump_json().encode() + b"\n")


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    link_handler: Callable[[LinkRequest], dict[str, Any]]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failed connection is logged quietly, never a traceback on the console's screen."""
        log.debug("console link: a connection failed", exc_info=True)


class ConsoleLinkServer:
    """Serves link requests with ``handler`` on a background thread until :meth:`close`."""

    def __init__(self, paths: TeamPaths, handler: Callable[[LinkRequest], dict[str, Any]]) -> None:
        """Bind the team's socket (replacing a stale one). Raises BackendError if another console answers."""
        self.path = socket_path(paths)
        ensure_dir(self.path.parent)
        if self.path.exists():
            if _ping(self.path):
                raise BackendError(f"a crewmux console is already running for team {paths.team!r}")
            self.path.unlink()
        with _address(self.path) as address:
            self._server = _Server(address, _Conn)
        self._server.link_handler = handler
        os.chmod(self.path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, name="console-link", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and remove the socket."""
        self._server.shutdown()
        self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _exchange(path: Path, request: LinkRequest, timeout: float = 30.0) -> LinkResponse:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock, _address(path) as address:
        sock.settimeout(timeout)
        sock.connect(address)
        sock.sendall(request.model_dump_json().encode() + b"\n")
        with sock.makefile("rb") as reader:
            return LinkResponse.model_validate_json(reader.readline(MAX_LINE))


def _ping(path: Path) -> bool:
    try:
        return _exchange(path, LinkRequest(op="ping"), timeout=2.0).ok
    except (OSError, ValidationError):
        return False


def request(paths: TeamPaths, req: LinkRequest) -> dict[str, Any]:
    """Send ``req`` to the team's console; returns its result.

    Raises BackendUnavailable (exit 2) when no console runs for the team, BackendError when the
    console refused.
    """
    path = socket_path(paths)
    try:
        response = _exchange(path, req)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise BackendUnavailable(
            f"no crewmux console is running for team {paths.team}; start one with `crewmux console --team {paths.team}`"
        ) from exc
    except (OSError, ValidationError) as exc:
        raise BackendError(f"the console for team {paths.team} did not answer: {exc}") from exc
    if not response.ok:
        raise BackendError(f"the console refused: {response.error}")
    return response.result


def request_spawn(paths: TeamPaths, spec: PaneSpec) -> dict[str, Any]:
    """Ask the running console to start ``spec`` in-process; returns the new handle as a dict."""
    return request(paths, LinkRequest(op="spawn", spec=asdict(spec)))


def request_kill(paths: TeamPaths, handle: PaneHandle) -> dict[str, Any]:
    """Ask the running console to kill an in-process pane."""
    return request(paths, LinkRequest(op="kill", handle=handle_doc(handle)))


def inprocess_handler(backend: Any) -> Callable[[LinkRequest], dict[str, Any]]:
    """A ready handler that serves spawn/kill/ping with an :class:`InProcessBackend`."""

    def serve(req: LinkRequest) -> dict[str, Any]:
        if req.op == "ping":
            return {"pong": True}
        if req.op == "spawn" and req.spec is not None:
            return handle_doc(backend.spawn(spec_from_doc(req.spec)))
        if req.op == "kill" and req.handle is not None:
            backend.kill(handle_from_doc(req.handle))
            return {"killed": True}
        raise BackendError(f"request {req.op!r} lacks its argument")

    return serve

"""The shared base of the project's scripted model servers (one subclass per model API).

A :class:`FakeModelServer` listens on 127.0.0.1 (a free port, threaded ``http.server``), logs
every request (:class:`LoggedRequest`: method, path, headers, raw body, parsed JSON) and answers
each model call with the next :class:`Reply` of the test's script (``server.script(...)``), or
the default reply when the script is empty. A reply is text and/or tool calls, with usage
numbers; ``hold`` keeps the answer back until the test sets the event (an agent kept busy),
``delay`` waits before the first byte.

A subclass implements :meth:`FakeModelServer.route` for its API: decide whether the request is a
model call (then ``self.next_reply(req)`` and stream it with the :class:`Responder`), or
something else it answers directly (model lists, router calls, counting tokens).

Tests wait for a request with :meth:`FakeModelServer.wait_for` (a condition with a deadline,
never a sleep) and assert on what the CLI sent, e.g. ``req.text_contains("hello")``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from collections.abc import Callable

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{int(time.time() * 1000):x}{next(_ids):04d}"


@dataclass
class ToolCall:
    """A tool/function call the model makes: ``name`` with JSON ``arguments``."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    call_id: str = field(default_factory=lambda: new_id("call"))
    namespace: str | None = None
    """The tool namespace the call belongs to (Responses API namespaced tools, e.g. codex's ``mcp__<server>``)."""


@dataclass
class Usage:
    input_tokens: int = 12
    output_tokens: int = 7

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class Reply:
    """One scripted model answer."""

    text: str = "ok"
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    delay: float = 0.0
    hold: threading.Event | None = None
    """When set: the answer (after its first event) waits for this event — the agent stays busy."""
    chunks: int = 2
    """The text is streamed in this many pieces."""

    def text_chunks(self) -> list[str]:
        if not self.text:
            return []
        n = max(1, min(self.chunks, len(self.text)))
        step = -(-len(self.text) // n)
        return [self.text[i : i + step] for i in range(0, len(self.text), step)]

    def wait_if_held(self, timeout: float = 120.0) -> None:
        if self.hold is not None:
            self.hold.wait(timeout)


@dataclass
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    model_call: bool = False
    """Set by the server when this request was answered with a scripted reply."""

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def text_contains(self, needle: str) -> bool:
        """True when ``needle`` appears in a string anywhere in the JSON body (exact, unescaped)."""
        return any(needle in s for s in _strings(self.json))


def _strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in _strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    return []


def value_from_schema(schema: Any, known: dict[str, Any] | None = None, key: str = "") -> Any:
    """A value that satisfies a JSON schema (for a CLI's own JSON side calls: titles, routers).

    ``known`` gives values by property name (used when allowed); enums give their first member.
    """
    known = known or {}
    if not isinstance(schema, dict):
        return None
    kind = str(schema.get("type", "")).lower()
    if schema.get("enum"):
        return known[key] if known.get(key) in schema["enum"] else schema["enum"][0]
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: value_from_schema(v, known, k) for k, v in props.items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    return known.get(key, "fake")


class Responder:
    """Writes one HTTP answer: a JSON document, or a server-sent-event stream."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self.handler = handler
        self._streaming = False

    def json(self, doc: Any, status: int = 200) -> None:
        body = json.dumps(doc).encode()
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def start_sse(self) -> None:
        h = self.handler
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        self._streaming = True

    def sse(self, data: Any, event: str | None = None) -> None:
        """One event: ``event:`` line when named, ``data:`` as JSON (or a raw string)."""
        if not self._streaming:
            self.start_sse()
        payload = data if isinstance(data, str) else json.dumps(data)
        frame = (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"
        self.handler.wfile.write(frame.encode())
        self.handler.wfile.flush()


class FakeModelServer:
    """A scripted model server for one API; subclasses implement :meth:`route`."""

    api = "base"

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply()
        self._script: deque[Reply | Callable[[LoggedRequest], Reply]] = deque()
        self._log: list[LoggedRequest] = []
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:  # quiet: the log is self._log
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = LoggedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
                )
                with server._cond:
                    server._log.append(req)
                    server._cond.notify_all()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    server.route(req, Responder(self))
                with server._cond:
                    server._cond.notify_all()

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"fake-{self.api}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- script ----------------------------------------------------------------------------
    def script(self, *replies: Reply | Callable[[LoggedRequest], Reply]) -> None:
        """Queue replies for the next model calls (a callable picks its reply from the request)."""
        with self._cond:
            self._script.extend(replies)

    def clear_script(self) -> None:
        with self._cond:
            self._script.clear()

    def next_reply(self, req: LoggedRequest) -> Reply:
        with self._cond:
            req.model_call = True
            item = self._script.popleft() if self._script else self.default
        return item(req) if callable(item) else item

    # -- log -------------------------------------------------------------------------------
    @property
    def requests(self) -> list[LoggedRequest]:
        with self._cond:
            return list(self._log)

    @property
    def model_calls(self) -> list[LoggedRequest]:
        with self._cond:
            return [r for r in self._log if r.model_call]

    def wait_for(
        self, pred: Callable[[LoggedRequest], bool], *, timeout: float = 30.0, after: int = 0
    ) -> LoggedRequest:
        """The first logged request (from index ``after``) matching ``pred``; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for req in self._log[after:]:
                    if pred(req):
                        return req
                left = deadline - time.monotonic()
                if left <= 0:
                    paths = [f"{r.method} {r.path}" for r in self._log[after:]]
                    raise AssertionError(f"{self.api}: no matching request within {timeout:g}s; got {paths}")
                self._cond.wait(left)

    def wait_for_text(self, needle: str, *, timeout: float = 30.0, after: int = 0) -> LoggedRequest:
        """The first model call whose JSON body holds ``needle`` in one of its strings."""
        return self.wait_for(lambda r: r.model_call and r.text_contains(needle), timeout=timeout, after=after)

    # -- the API ---------------------------------------------------------------------------
    def route(self, req: LoggedRequest, out: Responder) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

"""A scripted Anthropic Messages server on 127.0.0.1 for tests that run the real Claude Code.

Claude Code 2.1.332 (pointed here by ``ANTHROPIC_BASE_URL``) sends every model call as
``POST /v1/messages?beta=true`` with ``"stream": true``; this server answers each with the SSE
events the Messages API streams (``message_start``, ``content_block_start/delta/stop`` for text
and for ``tool_use`` with ``input_json_delta``, ``message_delta`` with usage, ``message_stop``).
It also answers ``/v1/messages/count_tokens`` and any ``GET`` (model listing) harmlessly.
Every request is logged (:attr:`AnthropicFake.requests`), so a test can wait for the one that
carries its text.

Scripting a turn — replies are consumed in order, each by the first request it matches::

    with AnthropicFake() as fake:
        # the next main-loop request whose newest user text holds "shut down" gets a tool call
        fake.reply(tool_use("SendMessage", {"to": "team-lead", "message": {...}}), when=user_says("shut down"))
        fake.reply(text("done"))            # the request after it (the tool result) ends the turn
        env = {"ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": FAKE_KEY}
        ...
        req = fake.wait_for(lambda r: "hello" in r.user_text, timeout=30)

A request no script matches gets :attr:`AnthropicFake.default` (a short text, ``end_turn``), so
the agent goes idle. Side calls (session titles, which carry no tools) never consume a script
unless its ``when`` accepts them (``main_loop`` is the default guard).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAKE_KEY = "sk-ant-api03-crewmux-fake-key-0000000000000000"
"""An API key of the real shape; Claude Code remembers it as approved by its last 20 characters."""

_ids = itertools.count(1)


@dataclass
class Block:
    """One content block of a reply: ``text`` or ``tool_use``."""

    kind: str
    text: str = ""
    name: str = ""
    input: dict[str, Any] = field(default_factory=dict)
    tool_id: str = ""


def text(s: str) -> Block:
    return Block("text", text=s)


def tool_use(name: str, tool_input: dict[str, Any], tool_id: str | None = None) -> Block:
    """A tool call; its id defaults to a fresh ``toolu_fake_N``."""
    return Block("tool_use", name=name, input=tool_input, tool_id=tool_id or f"toolu_fake_{next(_ids)}")


@dataclass
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def tool_names(self) -> list[str]:
        return [str(t.get("name")) for t in self.body.get("tools") or [] if isinstance(t, dict)]

    @property
    def session_id(self) -> str:
        return self.headers.get("x-claude-code-session-id", "")

    @property
    def system_text(self) -> str:
        system = self.body.get("system") or []
        if isinstance(system, str):
            return system
        return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))

    def _texts(self, message: dict[str, Any]) -> list[str]:
        content = message.get("content")
        if isinstance(content, str):
            return [content]
        out: list[str] = []
        for b in content or []:
            if not isinstance(b, dict):
                continue
            if b.get("type") == "text":
                out.append(str(b.get("text", "")))
            elif b.get("type") == "tool_result":
                inner = b.get("content")
                out.extend([inner] if isinstance(inner, str) else self._texts({"content": inner}))
        return out

    @property
    def user_text(self) -> str:
        """The text of the newest user message (text blocks and tool results)."""
        for message in reversed(self.body.get("messages") or []):
            if message.get("role") == "user":
                return "\n".join(self._texts(message))
        return ""

    @property
    def all_text(self) -> str:
        """Every message's text, oldest first (the whole conversation as the model sees it)."""
        return "\n".join(t for m in self.body.get("messages") or [] for t in self._texts(m))

    def tool_results(self) -> list[dict[str, Any]]:
        """The ``tool_result`` blocks of the newest user message."""
        for message in reversed(self.body.get("messages") or []):
            if message.get("role") == "user" and isinstance(message.get("content"), list):
                return [b for b in message["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
        return []


Matcher = Callable[[LoggedRequest], bool]


def main_loop(req: LoggedRequest) -> bool:
    """A request of the agent's own loop (it offers tools), not a side call such as a title."""
    return req.path.startswith("/v1/messages") and bool(req.body.get("tools"))


def user_says(fragment: str) -> Matcher:
    """A main-loop request whose newest user message holds ``fragment``."""
    return lambda r: main_loop(r) and fragment in r.user_text


def answers_tool(name: str) -> Matcher:
    """A main-loop request that carries the result of the model's last call to tool ``name``."""

    def match(r: LoggedRequest) -> bool:
        messages = r.body.get("messages") or []
        if not main_loop(r) or len(messages) < 2 or not r.tool_results():
            return False
        called = {
            b.get("id")
            for m in messages
            if m.get("role") == "assistant" and isinstance(m.get("content"), list)
            for b in m["content"]
            if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") == name
        }
        return any(t.get("tool_use_id") in called for t in r.tool_results())

    return match


def in_conversation(fragment: str) -> Matcher:
    """A main-loop request whose conversation holds ``fragment`` anywhere."""
    return lambda r: main_loop(r) and fragment in r.all_text


@dataclass
class _Script:
    make: Callable[[LoggedRequest], list[Block]]
    when: Matcher
    used: bool = False


def sse_events(blocks: list[Block], model: str) -> bytes:
    """The SSE stream the Messages API sends for a reply made of ``blocks``."""
    out: list[str] = []

    def event(kind: str, data: dict[str, Any]) -> None:
        out.append(f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n")

    usage = {"input_tokens": 12, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    message = {"id": f"msg_fake_{next(_ids)}", "type": "message", "role": "assistant", "model": model}
    event("message_start", {"message": {**message, "content": [], "stop_reason": None, "usage": usage}})
    for index, b in enumerate(blocks):
        if b.kind == "text":
            event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": b.text}})
        else:
            start = {"type": "tool_use", "id": b.tool_id, "name": b.name, "input": {}}
            event("content_block_start", {"index": index, "content_block": start})
            raw = json.dumps(b.input)
            half = len(raw) // 2  # two deltas, as the real stream splits partial JSON
            for part in (raw[:half], raw[half:]):
                delta = {"type": "input_json_delta", "partial_json": part}
                event("content_block_delta", {"index": index, "delta": delta})
        event("content_block_stop", {"index": index})
    stop = "tool_use" if any(b.kind == "tool_use" for b in blocks) else "end_turn"
    event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 7}})
    event("message_stop", {})
    return "".join(out).encode()


class AnthropicFake:
    """The server; a context manager (``url`` is valid inside it)."""

    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self.default: list[Block] = [text("OK.")]
        self._scripts: list[_Script] = []
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------------------------
    def reply(self, *blocks: Block, when: Matcher = main_loop) -> None:
        """Answer the first later request that ``when`` accepts with ``blocks`` (once)."""
        chosen = list(blocks)
        self.respond(lambda _req: chosen, when=when)

    def respond(self, make: Callable[[LoggedRequest], list[Block]], when: Matcher = main_loop) -> None:
        """Like :meth:`reply`, with the blocks built from the request (e.g. echoing an id it carries)."""
        with self._cond:
            self._scripts.append(_Script(make, when))

    def pending(self) -> int:
        """Scripted replies not yet used."""
        with self._cond:
            return sum(1 for s in self._scripts if not s.used)

    def _choose(self, req: LoggedRequest) -> list[Block]:
        with self._cond:
            self.requests.append(req)
            chosen = self.default
            for s in self._scripts:
                if not s.used and s.when(req):
                    s.used = True
                    chosen = s.make(req)
                    break
            self._cond.notify_all()
            return chosen

    # -- waiting -----------------------------------------------------------------------------
    def wait_for(self, predicate: Matcher, timeout: float = 30.0) -> LoggedRequest:
        """The first logged request ``predicate`` accepts; AssertionError naming what came at the deadline."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.requests:
                    if predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(r.path, r.user_text[-120:]) for r in self.requests]
                    raise AssertionError(f"no matching request within {timeout}s; saw {seen}")
                self._cond.wait(left)

    # -- server ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "use the fake as a context manager"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> AnthropicFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                return

            def _send(self, status: int, ctype: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", f"req_fake_{next(_ids)}")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                fake._choose(LoggedRequest("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, {}))
                self._send(200, "application/json", b'{"data": [], "has_more": false}')

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(size) if size else b"{}"
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                req = LoggedRequest("POST", self.path, headers, body if isinstance(body, dict) else {"_raw": body})
                if "count_tokens" in self.path:
                    fake._choose(req)
                    self._send(200, "application/json", b'{"input_tokens": 12}')
                    return
                if not self.path.startswith("/v1/messages"):
                    fake._choose(req)
                    self._send(404, "application/json", b'{"type": "error", "error": {"type": "not_found_error"}}')
                    return
                blocks = fake._choose(req)
                model = str(req.body.get("model", "claude-fake"))
                if req.body.get("stream"):
                    self._send(200, "text/event-stream", sse_events(blocks, model))
                    return
                content = [
                    {"type": "text", "text": b.text}
                    if b.kind == "text"
                    else {"type": "tool_use", "id": b.tool_id, "name": b.name, "input": b.input}
                    for b in blocks
                ]
                stop = "tool_use" if any(b.kind == "tool_use" for b in blocks) else "end_turn"
                doc = {
                    "id": f"msg_fake_{next(_ids)}",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": content,
                    "stop_reason": stop,
                    "usage": {"input_tokens": 12, "output_tokens": 7},
                }
                self._send(200, "application/json", json.dumps(doc).encode())

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="anthropic-fake", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

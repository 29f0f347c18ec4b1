"""Anthropic Messages API (``POST /v1/messages?beta=true``, always streamed): what Claude Code talks.

Claude Code 2.1.332 (pointed here by ``ANTHROPIC_BASE_URL`` + ``ANTHROPIC_API_KEY``) sends every
model call as ``POST /v1/messages?beta=true`` with ``"stream": true`` and headers
``anthropic-version: 2023-06-01``, ``anthropic-beta: claude-code-20250219,…``, ``x-api-key``,
``x-app: cli``, ``X-Claude-Code-Session-Id: <session uuid>``. Each answer is the SSE stream of the
Messages API: ``message_start``, ``content_block_start/delta/stop`` for ``text`` (``text_delta``)
and for ``tool_use`` (``input_json_delta`` in pieces), ``message_delta`` (``stop_reason``, usage),
``message_stop``. Besides the agent's own turns it makes side calls without tools (a session
title); those are answered with the default text and never consume a script.
``/v1/messages/count_tokens`` and any ``GET`` (model listing) are answered harmlessly.

Scripting — on top of the shared base's FIFO ``server.script(Reply(...))`` (main-loop calls
only), a reply can wait for the request it belongs to::

    with AnthropicServer() as fake:
        # the first main-loop request whose newest user text holds "PING" gets a tool call
        fake.reply(tool_use("ToolSearch", {"query": "select:SendMessage"}), when=user_says("PING"))
        # the request carrying that tool's result gets the next one
        fake.reply(tool_use("SendMessage", {"to": "team-lead", "message": "PONG"}), when=answers_tool("ToolSearch"))
        fake.respond(lambda req: [text(f"saw {len(user_text(req))} chars")], when=user_says("count"))
        fake.wait_for(user_says("PING"), timeout=60)

Claude Code 2.1.332 defers ``SendMessage`` and the task tools behind ``ToolSearch``: the model
must fetch a tool (``select:NAME``) before calling it, so script both steps.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakemodels.base import FakeModelServer, LoggedRequest, Reply, Responder, new_id

FAKE_KEY = "sk-ant-api03-crewmux-fake-key-0000000000000000"
"""An API key of the real shape; Claude Code remembers it as approved by its last 20 characters."""


@dataclass
class Block:
    """One content block of a reply: ``text`` or ``tool_use``."""

    kind: str
    text: str = ""
    name: str = ""
    input: dict[str, Any] = field(default_factory=dict)
    tool_id: str = field(default_factory=lambda: new_id("toolu"))


def text(s: str) -> Block:
    return Block("text", text=s)


def tool_use(name: str, tool_input: dict[str, Any]) -> Block:
    return Block("tool_use", name=name, input=tool_input)


# -- reading a request ------------------------------------------------------------------------
def body(req: LoggedRequest) -> dict[str, Any]:
    doc = req.json
    return doc if isinstance(doc, dict) else {}


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    for b in content or []:
        if not isinstance(b, dict):
            continue
        if b.get("type") == "text":
            out.append(str(b.get("text", "")))
        elif b.get("type") == "tool_result":
            out.extend(_texts(b.get("content")))
    return out


def user_text(req: LoggedRequest) -> str:
    """The text of the newest user message (text blocks and tool results)."""
    for message in reversed(body(req).get("messages") or []):
        if message.get("role") == "user":
            return "\n".join(_texts(message.get("content")))
    return ""


def all_text(req: LoggedRequest) -> str:
    """Every message's text, oldest first: the conversation as the model sees it."""
    return "\n".join(t for m in body(req).get("messages") or [] for t in _texts(m.get("content")))


def tool_names(req: LoggedRequest) -> list[str]:
    return [str(t.get("name")) for t in body(req).get("tools") or [] if isinstance(t, dict)]


def tool_results(req: LoggedRequest) -> list[dict[str, Any]]:
    """The ``tool_result`` blocks of the newest user message."""
    for message in reversed(body(req).get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return (
                [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
                if isinstance(content, list)
                else []
            )
    return []


# -- matchers ---------------------------------------------------------------------------------
Matcher = Callable[[LoggedRequest], bool]


def main_loop(req: LoggedRequest) -> bool:
    """A call of the agent's own loop (it offers tools), not a side call such as a session title."""
    return req.method == "POST" and req.path.startswith("/v1/messages?") and bool(body(req).get("tools"))


def user_says(fragment: str) -> Matcher:
    """A main-loop call whose newest user message holds ``fragment``."""
    return lambda r: main_loop(r) and fragment in user_text(r)


def in_conversation(fragment: str) -> Matcher:
    """A main-loop call whose conversation holds ``fragment`` anywhere."""
    return lambda r: main_loop(r) and fragment in all_text(r)


def answers_tool(name: str) -> Matcher:
    """A main-loop call carrying the result of a call the model made to tool ``name``."""

    def match(r: LoggedRequest) -> bool:
        results = tool_results(r)
        if not main_loop(r) or not results:
            return False
        called = {
            b.get("id")
            for m in body(r).get("messages") or []
            if m.get("role") == "assistant" and isinstance(m.get("content"), list)
            for b in m["content"]
            if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") == name
        }
        return any(t.get("tool_use_id") in called for t in results)

    return match


# -- the stream -------------------------------------------------------------------------------
def stream(out: Responder, blocks: list[Block], model: str, output_tokens: int = 7) -> None:
    """Send ``blocks`` as the Messages API's SSE events (``output_tokens`` reported in the usage)."""

    def event(kind: str, data: dict[str, Any]) -> None:
        out.sse({"type": kind, **data}, event=kind)

    usage = {"input_tokens": 12, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    message = {"id": new_id("msg"), "type": "message", "role": "assistant", "model": model, "content": []}
    event("message_start", {"message": {**message, "stop_reason": None, "stop_sequence": None, "usage": usage}})
    for index, b in enumerate(blocks):
        if b.kind == "text":
            event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": b.text}})
        else:
            start = {"type": "tool_use", "id": b.tool_id, "name": b.name, "input": {}}
            event("content_block_start", {"index": index, "content_block": start})
            raw = json.dumps(b.input)
            half = len(raw) // 2  # partial JSON in two pieces, as the real stream splits it
            for part in (raw[:half], raw[half:]):
                delta = {"type": "input_json_delta", "partial_json": part}
                event("content_block_delta", {"index": index, "delta": delta})
        event("content_block_stop", {"index": index})
    stop = "tool_use" if any(b.kind == "tool_use" for b in blocks) else "end_turn"
    end: dict[str, Any] = {"stop_reason": stop, "stop_sequence": None}
    event("message_delta", {"delta": end, "usage": {"output_tokens": output_tokens}})
    event("message_stop", {})


def blocks_of(reply: Reply) -> list[Block]:
    """A shared-base :class:`Reply` as content blocks."""
    out = [text(reply.text)] if reply.text else []
    return out + [Block("tool_use", name=c.name, input=c.arguments, tool_id=c.call_id) for c in reply.tool_calls]


@dataclass
class _Rule:
    make: Callable[[LoggedRequest], list[Block]]
    when: Matcher
    used: bool = False


class AnthropicServer(FakeModelServer):
    """The fake Messages API; see the module docstring."""

    api = "anthropic"

    def __init__(self, default: Reply | None = None) -> None:
        super().__init__(default or Reply(text="OK."))
        self.output_tokens = 7
        """The ``output_tokens`` each streamed main-loop answer reports (a test may raise it)."""
        self._rules: list[_Rule] = []
        self._rules_lock = threading.Lock()

    def reply(self, *blocks: Block, when: Matcher = main_loop) -> None:
        """Answer the first later call ``when`` accepts with ``blocks`` (once)."""
        chosen = list(blocks)
        self.respond(lambda _req: chosen, when=when)

    def respond(self, make: Callable[[LoggedRequest], list[Block]], when: Matcher = main_loop) -> None:
        """Like :meth:`reply`, with the blocks built from the request (e.g. echoing an id it shows)."""
        with self._rules_lock:
            self._rules.append(_Rule(make, when))

    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._rules_lock:
            return sum(1 for r in self._rules if not r.used)

    def _ruled(self, req: LoggedRequest) -> list[Block] | None:
        with self._rules_lock:
            rule = next((r for r in self._rules if not r.used and r.when(req)), None)
            if rule is not None:
                rule.used = True
        return rule.make(req) if rule is not None else None

    def route(self, req: LoggedRequest, out: Responder) -> None:
        if req.method != "POST":
            out.json({"data": [], "has_more": False, "first_id": None, "last_id": None})
            return
        if req.path.startswith("/v1/messages/count_tokens"):
            out.json({"input_tokens": 12})
            return
        if not req.path.startswith("/v1/messages"):
            out.json({"type": "error", "error": {"type": "not_found_error", "message": req.path}}, status=404)
            return
        blocks = self._ruled(req)
        if blocks is None:
            reply = self.next_reply(req) if main_loop(req) else self.default
            if reply.delay:
                time.sleep(reply.delay)
            reply.wait_if_held()  # a held reply keeps the agent busy until the test releases it
            blocks = blocks_of(reply)
        else:
            req.model_call = True
        model = str(body(req).get("model", "claude-fake"))
        if body(req).get("stream"):
            stream(out, blocks, model, self.output_tokens if main_loop(req) else 7)
            return
        content = [
            {"type": "text", "text": b.text}
            if b.kind == "text"
            else {"type": "tool_use", "id": b.tool_id, "name": b.name, "input": b.input}
            for b in blocks
        ]
        stop = "tool_use" if any(b.kind == "tool_use" for b in blocks) else "end_turn"
        out.json(
            {"id": new_id("msg"), "type": "message", "role": "assistant", "model": model, "content": content,
             "stop_reason": stop, "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 7}}
        )  # fmt: skip

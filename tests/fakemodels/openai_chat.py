"""OpenAI chat completions (``POST …/chat/completions``, streamed or not): what aider talks (via litellm).

Streamed replies are ``chat.completion.chunk`` events (a role delta, content deltas, tool-call
deltas, a finish chunk with usage) closed by ``data: [DONE]``.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from tests.fakemodels.base import FakeModelServer, new_id

if TYPE_CHECKING:
    from tests.fakemodels.base import LoggedRequest, Reply, Responder


def user_texts(req: LoggedRequest) -> list[str]:
    """The text of every user message in a chat-completions request, in order."""
    doc = req.json if isinstance(req.json, dict) else {}
    texts: list[str] = []
    for msg in doc.get("messages") or []:
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, str):
                texts.append(content)
            for part in content if isinstance(content, list) else []:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts


class ChatCompletionsServer(FakeModelServer):
    api = "openai-chat"

    def route(self, req: LoggedRequest, out: Responder) -> None:
        path = req.path.split("?")[0]
        if req.method == "GET" and path.endswith("/models"):
            out.json({"object": "list", "data": [{"id": "gpt-4o", "object": "model", "owned_by": "fake"}]})
        elif req.method == "POST" and path.endswith("/chat/completions"):
            doc = req.json if isinstance(req.json, dict) else {}
            reply = self.next_reply(req)
            if reply.delay:
                time.sleep(reply.delay)
            if doc.get("stream"):
                self._stream(reply, str(doc.get("model", "gpt-4o")), out)
            else:
                reply.wait_if_held()
                out.json(self._whole(reply, str(doc.get("model", "gpt-4o"))))
        else:
            out.json({"error": {"message": f"fake server: no route {req.method} {path}"}}, status=404)

    @staticmethod
    def _usage(reply: Reply) -> dict[str, int]:
        u = reply.usage
        return {"prompt_tokens": u.input_tokens, "completion_tokens": u.output_tokens, "total_tokens": u.total}

    @staticmethod
    def _calls(reply: Reply) -> list[dict[str, Any]]:
        return [
            {
                "index": i,
                "id": c.call_id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for i, c in enumerate(reply.tool_calls)
        ]

    def _whole(self, reply: Reply, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = self._calls(reply)
        finish = "tool_calls" if reply.tool_calls else "stop"
        return {
            "id": new_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self._usage(reply),
        }

    def _stream(self, reply: Reply, model: str, out: Responder) -> None:
        cid, created = new_id("chatcmpl"), int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None, usage: bool = False) -> dict[str, Any]:
            doc: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage:
                doc["usage"] = self._usage(reply)
            return doc

        out.sse(chunk({"role": "assistant", "content": ""}))
        reply.wait_if_held()
        for piece in reply.text_chunks():
            out.sse(chunk({"content": piece}))
        if reply.tool_calls:
            out.sse(chunk({"tool_calls": self._calls(reply)}))
        out.sse(chunk({}, "tool_calls" if reply.tool_calls else "stop", usage=True))
        out.sse("[DONE]")

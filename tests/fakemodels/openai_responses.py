"""OpenAI Responses API (``POST …/responses``, streamed as server-sent events): what codex talks.

A reply is streamed as ``response.created``, then per output item ``response.output_item.added``,
text deltas, ``response.output_item.done``, and ``response.completed`` with usage. Tool calls are
``function_call`` items (``name``, JSON ``arguments`` string, ``call_id``); the CLI runs the tool
and sends its output back in the next request as a ``function_call_output`` input item.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tests.fakemodels.base import FakeModelServer, Reply, new_id, value_from_schema

if TYPE_CHECKING:
    from tests.fakemodels.base import LoggedRequest, Responder

MODELS = ["gpt-5-codex", "gpt-5.1-codex", "gpt-5"]


def user_texts(req: LoggedRequest) -> list[str]:
    """The text of every user message in a Responses request's ``input``, in order."""
    doc = req.json if isinstance(req.json, dict) else {}
    texts: list[str] = []
    for item in doc.get("input") or []:
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                texts.append(content)
            for part in content if isinstance(content, list) else []:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts


def function_outputs(req: LoggedRequest) -> list[dict[str, Any]]:
    doc = req.json if isinstance(req.json, dict) else {}
    return [i for i in doc.get("input") or [] if isinstance(i, dict) and i.get("type") == "function_call_output"]


def is_side_call(req: LoggedRequest) -> bool:
    """A structured-output call the CLI makes for itself (codex: the session title), not a turn."""
    doc = req.json if isinstance(req.json, dict) else {}
    fmt = (doc.get("text") or {}).get("format") if isinstance(doc.get("text"), dict) else None
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


class ResponsesServer(FakeModelServer):
    api = "openai-responses"

    def route(self, req: LoggedRequest, out: Responder) -> None:
        path = req.path.split("?")[0]
        if req.method == "GET" and path.endswith("/models"):
            out.json({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "fake"} for m in MODELS]})
            return
        if req.method == "POST" and path.endswith("/responses") and is_side_call(req):
            schema = (req.json["text"].get("format") or {}).get("schema") or {}
            answer = value_from_schema(schema, {"title": "Fake task title"})
            self._stream(Reply(text=json.dumps(answer), chunks=1), req, out)
            return
        if req.method == "POST" and path.endswith("/responses"):
            self._stream(self.next_reply(req), req, out)
            return
        out.json({"error": {"message": f"fake server: no route {req.method} {path}"}}, status=404)

    def _stream(self, reply: Reply, req: LoggedRequest, out: Responder) -> None:
        import time

        if reply.delay:
            time.sleep(reply.delay)
        model = (req.json or {}).get("model", MODELS[0]) if isinstance(req.json, dict) else MODELS[0]
        rid = new_id("resp")
        seq = iter(range(1, 10_000))
        base: dict[str, object] = {
            "id": rid,
            "object": "response",
            "model": model,
            "status": "in_progress",
            "output": [],
        }
        out.sse({"type": "response.created", "sequence_number": 0, "response": base}, "response.created")
        reply.wait_if_held()
        index = 0
        items: list[dict[str, Any]] = []
        if reply.text:
            mid = new_id("msg")
            item: dict[str, Any] = {
                "type": "message",
                "id": mid,
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            }
            out.sse(
                {
                    "type": "response.output_item.added",
                    "sequence_number": next(seq),
                    "output_index": index,
                    "item": item,
                },
                "response.output_item.added",
            )
            for piece in reply.text_chunks():
                out.sse(
                    {
                        "type": "response.output_text.delta",
                        "sequence_number": next(seq),
                        "item_id": mid,
                        "output_index": index,
                        "content_index": 0,
                        "delta": piece,
                    },
                    "response.output_text.delta",
                )
            done = {
                **item,
                "status": "completed",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
            }
            out.sse(
                {
                    "type": "response.output_item.done",
                    "sequence_number": next(seq),
                    "output_index": index,
                    "item": done,
                },
                "response.output_item.done",
            )
            items.append(done)
            index += 1
        for call in reply.tool_calls:
            fc = {
                "type": "function_call",
                "id": new_id("fc"),
                "call_id": call.call_id,
                "name": call.name,
                "arguments": json.dumps(call.arguments),
                "status": "completed",
            }
            if call.namespace:
                fc["namespace"] = call.namespace
            out.sse(
                {
                    "type": "response.output_item.added",
                    "sequence_number": next(seq),
                    "output_index": index,
                    "item": {**fc, "arguments": "", "status": "in_progress"},
                },
                "response.output_item.added",
            )
            out.sse(
                {"type": "response.output_item.done", "sequence_number": next(seq), "output_index": index, "item": fc},
                "response.output_item.done",
            )
            items.append(fc)
            index += 1
        usage = {
            "input_tokens": reply.usage.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": reply.usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": reply.usage.total,
        }
        final = {**base, "status": "completed", "output": items, "usage": usage}
        out.sse({"type": "response.completed", "sequence_number": next(seq), "response": final}, "response.completed")

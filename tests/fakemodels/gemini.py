"""Gemini API (``…/models/M:streamGenerateContent?alt=sse`` and ``…:generateContent``): what gemini talks.

Chat turns are streamed: each SSE ``data:`` is a ``GenerateContentResponse`` with candidates whose
``parts`` hold text pieces or ``functionCall`` {name, args}; the last carries ``finishReason`` and
``usageMetadata``. The CLI also makes JSON side calls through ``generateContent`` (the model
router, the next-speaker check, …) asking for ``responseMimeType: application/json`` with a
schema: those are answered from the schema (enum members first, "user" / "flash" where they fit)
and never consume the test's script. ``countTokens`` and model lists are answered too.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tests.fakemodels.base import FakeModelServer, value_from_schema

if TYPE_CHECKING:
    from tests.fakemodels.base import LoggedRequest, Reply, Responder

SIDE_VALUES = {"next_speaker": "user", "model_choice": "flash", "reasoning": "fake server: simple request"}


def user_texts(req: LoggedRequest) -> list[str]:
    """The text parts of every user turn in a Gemini request's ``contents``, in order."""
    doc = req.json if isinstance(req.json, dict) else {}
    texts: list[str] = []
    for turn in doc.get("contents") or []:
        if isinstance(turn, dict) and turn.get("role") == "user":
            texts += [
                p["text"] for p in turn.get("parts") or [] if isinstance(p, dict) and isinstance(p.get("text"), str)
            ]
    return texts


def is_side_call(req: LoggedRequest) -> bool:
    """A JSON-mode call the CLI makes for itself (router, next speaker), not a chat turn."""
    doc = req.json if isinstance(req.json, dict) else {}
    config = doc.get("generationConfig") or doc.get("config") or {}
    return ":generateContent" in req.path and config.get("responseMimeType") == "application/json"


class GeminiServer(FakeModelServer):
    api = "gemini"

    def route(self, req: LoggedRequest, out: Responder) -> None:
        path = req.path.split("?")[0]
        if path.endswith(":countTokens"):
            out.json({"totalTokens": max(1, len(req.body) // 4)})
        elif is_side_call(req):
            doc = req.json if isinstance(req.json, dict) else {}
            config = doc.get("generationConfig") or {}
            schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
            import json

            answer = json.dumps(value_from_schema(schema, SIDE_VALUES) or {"next_speaker": "user"})
            out.json(self._response([{"text": answer}], "STOP", 5, 5))
        elif path.endswith(":streamGenerateContent"):
            self._stream(self.next_reply(req), out)
        elif path.endswith(":generateContent"):
            reply = self.next_reply(req)
            reply.wait_if_held()
            out.json(self._response(self._parts(reply), "STOP", reply.usage.input_tokens, reply.usage.output_tokens))
        elif req.method == "GET" and "/models" in path:
            out.json({"models": [{"name": "models/gemini-2.5-flash"}, {"name": "models/gemini-2.5-pro"}]})
        else:
            out.json({"error": {"code": 404, "message": f"fake server: no route {req.method} {path}"}}, status=404)

    @staticmethod
    def _parts(reply: Reply) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = [{"text": reply.text}] if reply.text else []
        return parts + [
            {"functionCall": {"name": c.name, "args": c.arguments, "id": c.call_id}} for c in reply.tool_calls
        ]

    @staticmethod
    def _response(parts: list[dict[str, Any]], finish: str | None, prompt: int, output: int) -> dict[str, Any]:
        cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            cand["finishReason"] = finish
        usage = {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output}
        return {"candidates": [cand], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash"}

    def _stream(self, reply: Reply, out: Responder) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        out.start_sse()
        chunks = reply.text_chunks() or [""]
        first, rest = chunks[0], chunks[1:]
        u = reply.usage
        out.sse(self._response([{"text": first}] if first else [], None, u.input_tokens, 0))
        reply.wait_if_held()
        for piece in rest:
            out.sse(self._response([{"text": piece}], None, u.input_tokens, 0))
        calls = [{"functionCall": {"name": c.name, "args": c.arguments, "id": c.call_id}} for c in reply.tool_calls]
        out.sse(self._response(calls, "STOP", u.input_tokens, u.output_tokens))

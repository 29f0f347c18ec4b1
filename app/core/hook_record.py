"""The recorder an agent CLI's own hooks run on every event: as cheap as a Python process can be.

gemini runs its settings hooks (``BeforeAgent``, ``AfterAgent``, ``Notification``) synchronously:
the agent waits for the hook process before it goes on, so its cost is added to every turn. This
module therefore imports only the standard library and :mod:`app.core.atomic` (which loads no
pydantic), and is started as ``python -I -S -c <BOOT> STATUS_FILE EVENT [--stdin] [PAYLOAD]``
(:func:`command`): no site-packages scan, no ``crewmux`` CLI, no team file — spawn computed the
status file's path already. Its imports are ``os``, ``sys``, ``time`` and
:mod:`app.core.atomic_file` (``json`` only when there is JSON to read or a detail to write). It
writes one small JSON document with one atomic write (no fsync: a state report is worth nothing
after a crash), prints nothing and always exits 0 (Claude Code takes exit 2 as "block", gemini
parses stdout).

``--stdin``: the CLI passes a JSON document on stdin (gemini and Claude Code hooks), read only for
the events whose meaning or detail is in it (:data:`READS_PAYLOAD`): a ``Notification``'s
``notification_type`` decides what it means, its ``message`` (and gemini's command) is kept as
the detail. Other events never read stdin (aider runs its notifications command on its terminal).
"""

from __future__ import annotations

import os
import sys
import time

from app.core.atomic_file import replace_file

TYPE_CHECKING = False  # not typing's: importing typing loads re, a tenth of this process's start
if TYPE_CHECKING:
    from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READS_PAYLOAD = frozenset({"Notification", "PermissionRequest", "UserPromptSubmit", "Stop"})
"""Events whose JSON the recorder reads (the others' state is their name): a Notification's and a
permission request's meaning or detail, and at a turn's start and end the ``session_id`` the CLI
names its conversation by (codex: its thread id, which binds a teammate to its own session file)."""

STATES = ("busy", "waiting", "permission")
EVENTS: dict[str, str] = {
    # crewmux's own names (``crewmux hook-event EVENT``)
    "idle": "waiting",
    "turn-complete": "waiting",
    "busy": "busy",
    "prompt": "busy",
    "permission": "permission",
    # codex notify (its JSON's "type")
    "agent-turn-complete": "waiting",
    "approval-requested": "permission",
    # Claude Code 2.1.332 hooks (``--settings``)
    "UserPromptSubmit": "busy",
    "PreToolUse": "busy",
    "PostToolUse": "busy",
    "Stop": "waiting",
    "PermissionRequest": "permission",
    # gemini 0.61 settings hooks
    "BeforeAgent": "busy",
    "AfterAgent": "waiting",
    # a Notification's meaning comes from its notification_type (see NOTIFICATIONS)
    "Notification": "permission",
    # legacy spellings
    "stop": "waiting",
    "user-prompt-submit": "busy",
    "permission-request": "permission",
}
NOTIFICATIONS: dict[str, str] = {
    "ToolPermission": "permission",  # gemini 0.61
    "permission_prompt": "permission",  # Claude Code
    "idle_prompt": "waiting",  # Claude Code: waiting for the user's input
}
"""A Notification's ``notification_type`` -> state; any other type records nothing."""

BOOT = "import sys;sys.path[:0]=[sys.argv.pop(1)];from app.core.hook_record import main;main()"


def command(python: str, status_file: Path | str, event: str, *, stdin: bool = False) -> list[str]:
    """The argv an agent's hook runs to record ``event`` into ``status_file`` (``stdin``: the CLI
    passes its JSON there, read for :data:`READS_PAYLOAD` events only)."""
    reads = ["--stdin"] if stdin and event in READS_PAYLOAD else []
    return [python, "-I", "-S", "-c", BOOT, ROOT, str(status_file), event, *reads]


def state_for(event: str, payload: dict[str, object] | None) -> tuple[str, str | None] | None:
    """``(state, detail)`` for ``event`` with the CLI's JSON ``payload``; None: nothing to record."""
    state = EVENTS.get(event)
    if state is None:
        return None
    detail = None
    if payload is not None:
        if event == "Notification":
            state = NOTIFICATIONS.get(str(payload.get("notification_type")))
            if state is None:
                return None
        message = payload.get("message")
        if isinstance(message, str) and message:
            detail = message[:500]
            what = payload.get("details")  # gemini: the tool's confirmation details
            if isinstance(what, dict):
                shown = what.get("command") or what.get("filePath") or what.get("toolName")
                detail += f": {str(shown)[:400]}" if shown else ""
        elif event == "PermissionRequest" and payload.get("tool_name"):
            import json  # loaded already: the payload was JSON

            detail = f"{payload.get('tool_name')}: {json.dumps(payload.get('tool_input'))[:400]}"
    return state, detail


def session_of(payload: dict[str, object] | None) -> str | None:
    """The conversation id a hook's JSON names (``session_id``; codex notify's ``thread-id``)."""
    if payload is None:
        return None
    sid = payload.get("session_id") or payload.get("thread-id")
    return sid[:200] if isinstance(sid, str) and sid else None


def write(
    status_file: Path | str,
    event: str,
    state: str,
    detail: str | None,
    *,
    at: float | None = None,
    session: str | None = None,
) -> dict[str, object]:
    """Replace the status file with one report (one atomic write, no fsync); returns the document."""
    doc: dict[str, object] = {"state": state, "event": event, "at": time.time() if at is None else at}
    if detail:
        doc["detail"] = detail
    if session:
        doc["session"] = session
    if detail or session or not (event.isascii() and event.replace("-", "").isalnum() and state.isalpha()):
        import json

        text = json.dumps(doc)
    else:  # names from EVENTS: nothing to escape, and no json import
        text = f'{{"state": "{state}", "event": "{event}", "at": {doc["at"]!r}}}'
    try:
        replace_file(status_file, text.encode(), fsync=False)
    except FileNotFoundError:  # spawn makes the folder; should it be gone, make it (0700) and write once more
        os.makedirs(os.path.dirname(os.fspath(status_file)), mode=0o700, exist_ok=True)
        replace_file(status_file, text.encode(), fsync=False)
    return doc


def _payload(argv: list[str]) -> dict[str, object] | None:
    """The CLI's JSON: from stdin with ``--stdin``, else the last argument when it is a JSON object (codex notify)."""
    raw = sys.stdin.read() if "--stdin" in argv else (argv[-1] if argv and argv[-1].lstrip().startswith("{") else "")
    if not raw:
        return None
    import json

    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def main(argv: list[str] | None = None) -> None:
    """``STATUS_FILE EVENT [--stdin | PAYLOAD]``: record and exit 0 whatever happens."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        status_file, event, rest = args[0], args[1], args[2:]
        payload = _payload(rest)
        if event.lstrip().startswith("{"):  # codex notify puts its JSON where the event goes
            payload, event = _payload([event]), ""
        if payload is not None and event in ("", "notify"):
            event = str(payload.get("type") or payload.get("hook_event_name") or "")
        found = state_for(event, payload)
        if found is not None:
            write(status_file, event, *found, session=session_of(payload))
    except Exception:  # a hook must never fail the agent it reports on
        os._exit(0)
    sys.exit(0)

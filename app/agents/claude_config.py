"""How a Claude Code teammate that crewmux starts finds its team, and the flags Claude Code's lead gives it.

Claude Code 2.1.332 keeps teams and task lists under its config dir only —
``$CLAUDE_CONFIG_DIR`` (else ``~/.claude``) ``/teams/<team>/inboxes/<name>.json`` and
``/tasks/<team>/`` — with no separate setting for the teams dir. A crewmux team lives under
crewmux's root, so a claude teammate gets ``CLAUDE_CONFIG_DIR`` pointing at a config dir crewmux
keeps for it, ``<root>/claude-config``:

* ``teams`` and ``tasks`` are symlinks to the root's own, so both sides see the same files;
* ``.claude.json`` (which Claude Code reads from ``$CLAUDE_CONFIG_DIR`` once that is set) is
  seeded from the user's own (``~/.claude.json``, or ``$CLAUDE_CONFIG_DIR/.claude.json``) so
  onboarding, approved API keys, the account and each project's trust carry over; the user's
  file is only read;
* ``settings.json`` is a symlink to the user's (their env, permissions, apiKeyHelper apply);
* ``CLAUDE_SECURESTORAGE_CONFIG_DIR`` points Claude Code's credential store at the user's dir.

When the root *is* Claude Code's own dir (interop mode on ``~/.claude``) nothing is added:
Claude Code finds the team where it always looks, and ``CLAUDE_CONFIG_DIR`` reaches it only if the
user set it.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, RootModel, ValidationError

from app.core.atomic import atomic_write, ensure_dir, read_bytes
from app.core.errors import BadInput
from app.core.interop import claude_home

CONFIG_DIR_NAME = "claude-config"
SHARED = ("teams", "tasks")
PERMISSION_MODES = ("default", "acceptEdits", "auto", "bypassPermissions", "plan", "dontAsk")
"""The modes ``claude --permission-mode`` accepts (2.1.332 ``--help``)."""


class _AnyJson(RootModel[dict[str, Any]]):
    """A JSON object whose fields belong to Claude Code (kept as they are)."""

    model_config = ConfigDict(cache_strings="keys")


def user_global_config() -> Path:
    """The ``.claude.json`` the user's own ``claude`` reads."""
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(env).expanduser() / ".claude.json" if env else Path.home() / ".claude.json"


def _read_json(path: Path) -> dict[str, Any]:
    raw = read_bytes(path)
    if raw is None:
        return {}
    try:
        return _AnyJson.model_validate_json(raw).root
    except (ValidationError, ValueError):
        return {}  # Claude Code's own file, half-written or odd: never ours to quarantine


def _seeded(user: dict[str, Any], mine: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """``mine`` refreshed from the user's config: every top-level key but ``projects``, plus ``cwd``'s project."""
    out = {**mine, **{k: v for k, v in user.items() if k != "projects"}}
    projects = dict(mine.get("projects") or {})
    theirs = (user.get("projects") or {}).get(str(cwd))
    if isinstance(theirs, dict):
        projects[str(cwd)] = {**(projects.get(str(cwd)) or {}), **theirs}
    out["projects"] = projects
    return out


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    if link.exists() and not link.is_symlink():
        return  # something real is there (Claude Code made it): leave it
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(target)


def prepare_config_dir(home: Path, cwd: Path) -> Path:
    """Create or refresh ``<home>/claude-config`` for a teammate working in ``cwd``; returns it."""
    config = ensure_dir(home / CONFIG_DIR_NAME)
    for name in SHARED:
        _link(config / name, ensure_dir(home / name))
    user_dir = claude_home()
    settings = user_dir / "settings.json"
    if settings.is_file():
        _link(config / "settings.json", settings)
    path = config / ".claude.json"
    mine = _read_json(path)
    wanted = _seeded(_read_json(user_global_config()), mine, cwd.resolve())
    if wanted != mine:
        atomic_write(path, json.dumps(wanted, indent=2))
    return config


def is_claude_root(home: Path) -> bool:
    """True when ``home`` is the dir Claude Code uses by itself ($CLAUDE_CONFIG_DIR or ~/.claude)."""
    return home.resolve() == claude_home()


def teammate_env(home: Path, cwd: Path) -> dict[str, str]:
    """What a claude teammate's environment needs so it works on the team under ``home``."""
    if is_claude_root(home):
        return {}
    env = {"CLAUDE_CONFIG_DIR": str(prepare_config_dir(home, cwd))}
    if "CLAUDE_SECURESTORAGE_CONFIG_DIR" not in os.environ:
        env["CLAUDE_SECURESTORAGE_CONFIG_DIR"] = str(claude_home())
    return env


def permission_args(mode: str, *, plan: bool) -> list[str]:
    """The flags Claude Code's lead gives a teammate for the lead's ``mode`` (as 2.1.332 maps them).

    A teammate that must get its plan approved starts in ``plan``; the lead's own ``plan`` and
    ``dontAsk`` become ``default``; ``bypassPermissions`` is ``--dangerously-skip-permissions``.
    """
    if mode not in PERMISSION_MODES:
        raise BadInput(f"unknown permission mode {mode!r}; one of {', '.join(PERMISSION_MODES)}")
    effective = "plan" if plan else ("default" if mode in ("plan", "dontAsk") else mode)
    if effective == "bypassPermissions":
        return ["--dangerously-skip-permissions"]
    return ["--permission-mode", effective]


def session_uuid(home: Path, team: str, recorded: str | None = None) -> str:
    """The lead session id a teammate gets as ``--parent-session-id``: always a UUID.

    ``$CLAUDE_SESSION_ID`` or the team file's ``leadSessionId`` when either is one; otherwise a
    UUID derived from the team's place, the same for every teammate of the team.
    """
    for candidate in (os.environ.get("CLAUDE_SESSION_ID"), recorded):
        if candidate:
            with contextlib.suppress(ValueError):
                return str(uuid.UUID(candidate))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"crewmux:{home.resolve()}/{team}"))

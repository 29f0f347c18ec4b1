"""``teams/<team>/crewmux.json``: crewmux's own per-team settings, one model for every reader.

Claude Code does not read this file. Its keys (camelCase on disk)::

    {"delegateMode": true,                 # app.core.policy: the lead may only coordinate
     "backend": "tmux",                    # backends.registry: the team's pane backend
     "hooks": {"TeammateIdle": ["./check-idle.sh"],
               "TaskCompleted": [{"command": "make test", "timeout": 120}]}}   # app.core.hooks

Keys crewmux does not know are kept and written back. A file that does not validate is
quarantined (kept beside it as ``crewmux.json.corrupt-*``) and reported; the defaults apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.atomic import atomic_write, read_model
from app.core.locks import file_lock

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.core.paths import TeamPaths

DEFAULT_HOOK_TIMEOUT = 60.0


class HookCommand(BaseModel):
    """One command to run for a hook event."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="allow")
    command: str = Field(description="Shell command, run with sh -c in the teammate's cwd.")
    timeout: float = Field(default=DEFAULT_HOOK_TIMEOUT, gt=0, description="Seconds before it is killed.")


class Budget(BaseModel):
    """A teammate's budget (``crewmux spawn --max-*``, or the team's ``budget`` in crewmux.json)."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="forbid", populate_by_name=True)

    max_tokens: int | None = Field(default=None, alias="maxTokens", gt=0, description="Tokens in + out.")
    max_usd: float | None = Field(default=None, alias="maxUsd", gt=0, description="Cost in USD.")
    max_minutes: float | None = Field(default=None, alias="maxMinutes", gt=0, description="Wall minutes.")


class TeamSettings(BaseModel):
    """The whole of ``crewmux.json``."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="allow", populate_by_name=True)

    delegate_mode: bool = Field(
        default=False, alias="delegateMode", description="True while the lead may only coordinate."
    )
    backend: str | None = Field(
        default=None, description="The team's pane backend (auto, tmux, in-process, iterm2); flag and env win."
    )
    hooks: dict[str, list[Any]] = Field(default_factory=dict, description="Hook event name to commands.")
    permission_mode: str = Field(
        default="default",
        alias="permissionMode",
        description="The lead's Claude Code permission mode, passed to claude teammates as Claude Code's lead does.",
    )

    budget: Budget = Field(default_factory=Budget, description="Default budget of each teammate.")

    def commands(self, event: str) -> list[HookCommand]:
        """The hook commands for ``event``, flattening Claude Code's nested matcher groups."""
        out: list[HookCommand] = []
        for entry in self.hooks.get(event, []):
            if isinstance(entry, str):
                out.append(HookCommand(command=entry))
            elif isinstance(entry, dict) and isinstance(entry.get("hooks"), list):
                out.extend(HookCommand.model_validate(h) for h in entry["hooks"] if isinstance(h, dict))
            elif isinstance(entry, dict):
                out.append(HookCommand.model_validate(entry))
        return out


def read_settings(path: Path) -> TeamSettings:
    """The settings in ``path``; defaults when it is missing (a corrupt one is quarantined and reported)."""
    found = read_model(path, TeamSettings)
    return found if isinstance(found, TeamSettings) else TeamSettings()


def load_settings(paths: TeamPaths) -> TeamSettings:
    """The team's settings (see :func:`read_settings`)."""
    return read_settings(paths.settings)


def update_settings(paths: TeamPaths, change: Callable[[TeamSettings], None]) -> TeamSettings:
    """Apply ``change`` to the team's settings under their lock and write them (only the keys
    that were in the file or were changed); returns them as written. Raises StorageError."""
    with file_lock(paths.settings):
        settings = load_settings(paths)
        change(settings)
        atomic_write(paths.settings, settings.model_dump_json(by_alias=True, exclude_unset=True, indent=2))
        return settings

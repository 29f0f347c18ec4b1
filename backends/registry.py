"""Choosing a pane backend: by name (lazily imported) or by detecting what this terminal offers.

Order of an explicit choice: the ``--backend`` flag, then ``$CREWMUX_BACKEND``, then the team
setting ``backend`` in ``teams/<team>/crewmux.json``. ``auto`` (or nothing) detects: inside tmux
→ tmux; inside iTerm2 with its API reachable → iterm2; tmux installed → tmux (a visible session);
otherwise in-process. An explicit backend that cannot work raises BackendUnavailable naming the fix.
"""

from __future__ import annotations

import importlib
import os
import shutil
from typing import TYPE_CHECKING, Any, cast

from app.core.errors import BadInput
from app.core.settings import read_settings

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from backends.base import PaneBackend

BACKENDS: dict[str, str] = {
    "tmux": "backends.tmux:TmuxBackend",
    "in-process": "backends.inprocess:InProcessBackend",
    "iterm2": "backends.iterm2:ITermBackend",
}
CHOICES = ("auto", *BACKENDS)


def backend_class(name: str) -> type[PaneBackend]:
    """The class registered under ``name`` (imported on first use); BadInput lists valid names."""
    target = BACKENDS.get(name)
    if target is None:
        raise BadInput(f"unknown backend {name!r}; valid backends: {', '.join(CHOICES)}")
    module, _, cls = target.partition(":")
    return cast("type[PaneBackend]", getattr(importlib.import_module(module), cls))


def team_setting(settings: Path | None) -> str | None:
    """The ``backend`` key of a team's ``crewmux.json`` (:mod:`app.core.settings`), when it sets one."""
    return None if settings is None else read_settings(settings).backend


def detect(env: Mapping[str, str] | None = None) -> str:
    """The backend ``auto`` means in this environment."""
    env = os.environ if env is None else env
    if env.get("TMUX") and shutil.which("tmux"):
        return "tmux"
    if env.get("TERM_PROGRAM") == "iTerm.app" or env.get("ITERM_SESSION_ID"):
        from backends.iterm2 import api_reachable

        if api_reachable(env):
            return "iterm2"
    if shutil.which("tmux"):
        return "tmux"
    return "in-process"


def choose(explicit: str | None = None, *, settings: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """The backend name to use: flag, env, team setting, else :func:`detect`.

    Raises BadInput for an unknown name and BackendUnavailable for a chosen one that cannot work.
    """
    env = os.environ if env is None else env
    name = explicit or env.get("CREWMUX_BACKEND") or team_setting(settings) or "auto"
    if name == "auto":
        return detect(env)
    backend_class(name).check_available()
    return name


def load(name: str, **options: Any) -> PaneBackend:
    """An instance of the named backend."""
    return backend_class(name)(**options)

"""Interop mode: crewmux working on a team that Claude Code's Agent Teams also runs.

In interop mode crewmux's root is Claude Code's own (``$CLAUDE_CONFIG_DIR``, else
``~/.claude``) and every lock crewmux takes on a shared file is taken twice:

1. crewmux's kernel lock (:func:`app.core.locks.file_lock`, a sidecar ``.<name>.flock``), so
   crewmux processes still exclude each other even if one dies mid-write; then
2. Claude Code's lock on the same path (:class:`app.core.mkdir_lock.MkdirLock`, a directory
   ``<name>.lock``), so Claude Code is excluded too.

The order is fixed (flock first) so two crewmux processes never race for the mkdir lock.

Claude Code writes its files in place, so a reader that does not hold the lock can catch a
half-written file. :func:`read_shared` tells that apart from real corruption: a file that does
not parse is read again under the lock, and only then quarantined.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.atomic import parse_model, read_bytes, read_model
from app.core.locks import DEFAULT_TIMEOUT, file_lock
from app.core.mkdir_lock import STALE_SECONDS, MkdirLock

if TYPE_CHECKING:
    from collections.abc import Iterator

M = TypeVar("M")

ENV_FLAG = "CREWMUX_CLAUDE"
ROOT_ENV = "CREWMUX_CLAUDE_ROOT"
"""The interop root handed to crewmux's own children (never ``CLAUDE_CONFIG_DIR``: Claude Code
reads its ``.claude.json`` from there once it is set, so only the user may set it)."""
# Claude Code's own inbox is never pruned; crewmux leaves read messages in it (Claude Code's
# readers may still look at them) until it holds this many read ones, then archives those.
INTEROP_COMPACT_READ_AFTER = 200


def claude_home() -> Path:
    """Claude Code's root: ``$CLAUDE_CONFIG_DIR`` if set, else ``~/.claude``."""
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (Path.home() / ".claude").resolve()


def interop_root() -> Path:
    """The root of interop mode: ``$CREWMUX_CLAUDE_ROOT`` (set for crewmux's children), else Claude Code's."""
    env = os.environ.get(ROOT_ENV)
    return Path(env).expanduser().resolve() if env else claude_home()


def export_interop(home: Path) -> None:
    """Make the processes crewmux starts work in interop mode on ``home``."""
    os.environ[ENV_FLAG] = "1"
    os.environ[ROOT_ENV] = str(home)


def interop_from_env() -> bool:
    """True when ``$CREWMUX_CLAUDE`` asks for interop mode (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get(ENV_FLAG, "").strip().lower() in {"1", "true", "yes", "on"}


@contextmanager
def shared_lock(
    path: Path, *, interop: bool, timeout: float = DEFAULT_TIMEOUT, stale: float = STALE_SECONDS
) -> Iterator[None]:
    """Hold crewmux's flock on ``path`` and, in interop mode, Claude Code's mkdir lock after it.

    Raises :class:`app.core.errors.LockTimeout` when either is not had within ``timeout``.
    """
    with file_lock(path, timeout):
        if not interop:
            yield
            return
        with MkdirLock(path, timeout=timeout, stale=stale):
            yield


@contextmanager
def claude_lock(path: Path, *, interop: bool, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Claude Code's mkdir lock alone (interop mode), for a caller already under crewmux's flock.

    Outside interop mode it holds nothing.
    """
    if not interop:
        yield
        return
    with MkdirLock(path, timeout=timeout):
        yield


def read_shared(
    path: Path,
    model: type[BaseModel] | TypeAdapter[M],
    *,
    interop: bool,
    held: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> object | None:
    """Parse ``path`` like :func:`app.core.atomic.read_model`, tolerating Claude Code's in-place writes.

    Returns the parsed model, or None when the file is missing (or found corrupt, which is
    quarantined and reported). In interop mode a file that does not parse without the lock is
    read again under both locks before it is judged corrupt: it may have been caught mid-write;
    an empty file is no file, never quarantined (seen in the lead's inbox under ``crewmux claude``:
    Claude Code 2.1.332 left it empty, or was rewriting it in place).
    ``held`` says the caller already holds those locks (a read-modify-write): read once.
    """
    if not interop:
        return read_model(path, model)
    raw = read_bytes(path)
    if raw is None or not raw.strip():
        return None  # an empty file Claude Code left or is rewriting in place: nothing to read or quarantine
    if held:
        return read_model(path, model)
    try:
        return parse_model(raw, model)
    except (ValidationError, ValueError):
        pass
    with shared_lock(path, interop=True, timeout=timeout):
        return read_model(path, model)

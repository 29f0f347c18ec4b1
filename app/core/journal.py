"""A redo journal for changes that span several files (task edges, deletions).

Before touching any file, the whole set of new contents is written to one journal file with
the crash-safe helper; then each file is written; then the journal is removed. Whoever next
takes the lock replays a journal left behind by a crash, so a change is applied to every file
or to none — ``blocks`` and ``blockedBy`` never end up one-sided. Call under the lock.

A journal found on disk is checked before it is replayed (see :func:`recover`): it may only
rewrite or delete task files (``<id>.json``) in its own folder, with valid tasks.
"""

from __future__ import annotations

import contextlib
import json
import re
import stat
from pathlib import Path

from pydantic import ConfigDict, TypeAdapter, ValidationError

from app.core.atomic import atomic_write, quarantine, read_bytes
from app.core.models import Task

# A path mapped to its new text, or to None to delete it.
Writes = dict[Path, str | None]


def _apply(writes: Writes) -> None:
    for path, text in writes.items():
        if text is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        else:
            atomic_write(path, text)


def commit(journal: Path, writes: Writes) -> None:
    """Apply ``writes`` all-or-nothing (with respect to crashes)."""
    if len(writes) <= 1:
        _apply(writes)
        return
    atomic_write(journal, json.dumps({str(p): t for p, t in writes.items()}))
    _apply(writes)
    journal.unlink()


_SHAPE: TypeAdapter[dict[str, str | None]] = TypeAdapter(dict[str, str | None], config=ConfigDict(cache_strings="keys"))
_TASK_FILE = re.compile(r"^[0-9]{1,18}\.json$")


def _checked(journal: Path, raw: bytes) -> Writes:
    """The writes a journal asks for, once every one is shown to be a task file of this list.

    Raises ValueError naming the first thing wrong: the shape (an object of path → text or
    null), a path that is not ``<id>.json`` directly in the journal's own folder, a target that
    is a symlink or not a regular file, or a text that is not that task.
    """
    try:
        data = _SHAPE.validate_json(raw)
    except ValidationError as exc:
        raise ValueError(f"not an object of path to text or null ({exc.error_count()} errors)") from None
    folder = journal.parent
    writes: Writes = {}
    for key, text in data.items():
        path = Path(key)
        if path.parent != folder or not _TASK_FILE.match(path.name):
            raise ValueError(f"{key!r} is not a task file in {folder}")
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            raise ValueError(f"{key!r} is a symlink or not a regular file")
        if text is not None:
            try:
                task = Task.model_validate_json(text)
            except ValidationError as exc:
                raise ValueError(f"the text for {path.name} is not a task ({exc.error_count()} errors)") from None
            if f"{task.id}.json" != path.name:
                raise ValueError(f"the text for {path.name} is task {task.id!r}")
        writes[path] = text
    return writes


def recover(journal: Path) -> bool:
    """Replay a journal a crash left behind; True when there was one.

    A journal is written atomically by crewmux, so one that does not pass :func:`_checked`
    (planted, or damaged from outside) is never replayed: it is quarantined as
    ``<name>.corrupt-<time>`` and reported, and nothing it names is touched.
    """
    raw = read_bytes(journal)
    if raw is None:
        return False
    try:
        writes = _checked(journal, raw)
    except ValueError as exc:
        quarantine(journal, f"redo journal refused: {exc}")
        return False
    _apply(writes)
    journal.unlink()
    return True

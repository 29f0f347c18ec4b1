"""A redo journal for changes that span several files (task edges, deletions).

Before touching any file, the whole set of new contents is written to one journal file with
the crash-safe helper; then each file is written; then the journal is removed. Whoever next
takes the lock replays a journal left behind by a crash, so a change is applied to every file
or to none — ``blocks`` and ``blockedBy`` never end up one-sided. Call under the lock.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from app.core.atomic import atomic_write, quarantine, read_bytes

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


def recover(journal: Path) -> bool:
    """Replay a journal a crash left behind; True when there was one."""
    raw = read_bytes(journal)
    if raw is None:
        return False
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("journal is not an object")
        writes: Writes = {Path(k): (v if isinstance(v, str) else None) for k, v in data.items()}
    except ValueError as exc:
        # A journal is written atomically, so this is damage from outside: keep it for a human.
        quarantine(journal, str(exc))
        return False
    _apply(writes)
    journal.unlink()
    return True

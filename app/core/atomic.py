"""The one crash-safe write helper, and the one reader that quarantines what it cannot parse.

``atomic_write`` writes a temp file in the target's own directory, fsyncs it, renames it over the
target with ``os.replace`` and fsyncs the directory, so a reader sees the old file or the new
one, never a torn one, and an acknowledged write survives a power cut. Call it under the lock
that guards the file.

``read_model`` parses a file into a pydantic model. A file that does not parse or validate is
never treated as empty: it is renamed to ``<name>.corrupt-<UTC time>`` and reported to the
problem sink, and the caller then sees "no file" and carries on.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core import atomic_file
from app.core.atomic_file import replace_file
from app.core.errors import CorruptFile, StorageError, UnsafeFile

log = logging.getLogger("crewmux")

FILE_MODE = atomic_file.FILE_MODE
DIR_MODE = 0o700

M = TypeVar("M")


def fsync_enabled() -> bool:
    """Writes are fsynced unless ``CREWMUX_FSYNC=0`` (only benchmarks should turn it off)."""
    return os.environ.get("CREWMUX_FSYNC", "1") != "0"


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and every missing parent, each with mode 0700; returns ``path``.

    ``Path.mkdir(parents=True)`` would give the parents the default mode, so each missing
    level is made here one by one. Directories that already exist are left as they are.
    Raises :class:`OSError` when a level cannot be created.
    """
    if path.is_dir():
        return path
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for level in reversed(missing):
        try:
            level.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not level.is_dir():
                raise
    if not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a directory")
    return path


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: Path, flags: int, mode: int = FILE_MODE) -> int:
    """``os.open`` for a file crewmux keeps: never through a symlink (``O_NOFOLLOW``), never
    blocking on a FIFO (``O_NONBLOCK``), and only a regular file. Returns the descriptor.

    Raises :class:`UnsafeFile` for a symlink or anything but a regular file, and OSError
    (FileNotFoundError when absent) for the rest.
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise UnsafeFile(path, "a symlink") from None
        if exc.errno in (errno.ENXIO, errno.EISDIR):  # a FIFO with no reader, a socket; a directory
            raise UnsafeFile(path, _kind(os.lstat(path).st_mode)) from None
        raise
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeFile(path, _kind(st.st_mode))
    return fd


def atomic_write(path: Path, data: bytes | str, *, fsync: bool | None = None) -> None:
    """Replace ``path`` with ``data`` so that no reader or crash ever sees a partial file
    (:func:`app.core.atomic_file.replace_file` in a directory made with mode 0700).

    Raises :class:`StorageError` when anything fails; the target is then untouched and the
    temp file removed.
    """
    do_sync = fsync_enabled() if fsync is None else fsync
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        ensure_dir(path.parent)
        replace_file(path, payload, fsync=do_sync)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc}") from exc


def append_lines(path: Path, lines: Iterable[str], *, fsync: bool | None = None) -> None:
    """Append lines to a log file: O_APPEND, one write of them all, fsynced like ``atomic_write``
    (``fsync=False``: not fsynced, for a log that only speeds an answer up)."""
    data = b"".join((line.rstrip("\n") + "\n").encode("utf-8") for line in lines)
    if not data:
        return
    ensure_dir(path.parent)
    try:
        fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync_enabled() if fsync is None else fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise StorageError(f"cannot append to {path}: {exc}") from exc


# atomic_write's own temp names: ".<target>.<8 random chars>.tmp" (app.core.atomic_file.temp_name).
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
# A temp file this old was left by a killed writer (a live one holds it for milliseconds).
STALE_TEMP_SECONDS = 300.0
SWEPT_MARKER = ".crewmux-swept"


def sweep_temps(directory: Path, *, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove the temp files of :func:`atomic_write` in ``directory`` older than ``older_than``
    seconds (left by writers killed mid-write); only regular files with crewmux's temp names."""
    now = time.time()
    removed: list[Path] = []
    try:
        entries = os.scandir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return removed
    with entries:
        for entry in entries:
            if not _TEMP_NAME.match(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and now - st.st_mtime >= older_than:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            except FileNotFoundError:
                continue
    return removed


def maybe_sweep_temps(directory: Path) -> None:
    """:func:`sweep_temps` at most once per :data:`STALE_TEMP_SECONDS` per folder, whichever
    process comes by (the time is a marker file's mtime): one ``stat`` on the usual path."""
    marker = directory / SWEPT_MARKER
    try:
        if time.time() - os.lstat(marker).st_mtime < STALE_TEMP_SECONDS:
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    sweep_temps(directory)
    with contextlib.suppress(OSError, UnsafeFile):
        fd = open_regular(marker, os.O_WRONLY | os.O_CREAT)
        try:
            os.utime(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Problem:
    """Something went wrong with a file but work went on (a quarantined file, for one)."""

    path: Path
    message: str
    quarantined: Path | None = None
    at: float = 0.0


ProblemSink = Callable[[Problem], None]

_sinks: list[ProblemSink] = []
_sinks_lock = threading.Lock()


def add_problem_sink(sink: ProblemSink) -> Callable[[], None]:
    """Be told about every :class:`Problem` in this process; returns a function that unsubscribes."""
    with _sinks_lock:
        _sinks.append(sink)

    def remove() -> None:
        with _sinks_lock, contextlib.suppress(ValueError):
            _sinks.remove(sink)

    return remove


def report_problem(problem: Problem) -> None:
    """Log ``problem`` as a warning and hand it to every registered sink."""
    log.warning("%s", problem.message)
    with _sinks_lock:
        sinks = list(_sinks)
    for sink in sinks:
        sink(problem)


def quarantine(path: Path, reason: str) -> CorruptFile:
    """Move a bad file aside to ``<name>.corrupt-<time>``, report it, and return the error."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, target)
    err = CorruptFile(path, target, reason)
    report_problem(Problem(path=path, message=str(err), quarantined=target, at=time.time()))
    return err


def why_invalid(exc: Exception) -> str:
    """Why bytes did not validate, in one line: the first pydantic error and its place, else ``exc``'s first line."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
        return f"{loc}: {first.get('msg', 'invalid')}"
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def read_bytes(path: Path, *, start: int = 0) -> bytes | None:
    """The file's bytes (from offset ``start`` on), or None when it does not exist.

    Raises :class:`UnsafeFile` (at once, never hanging) for a symlink, FIFO or other
    non-regular file, and StorageError when it cannot be read.
    """
    try:
        fd = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    try:
        with os.fdopen(fd, "rb") as f:
            if start:
                f.seek(start)
            return f.read()
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc


def read_last_lines(path: Path, count: int, *, block: int = 65_536) -> list[bytes]:
    """The file's last ``count`` lines (every line when ``count`` <= 0), read from its end: what
    it costs (time and memory) does not grow with the file. [] when it does not exist; errors as
    :func:`read_bytes`."""
    if count <= 0:
        return (read_bytes(path) or b"").splitlines()
    try:
        fd = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    try:
        with os.fdopen(fd, "rb") as f:
            pos = os.fstat(f.fileno()).st_size
            tail = b""
            while pos > 0 and tail.count(b"\n") <= count:
                step = min(block, pos)
                pos -= step
                f.seek(pos)
                tail = f.read(step) + tail
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    lines = tail.splitlines()
    return (lines[1:] if pos > 0 else lines)[-count:]  # the first one read may be a line's end only


def parse_model(raw: bytes, model: type[BaseModel] | TypeAdapter[M]) -> object:
    """Validate JSON bytes into ``model``; raises ValidationError/ValueError when they do not fit."""
    if isinstance(model, TypeAdapter):
        return model.validate_json(raw)
    return model.model_validate_json(raw)


def read_model(path: Path, model: type[BaseModel] | TypeAdapter[M]) -> object | None:
    """Parse ``path`` into ``model``; None when missing; quarantine and None when corrupt."""
    raw = read_bytes(path)
    if raw is None:
        return None
    try:
        return parse_model(raw, model)
    except (ValidationError, ValueError) as exc:
        quarantine(path, why_invalid(exc))
        return None

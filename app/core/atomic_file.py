"""The crash-safe file replacement itself, in the standard library's ``os`` alone.

:func:`replace_file` is what :func:`app.core.atomic.atomic_write` does to the disk: a temp file in
the target's own directory (``.<name>.<8 random chars>.tmp``, mode 0600, never through a symlink,
created exclusively), every byte written, fsynced when asked, renamed over the target with
``os.replace``, the directory fsynced when asked; on any error the temp file is removed and the
target is untouched. It lives apart, importing nothing but ``os``, because agents' hooks
(:mod:`app.core.hook_record`) write through it on every turn in a process that must start in
milliseconds. Everything else calls :func:`app.core.atomic.atomic_write` (directories made with
mode 0700, errors as StorageError).
"""

from __future__ import annotations

import os

FILE_MODE = 0o600
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def temp_name(name: str) -> str:
    """A fresh temp name for target ``name``: ``.<name>.<8 chars of [a-z0-9]>.tmp``."""
    return f".{name}.{os.urandom(4).hex()}.tmp"


def replace_file(path: str | os.PathLike[str], payload: bytes, *, fsync: bool) -> None:
    """Replace ``path`` with ``payload`` atomically (see the module docstring). Raises OSError;
    FileNotFoundError when the directory does not exist."""
    directory, name = os.path.split(os.fspath(path))
    directory = directory or "."
    while True:
        tmp = os.path.join(directory, temp_name(name))
        try:
            fd = os.open(tmp, _FLAGS, FILE_MODE)
            break
        except FileExistsError:
            continue
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # whatever the umask
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if fsync:
            dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except BaseException:
        try:  # noqa: SIM105 - contextlib would cost every hook process its import
            os.unlink(tmp)
        except OSError:
            pass
        raise

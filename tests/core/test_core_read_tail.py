"""``read_last_lines``: a file's newest lines, read from its end (the console reads the newest
archived messages each status pass; what that costs must not grow with the archive)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from app.core.atomic import read_last_lines
from app.core.errors import UnsafeFile

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize("block", [1, 7, 64, 65_536])
@pytest.mark.parametrize("count", [0, 1, 3, 99, 100, 500])
def test_the_last_lines_are_the_files_last_lines(tmp_path: Path, block: int, count: int) -> None:
    path = tmp_path / "archive.jsonl"
    lines = [f'{{"n": {n}, "pad": "{"x" * (n % 13)}"}}'.encode() for n in range(100)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert read_last_lines(path, count, block=block) == (lines[-count:] if count > 0 else lines)


def test_a_file_without_a_final_newline_and_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "a"
    path.write_bytes(b"one\ntwo\nthree")
    assert read_last_lines(path, 2, block=4) == [b"two", b"three"]
    assert read_last_lines(tmp_path / "missing", 5) == []


def test_only_the_end_of_a_large_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    path = tmp_path / "big"
    path.write_bytes(b"".join(b"%08d\n" % n for n in range(200_000)))  # 1.8 MB
    read: list[int] = []
    original = os.fdopen

    class Counted:
        def __init__(self, f: Any) -> None:
            self.f = f

        def __enter__(self) -> Counted:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def fileno(self) -> int:
            return int(self.f.fileno())

        def seek(self, pos: int) -> int:
            return int(self.f.seek(pos))

        def read(self, size: int = -1) -> bytes:
            out: bytes = self.f.read(size)
            read.append(len(out))
            return out

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Counted(original(fd, mode)))
    assert read_last_lines(path, 3, block=4096) == [b"00199997", b"00199998", b"00199999"]
    assert 0 < sum(read) <= 4096, f"read {sum(read)} bytes of a 1.8 MB file for its last 3 lines"


def test_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"a\n")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeFile):
        read_last_lines(tmp_path / "link", 1)

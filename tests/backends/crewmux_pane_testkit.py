"""Helpers shared by the backend tests (a uniquely named module, importable from tests/backends)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import PaneBackend, PaneHandle, PaneSpec


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``check`` until it holds; fails the test with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def spec(name: str, argv: list[str], tmp_path: Path, **kw: object) -> PaneSpec:
    return PaneSpec(team="t", name=name, argv=argv, cwd=str(tmp_path), **kw)  # type: ignore[arg-type]


def screen_has(backend: PaneBackend, handle: PaneHandle, needle: str) -> Callable[[], bool]:
    def check() -> bool:
        shown = backend.screen(handle, scrollback=200)
        return needle in "\n".join([*shown.scrollback, *shown.lines])

    return check

"""The console's malloc settings (app.console.heap), checked in a fresh interpreter each: they are
process-wide, and what they change is seen in glibc's own accounting (mallinfo2, malloc_info)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")

_PROBE = textwrap.dedent(
    """
    import ctypes, sys, threading
    from app.console.heap import tune_malloc

    libc = ctypes.CDLL(None)
    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
    libc.mallinfo2.restype = Info
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]

    tuned = tune_malloc() if sys.argv[1] == "tune" else False
    big = bytearray(4 << 20)  # mapped on its own (past any threshold); freeing it slides glibc's
    del big
    before = libc.mallinfo2().hblks
    block = bytearray(256 << 10)  # after the slide, taken from the heap; with a fixed threshold, mapped
    mapped = libc.mallinfo2().hblks - before

    def work():
        kept = [bytearray(1000) for _ in range(2000)]
        done.wait()
    done = threading.Event()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    path = sys.argv[2]
    stream = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    done.set()
    for t in threads:
        t.join()
    arenas = open(path).read().count("<heap nr=")
    print(tuned, mapped, arenas)
    """
)


def _probe(tmp_path: Path, mode: str, **env: str) -> tuple[str, int, int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode, str(tmp_path / "info.xml")],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    tuned, mapped, arenas = done.stdout.split()
    return tuned, int(mapped), int(arenas)


def test_tuned_large_blocks_stay_mapped_and_threads_share_one_arena(tmp_path: Path) -> None:
    assert _probe(tmp_path, "tune") == ("True", 1, 1)


def test_glibc_defaults_slide_the_threshold_and_give_threads_arenas_of_their_own(tmp_path: Path) -> None:
    # What the settings change: without them the freed 4 MiB block raised the threshold (the
    # 256 KiB block came from the heap) and the worker threads made arenas of their own.
    tuned, mapped, arenas = _probe(tmp_path, "plain")
    assert (tuned, mapped) == ("False", 0)
    assert arenas > 1


def test_a_users_own_malloc_settings_win(tmp_path: Path) -> None:
    tuned, mapped, arenas = _probe(tmp_path, "tune", MALLOC_ARENA_MAX="3")
    assert (tuned, mapped) == ("False", 0)
    assert 1 < arenas <= 3

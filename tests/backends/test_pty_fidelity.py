"""In-process fidelity, on both screens (Ghostty's and pyte's): a sequence pyte rejects loses
nothing after it; wide characters; shrinking."""

from __future__ import annotations

from pathlib import Path

from backends.base import PaneSpec
from backends.inprocess import InProcessBackend


def test_a_rejected_sequence_keeps_the_rest_of_the_read(tmp_path: Path, screen_kind: str) -> None:
    # vim sends CSI ? 4 m at start; pyte raises on it. Everything after it in the same read counts.
    stream = tmp_path / "stream.bin"
    body = b"".join(b"line%03d\r\n" % i for i in range(200))
    stream.write_bytes(b"before\r\n\x1b[?4m" + b"after-rejected\r\n" + body + b"END-MARK")
    backend = InProcessBackend()
    argv = ["sh", "-c", f"cat {stream}; sleep 30"]
    handle = backend.spawn(PaneSpec(team="t", name="v", argv=argv, cwd=str(tmp_path), cols=40, rows=10))
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: any("END-MARK" in line for line in s.display), 20), term.screen.display
        shown = backend.screen(handle, scrollback=1000)
        everything = [*shown.scrollback, *shown.lines]
        assert everything[:3] == ["before", "after-rejected", "line000"], everything[:5]
        assert [line for line in everything if line.startswith("line")] == [f"line{i:03d}" for i in range(200)]
        assert screen_kind == "ghostty" or term.screen._stream.rejected >= 1
    finally:
        backend.kill(handle, grace=0.5)


def test_wide_characters_take_two_columns_on_a_real_pty(tmp_path: Path, screen_kind: str) -> None:
    from rich.cells import cell_len

    from app.console.widgets.screen_rows import screen_row

    backend = InProcessBackend()
    argv = ["sh", "-c", "printf 'a中b😀c|\\n'; sleep 30"]
    handle = backend.spawn(PaneSpec(team="t", name="w", argv=argv, cwd=str(tmp_path), cols=20, rows=4))
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: "|" in s.display[0], 20), term.screen.display
        with term.lock:
            row = screen_row(term.screen, 0, (0, 3))  # the cursor on "b", after the wide char
            text = "".join(seg.text for seg in row)
        assert text.startswith("a中b😀c|")
        assert sum(cell_len(seg.text) for seg in row) == 20  # the row fills the screen's width, no more
        cursor = [seg for seg in row if seg.style is not None and seg.style.reverse]
        assert [seg.text for seg in cursor] == ["b"]
    finally:
        backend.kill(handle, grace=0.5)


def test_shrinking_keeps_the_rows_above_the_cursor(tmp_path: Path, screen_kind: str) -> None:
    # A teammate started at 120x36 and shown in a 22-row view: its first lines stay on screen.
    backend = InProcessBackend()
    argv = ["sh", "-c", "echo first; echo second; echo third; sleep 30"]
    handle = backend.spawn(PaneSpec(team="t", name="r", argv=argv, cwd=str(tmp_path), cols=120, rows=36))
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: "third" in s.display[2], 20), term.screen.display
        term.resize(78, 22)
        with term.lock:
            assert term.screen.text_lines()[:4] == ["first", "second", "third", ""]
            assert (term.screen.cursor.y, term.screen.lines) == (3, 22)
        term.resize(78, 2)  # the cursor row must stay: the rows above it scroll into scrollback
        with term.lock:
            assert term.screen.text_lines() == ["third", ""] and term.screen.cursor.y == 1
            assert term.screen.scrollback_lines(2) == ["first", "second"]
    finally:
        backend.kill(handle, grace=0.5)

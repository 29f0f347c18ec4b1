"""The emulated screen of an in-process teammate on libghostty-vt (Ghostty's terminal core, via pyghostty).

Same interface as :class:`backends.pyte_screen.TerminalScreen` (the pyte one, kept as the
fallback where pyghostty has no wheel): ``feed``, ``take_replies``, ``has_mode``, ``columns``,
``lines``, ``cursor``, ``display``, ``text_lines``, ``scrollback_lines``, ``in_alternate``,
``resize``, ``dirty``; plus :meth:`GhosttyScreen.vt_rows`, the visible rows as SGR-styled text
(Ghostty's own formatter) with their empty cells, which the console draws. Parsing runs in native code (~50 MB/s here
against pyte's ~0.2), so a teammate printing flat out is never held back by its screen.
Not thread-safe: call under the owning terminal's lock, as with pyte.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from pyghostty import Terminal
from pyghostty._ffi import ffi, lib
from pyghostty.core import init_sized
from rich.cells import cell_len

SCROLLBACK_LINES = 2000
Runs = tuple[tuple[int, int], ...]
"""Column ranges ``[start, end)`` of a row."""
VtRow = tuple[str, Runs]
"""A row as SGR-styled text, and the runs of empty cells inside it (see :meth:`GhosttyScreen.vt_rows`)."""


@dataclass
class Cursor:
    """Where the cursor is (0-based), and whether the program hid it (pyte's ``Cursor`` fields used here)."""

    x: int
    y: int
    hidden: bool


class _Modes:
    """pyte's ``mode`` set, read from Ghostty: ``(n << 5) in mode`` for DEC private mode ``n``, ``n`` for ANSI."""

    def __init__(self, term: Terminal) -> None:
        self._term = term

    def __contains__(self, packed: object) -> bool:
        if not isinstance(packed, int):
            return False
        private = packed >= 32 and packed % 32 == 0
        return bool(self._term.mode(packed >> 5 if private else packed, ansi=not private))


class GhosttyScreen:
    """A libghostty-vt terminal behind the screen interface the pty host and the console use."""

    def __init__(self, columns: int, lines: int) -> None:
        self._term = Terminal(cols=columns, rows=lines, scrollback=SCROLLBACK_LINES)
        self._replies: list[bytes] = []
        self._term.on_reply(self._replies.append)
        self._columns, self._lines = columns, lines
        self.mode = _Modes(self._term)
        state, rows = ffi.new("GhosttyRenderState*"), ffi.new("GhosttyRenderStateRowIterator*")
        if lib.ghostty_render_state_new(ffi.NULL, state) or lib.ghostty_render_state_row_iterator_new(ffi.NULL, rows):
            raise OSError("libghostty-vt: cannot create a render state")
        self._state, self._row_iter, self._cells = state, rows, ffi.new("uint64_t[2]")
        weakref.finalize(self, _free_render, state[0], rows[0])
        self.dirty: set[int] = set(range(lines))
        """Rows that may have changed since the console last cleared it (all of them after any feed)."""

    # -- input ------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Parse program output (any sequence Ghostty does not know is ignored; nothing is lost)."""
        self._term.feed(data)
        self.dirty.update(range(self._lines))

    def take_replies(self) -> list[bytes]:
        """Answers to the program's queries (cursor position, device attributes), to write back to it."""
        replies, self._replies[:] = list(self._replies), []
        return replies

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Resize as Ghostty does (the primary screen reflows; rows pushed off go to scrollback)."""
        self._lines, self._columns = lines or self._lines, columns or self._columns
        self._term.resize(self._columns, self._lines)
        self.dirty.update(range(self._lines))

    # -- state ------------------------------------------------------------------------------
    @property
    def columns(self) -> int:
        return self._columns

    @property
    def lines(self) -> int:
        return self._lines

    @property
    def cursor(self) -> Cursor:
        x, y = self._term.cursor
        return Cursor(x, y, not self._term.get("cursor_visible", "bool"))

    @property
    def in_alternate(self) -> bool:
        """True while a full-screen program has switched to the alternate screen."""
        return bool(self._term.get("active_screen", "GhosttyTerminalScreen") == lib.GHOSTTY_TERMINAL_SCREEN_ALTERNATE)

    def has_mode(self, mode: int, *, private: bool = True) -> bool:
        """Whether the program set DEC private mode ``mode`` (or ANSI mode, ``private=False``)."""
        return bool(self._term.mode(mode, ansi=not private))

    # -- text -------------------------------------------------------------------------------
    def _format(self, start: Any, end: Any, *, vt: bool) -> str:
        sel = init_sized("GhosttySelection")
        sel.start, sel.end = start[0], end[0]
        opts = init_sized("GhosttyFormatterTerminalOptions")
        opts.emit = lib.GHOSTTY_FORMATTER_FORMAT_VT if vt else lib.GHOSTTY_FORMATTER_FORMAT_PLAIN
        opts.unwrap, opts.trim, opts.selection = False, not vt, sel
        opts.extra.screen.style = vt
        fmt = ffi.new("GhosttyFormatter*")
        if lib.ghostty_formatter_terminal_new(ffi.NULL, fmt, self._term._t[0], opts[0]):
            return ""
        try:
            out, size = ffi.new("uint8_t**"), ffi.new("size_t*")
            if lib.ghostty_formatter_format_alloc(fmt[0], ffi.NULL, out, size):
                return ""
            text = bytes(ffi.buffer(out[0], size[0])).decode("utf-8", "replace")
            lib.ghostty_free(ffi.NULL, out[0], size[0])
            return text
        finally:
            lib.ghostty_formatter_free(fmt[0])

    def _rows(self, *, vt: bool) -> list[str]:
        term = self._term
        text = self._format(term.ref(0, 0), term.ref(self._columns - 1, self._lines - 1), vt=vt)
        rows = text.replace("\r\n", "\n").split("\n")[: self._lines]
        return rows + [""] * (self._lines - len(rows))

    def vt_rows(self) -> list[VtRow]:
        """The visible rows as text with SGR sequences (colours, bold, reverse...), each with the
        runs of empty cells (never written, default style) before its last written one.

        Ghostty's formatter writes an empty cell as a space without resetting the style first, so
        drawn as is, a reverse or coloured run would bleed over the empty cells after it; the
        caller draws those runs unstyled. Empty cells are found in the rows' raw cells (an empty
        cell is all zero bits), only for rows that carry a style."""
        lines = [_one_reset(line) for line in self._rows(vt=True)]
        styled = [y for y, line in enumerate(lines) if "\x1b[" in line.replace("\x1b[0m", "")]
        runs = self._empty_runs(set(styled)) if styled else {}
        return [(line, runs.get(y, ())) for y, line in enumerate(lines)]

    def _empty_runs(self, wanted: set[int]) -> dict[int, Runs]:
        state, rows, cells = self._state[0], self._row_iter, self._cells
        if lib.ghostty_render_state_update(state, self._term._t[0]):
            return {}
        if lib.ghostty_render_state_get(state, lib.GHOSTTY_RENDER_STATE_DATA_ROW_ITERATOR, rows):
            return {}
        found: dict[int, Runs] = {}
        y = -1
        while lib.ghostty_render_state_row_iterator_next(rows[0]):
            y += 1
            if y not in wanted or lib.ghostty_render_state_row_get(
                rows[0], lib.GHOSTTY_RENDER_STATE_ROW_DATA_CELLS_RAW, cells
            ):
                continue
            raw = ffi.unpack(ffi.cast("uint64_t*", cells[0]), int(cells[1]))
            found[y] = _zero_runs(raw)
        return found

    def text_lines(self) -> list[str]:
        """The visible rows as plain text, trailing spaces stripped."""
        return [row.rstrip() for row in self._rows(vt=False)]

    @property
    def display(self) -> list[str]:
        """The visible rows as plain text, each padded to the width (pyte's ``display``)."""
        return [row + " " * max(0, self._columns - cell_len(row)) for row in self.text_lines()]

    def scrollback_lines(self, count: int) -> list[str]:
        """The last ``count`` rows that scrolled off the top, oldest first, as text."""
        above = int(self._term.get("scrollback_rows", "size_t"))
        count = min(count, above)
        if count <= 0:
            return []
        first, last = (
            self._term.ref(0, above - count, "history"),
            self._term.ref(self._columns - 1, above - 1, "history"),
        )
        text = self._format(first, last, vt=False)
        rows = text.replace("\r\n", "\n").split("\n")[:count]
        return [row.rstrip() for row in rows] + [""] * (count - len(rows))


def _one_reset(line: str) -> str:
    """``line`` with one SGR reset at its end where the formatter wrote two (it closes its output
    with one more after the last written row): the same row reads the same wherever it is."""
    while line.endswith("\x1b[0m\x1b[0m"):
        line = line[:-4]
    return line


def _zero_runs(raw: list[int]) -> Runs:
    """Runs of zero cells in ``raw`` that lie before its last non-zero cell."""
    end = len(raw)
    while end and not raw[end - 1]:
        end -= 1
    runs: list[tuple[int, int]] = []
    start = -1
    for x in range(end):
        if not raw[x]:
            if start < 0:
                start = x
        elif start >= 0:
            runs.append((start, x))
            start = -1
    return tuple(runs)


# Looked up once, here: cffi resolves a library attribute on first use under a lock it also holds
# while parsing a type, so a first lookup inside a finalizer that the collector runs during such a
# parse (pyghostty's own calls parse types lazily) deadlocked the thread (seen: the cursor read hung).
_FREE_ROWS = lib.ghostty_render_state_row_iterator_free
_FREE_STATE = lib.ghostty_render_state_free


def _free_render(state: Any, rows: Any) -> None:
    _FREE_ROWS(rows)
    _FREE_STATE(state)

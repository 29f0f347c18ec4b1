"""One row of a teammate's emulated screen as Rich segments: Ghostty's rows (SGR text) or pyte's
cells, with the cursor drawn reversed. Used by :class:`app.console.widgets.terminal.TerminalView`."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

_PYTE_COLORS = {"brown": "yellow"}


def _color(value: str) -> str | None:
    if value == "default":
        return None
    if len(value) == 6 and all(c in "0123456789abcdefABCDEF" for c in value):
        return "#" + value
    return _PYTE_COLORS.get(value, value).replace("bright", "bright_")


_style_cache: dict[tuple[Any, ...], Style] = {}


def _style(key: tuple[Any, ...]) -> Style:
    """The Rich style for a pyte char's attributes ``(fg, bg, bold, italics, underscore, strike, reverse, blink)``."""
    found = _style_cache.get(key)
    if found is None:
        fg, bg, bold, italic, underline, strike, reverse, blink = key
        flags = {"bold": bold, "italic": italic, "underline": underline, "strike": strike, "reverse": reverse}
        try:
            found = Style(color=_color(fg), bgcolor=_color(bg), blink=blink, **flags)
        except Exception:  # an odd color name from the emulator: draw it plain
            found = Style(blink=blink, **flags)
        _style_cache[key] = found
    return found


def pyte_row(screen: Any, y: int, cursor: tuple[int, int] | None) -> list[Segment]:
    """Segments for row ``y`` of a pyte screen: runs of equal style joined (call under its lock).

    Only the cells the row holds are visited (a row is a sparse dict; most are short), and the
    blank tail is one segment, so a full-screen redraw costs a fraction of a per-cell walk. A wide
    char (CJK, emoji) is drawn once over its two columns: pyte's empty filler cell after it is
    skipped, so the rest of the row and the cursor stay in their columns.
    """
    row = screen.buffer[y]
    columns = screen.columns
    default = row.default
    cursor_x = cursor[1] if cursor is not None and cursor[0] == y and 0 <= cursor[1] < columns else -1
    end = max(max(row, default=-1), cursor_x) + 1
    end = min(end, columns)
    get = row.get
    segments: list[Segment] = []
    text: list[str] = []
    current: tuple[Any, ...] | None = None
    for x in range(end):
        ch = get(x, default)
        if not ch.data:  # pyte's filler cell after a wide char: that char already covers it
            continue
        key = ch[1:]
        if x == cursor_x:
            if text and current is not None:
                segments.append(Segment("".join(text), _style(current)))
            segments.append(Segment(ch.data or " ", _style(key) + Style(reverse=not ch.reverse)))
            text, current = [], None
            continue
        if key != current:
            if text and current is not None:
                segments.append(Segment("".join(text), _style(current)))
            text, current = [], key
        text.append(ch.data or " ")
    if text and current is not None:
        segments.append(Segment("".join(text), _style(current)))
    if end < columns:
        segments.append(Segment(" " * (columns - end), _style(default[1:])))
    return segments


_RICH = Console(file=io.StringIO(), color_system="truecolor", width=10_000, legacy_windows=False)


def vt_row(row: tuple[str, tuple[tuple[int, int], ...]], columns: int, cursor_x: int) -> list[Segment]:
    """Segments for one row of a Ghostty screen (:meth:`backends.ghostty_screen.GhosttyScreen.vt_rows`:
    SGR-styled text and its empty cells, drawn unstyled): padded to ``columns`` cells, the cell
    at ``cursor_x`` (-1: none) drawn reversed. Wide chars keep their two cells."""
    line, empty = row
    plain = line.replace("\x1b[0m", "")
    if "\x1b" in plain or "\r" in plain:
        segments = Segment.adjust_line_length(list(Text.from_ansi(line, end="").render(_RICH, end="")), columns)
    else:  # no style at all (most of a plain program's rows): no ANSI parse
        segments = Segment.adjust_line_length([Segment(plain)] if plain else [], columns)
    if empty:
        cuts = sorted({c for run in empty for c in run} | {columns})
        pieces = Segment.divide(segments, cuts)
        inside = [any(a <= start < b for a, b in empty) for start in [0, *cuts[:-1]]]
        segments = [Segment(seg.text) if inside[i] else seg for i, piece in enumerate(pieces) for seg in piece]
    if not 0 <= cursor_x < columns:
        return segments
    before, at, after = Segment.divide(segments, [cursor_x, cursor_x + 1, columns])
    at = [
        Segment(seg.text, (seg.style or Style()) + Style(reverse=not (seg.style and seg.style.reverse))) for seg in at
    ]
    return [*before, *at, *after]


def screen_row(screen: Any, y: int, cursor: tuple[int, int] | None) -> list[Segment]:
    """Segments for row ``y`` of either emulated screen (Ghostty's or pyte's); call under its lock."""
    if hasattr(screen, "vt_rows"):
        return vt_row(screen.vt_rows()[y], screen.columns, cursor[1] if cursor is not None and cursor[0] == y else -1)
    return pyte_row(screen, y, cursor)

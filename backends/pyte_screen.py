"""The pyte screen of an in-process teammate, made faithful (the fallback where Ghostty's is missing).

Imported only when :func:`backends.terminal_screen.new_screen` picks it, so a console whose
teammates use Ghostty's screen (or none) does not load pyte.

:class:`TerminalScreen` adds scrollback (rows that scroll off the top, kept as :data:`FrozenRow`
plain text and style runs: untracked by the garbage collector), the alternate screen, and replies
to terminal queries. :class:`TolerantStream` is pyte's byte stream that survives a sequence the
screen rejects: pyte raises from the middle of a feed (vim sends ``CSI ? 4 m`` at every start,
and pyte's ``select_graphic_rendition`` refuses the ``private`` flag), which would lose the rest
of the chunk; here only that one sequence is skipped and the feed goes on from the next character.
"""

from __future__ import annotations

import collections
import copy
import logging
from typing import Any

import pyte

_log = logging.getLogger(__name__)
SCROLLBACK_LINES = 2000
_ALT_MODES = {1049 << 5, 1047 << 5, 47 << 5}
FrozenRow = tuple[str, tuple[tuple[int, tuple[Any, ...]], ...]]
"""A scrolled-off row: its text (trailing blanks stripped), and ``(column, attrs)`` where the char
attributes (pyte ``Char`` fields after ``data``) change. Only strs, ints and bools: untracked by GC."""


class TolerantStream(pyte.ByteStream):
    """pyte's ByteStream whose ``feed`` skips a sequence the screen raises on, never the rest.

    The loop is pyte's ``Stream.feed`` (plain-text runs drawn at once, escape sequences one
    character at a time through the parser), with each step guarded: pyte resets its parser when
    a handler raises, so the feed resumes at the next character with nothing else lost.
    """

    rejected = 0
    """How many sequences (or text runs) the screen raised on, for tests and diagnostics."""

    def feed(self, data: bytes) -> None:  # type: ignore[override]
        text = self.utf8_decoder.decode(data) if self.use_utf8 else "".join(map(chr, data))
        self._feed_text(text)

    def _feed_text(self, data: str) -> None:
        send = self._send_to_parser
        assert self.listener is not None
        draw = self.listener.draw
        match_text = self._text_pattern.match
        taking_plain_text = self._taking_plain_text
        length = len(data)
        offset = 0
        while offset < length:
            try:
                if taking_plain_text:
                    match = match_text(data, offset)
                    if match:
                        start, offset = match.span()
                        draw(data[start:offset])
                    else:
                        taking_plain_text = False
                else:
                    offset += 1
                    taking_plain_text = bool(send(data[offset - 1 : offset]))
            except Exception as error:  # the screen refused one sequence: skip it, keep the rest
                self.rejected += 1
                taking_plain_text = self._taking_plain_text  # the parser was reset: back to text
                _log.debug("pty output: skipped a sequence pyte rejected: %r", error)
        self._taking_plain_text = taking_plain_text


class TerminalScreen(pyte.Screen):
    """pyte's Screen plus scrollback, the alternate screen and replies to terminal queries."""

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self.scrollback: collections.deque[FrozenRow] = collections.deque(maxlen=SCROLLBACK_LINES)
        self.replies: list[str] = []
        self._saved: tuple[dict[int, Any], Any] | None = None
        self._stream = TolerantStream(self)

    def feed(self, data: bytes) -> None:
        """Parse program output; a sequence pyte rejects is skipped, never the rest."""
        self._stream.feed(data)

    def take_replies(self) -> list[bytes]:
        """Answers to the program's queries, to write back to it."""
        replies, self.replies = self.replies, []
        return [reply.encode() for reply in replies]

    def has_mode(self, mode: int, *, private: bool = True) -> bool:
        """Whether the program set DEC private mode ``mode`` (or ANSI mode, ``private=False``)."""
        return (mode << 5 if private else mode) in self.mode

    @property
    def in_alternate(self) -> bool:
        """True while a full-screen program has switched to the alternate screen."""
        return self._saved is not None

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and self._saved is None:
            self.scrollback.append(_freeze_row(self.buffer[0], self.columns))
        super().index()

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Resize as a terminal does: fewer lines drop the rows below the cursor first, and only
        what is still too many scrolls off the top (into scrollback), the cursor moving with its
        row. (pyte drops every removed line from the top and leaves the cursor where it was: a
        shell shrunk after three lines of output lost them all.)"""
        lines = lines or self.lines
        if lines < self.lines:
            from_top = max(0, self.cursor.y + 1 - lines)
            for y in range(from_top):
                if self._saved is None:
                    self.scrollback.append(_freeze_row(self.buffer[y], self.columns))
            kept = {y - from_top: row for y, row in self.buffer.items() if from_top <= y < from_top + lines}
            self.buffer.clear()
            self.buffer.update(kept)
            self.cursor.y -= from_top
            self.lines = lines
            self.set_margins()
            self.dirty.update(range(lines))
        super().resize(lines, columns)

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and any(m << 5 in _ALT_MODES for m in modes) and self._saved is None:
            self._saved = ({y: _copy_row(self.buffer[y]) for y in list(self.buffer)}, copy.copy(self.cursor))
            self.buffer.clear()
            self.dirty.update(range(self.lines))
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and any(m << 5 in _ALT_MODES for m in modes) and self._saved is not None:
            rows, cursor = self._saved
            self._saved = None
            self.buffer.clear()
            for y, row in rows.items():
                self.buffer[y] = row
            self.cursor = cursor
            self.dirty.update(range(self.lines))
        super().reset_mode(*modes, **kwargs)

    def write_process_input(self, data: str) -> None:
        self.replies.append(data)

    def scrollback_lines(self, count: int) -> list[str]:
        """The last ``count`` rows that scrolled off the top, oldest first, as text."""
        rows = list(self.scrollback)[-count:] if count > 0 else []
        return [text for text, _ in rows]

    def text_lines(self) -> list[str]:
        """The visible rows as plain text, trailing spaces stripped."""
        return [line.rstrip() for line in self.display]


def _freeze_row(row: Any, width: int) -> FrozenRow:
    """``row`` (pyte's sparse dict of column -> Char) as text and style runs; visits only the cells it holds."""
    blank = row.default[1:]
    parts: list[str] = []
    runs: list[tuple[int, tuple[Any, ...]]] = []
    current: tuple[Any, ...] = blank
    pos = 0
    for x in sorted(row):
        if x >= width:
            break
        ch = row[x]
        if x > pos:
            if current != blank:
                runs.append((pos, blank))
                current = blank
            parts.append(" " * (x - pos))
        attrs = tuple(ch[1:])
        if attrs != current:
            runs.append((x, attrs))
            current = attrs
        parts.append(ch.data)
        pos = x + 1
    return "".join(parts).rstrip(), tuple(runs)


def _copy_row(row: Any) -> Any:
    fresh: Any = pyte.screens.StaticDefaultDict(row.default)
    fresh.update(row)
    return fresh

"""The terminal view's lines as Textual draws them (its border and background around each row),
kept per row strip so a scroll does not decorate every row again.

Textual draws a widget's line through its styles cache: the border's side characters, the
background, the padding and the line filters (e.g. the ANSI colour filter) around the line the
widget renders. That cache is kept per line number and cleared by every full refresh, and a
scrolling teammate needs a full refresh every frame (each row moves up one), so each frame
decorated every row again — the biggest part of the console's drawing cost while a teammate
prints. The view's rows keep their strips when they scroll (the same strip object moves up), so
:class:`DrawnLines` keeps each row's decorated line by its strip and asks Textual only for the
rows it has not decorated yet (the new ones at the bottom, the cursor's). The decoration of a
content line does not depend on where it is (only the top and bottom border lines differ, and
those are always drawn by Textual), and everything it depends on is in :meth:`DrawnLines.key`:
a change of size, border, colours, filters or styles starts over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.geometry import Region

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.strip import Strip
    from textual.widget import Widget


class DrawnLines:
    """A widget's decorated content lines, by the identity of the content strip they were drawn from."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._drawn: dict[int, tuple[Strip, Strip]] = {}  # id(content strip) -> (content strip, decorated)
        self.style_changes = 0
        """Bumped by the widget on every style update (focus, theme, CSS): the decoration changes."""
        self.decorated = 0
        """Lines Textual decorated for this cache so far (the others were found here)."""

    def key(self, widget: Widget) -> tuple[Any, ...]:
        """Everything a content line's decoration depends on, besides the content itself."""
        styles = widget.styles
        return (
            self.style_changes,
            widget.outer_size,
            styles.gutter,
            styles.border,
            widget.background_colors,
            styles.text_opacity,
            widget.opacity,
            tuple(widget.get_line_filters()),
            widget.app.ansi_theme,
            widget.app.native_ansi_color,
        )

    def render(
        self, widget: Widget, crop: Region, content: Callable[[int], Strip], draw: Callable[[Region], list[Strip]]
    ) -> list[Strip]:
        """The lines of ``crop`` (widget coordinates): content lines decorated before are taken from
        here; the rest (new rows, the border lines) are drawn by ``draw`` (Textual's own
        ``render_lines``), a run of neighbouring lines at a time. ``content(y)`` is the widget's
        strip for content row ``y`` (its ``render_line``)."""
        width, height = widget.outer_size
        gutter = widget.styles.gutter
        if crop.column_span != (0, width):  # a clipped view: Textual's way
            return draw(crop)
        key = self.key(widget)
        if key != self._key:
            self._key, self._drawn = key, {}
        lines: list[Strip | None] = []
        kept: dict[int, tuple[Strip, Strip]] = {}
        missing: list[int] = []
        content_rows = range(gutter.top, height - gutter.bottom)
        for y in crop.line_range:
            if y not in content_rows:
                lines.append(None)
                missing.append(y)
                continue
            strip = content(y - gutter.top)
            found = self._drawn.get(id(strip))
            if found is not None and found[0] is strip:
                kept[id(strip)] = found
                lines.append(found[1])
            else:
                kept[id(strip)] = (strip, strip)  # the decorated line is filled in below
                lines.append(None)
                missing.append(y)
        first = crop.y
        start = 0
        while start < len(missing):  # runs of neighbouring lines, one draw each
            end = start + 1
            while end < len(missing) and missing[end] == missing[end - 1] + 1:
                end += 1
            drawn = draw(Region(0, missing[start], width, end - start))
            self.decorated += len(drawn)
            for y, line in zip(range(missing[start], missing[end - 1] + 1), drawn, strict=False):
                lines[y - first] = line
                if y in content_rows:
                    strip = content(y - gutter.top)
                    kept[id(strip)] = (strip, line)
            start = end
        self._drawn = kept
        return [line for line in lines if line is not None]

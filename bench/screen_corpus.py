"""A corpus of terminal output (real vim, less and top runs, and synthetic sequences) replayed into
tmux, Ghostty's screen and pyte's, compared cell by cell: text, colours, bold/italic/underline/reverse.

Real programs are recorded on a fresh pty of the corpus size, driven by keys, each step waiting for
a marker the program prints (never a fixed delay). tmux is the reference: the same bytes are
``cat`` into a pane of the same size on a private server, read back with ``capture-pane -e``
once the pane's title reads the marker the replay ends with (tmux handles its output in order).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:
    from rich.color import Color
    from rich.segment import Segment

COLS, ROWS = 80, 24
_DONE = "CREWMUX-REPLAY-DONE"
Cell = tuple[str, Any, Any, bool, bool, bool, bool]


def _sample_text() -> str:
    lines = [
        f"{i:03d} def f{i}(x):  # 中文 and emoji 😀 col {i % 7}" if i % 5 else f"{i:03d}\tTAB\there" for i in range(200)
    ]
    return "\n".join(lines) + "\n"


def record(argv: list[str], steps: list[tuple[bytes, bytes]], cwd: Path, timeout: float = 30.0) -> bytes:
    """Run ``argv`` on a pty of the corpus size; for each ``(keys, marker)`` send the keys and read
    until ``marker`` appears (or the program ends); returns everything it wrote."""
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(cwd)}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True)
    os.close(slave)
    out = bytearray()
    try:
        for keys, marker in steps:
            seen = len(out)
            if keys:
                os.write(master, keys)
            deadline = time.monotonic() + timeout
            while marker not in out[seen:] and time.monotonic() < deadline:
                if select.select([master], [], [], 0.2)[0]:
                    try:
                        out += os.read(master, 65536)
                    except OSError:  # the program ended
                        break
            if marker not in out[seen:]:
                raise TimeoutError(f"{argv[0]}: {marker!r} not seen")
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    return bytes(out)


def synthetic() -> bytes:
    """Scroll regions, insert/delete, SGR 16/256/truecolour, wide chars at the margin, the
    alternate screen, tabs, and sequences pyte refuses (``CSI ? 4 m``)."""
    parts = [b"\x1b[?4m\x1b[2J\x1b[H"]
    parts += [
        b"\x1b[3%dmline %02d \x1b[1mbold\x1b[22m \x1b[4munder\x1b[24m \x1b[7mrev\x1b[27m\x1b[0m\r\n" % (i % 8, i)
        for i in range(30)
    ]
    parts.append(b"\x1b[5;15r\x1b[15;1H" + b"".join(b"scrolled %d\n\r" % i for i in range(12)) + b"\x1b[5;1H\x1bM\x1bM")
    parts.append(b"\x1b[r\x1b[20;1H\x1b[38;5;202m256-colour\x1b[48;2;10;200;30m truecolour \x1b[0m")
    parts.append(b"\x1b[21;75H" + "中文字符".encode() + b"\x1b[22;1Hab\tc\td\x1b[22;3H\x1b[2@XY\x1b[22;10H\x1b[3P")
    parts.append(b"\x1b[10;1H\x1b[2L\x1b[12;1H\x1b[1M\x1b[3;5H\x1b[K\x1b[4;1H\x1b[1K\x1b[?1049h\x1b[2;2HALT-SCREEN")
    parts.append(b"\x1b[?1049l\x1b[23;1H\x1b[3mitalic\x1b[0m \x1b]0;a title\x07end")
    return b"".join(parts)


def corpus(workdir: Path) -> dict[str, bytes]:
    """Name -> the bytes a program wrote (recorded now), plus the synthetic stream."""
    sample = workdir / "sample.py"
    sample.write_text(_sample_text())
    coloured = workdir / "coloured.txt"
    coloured.write_bytes(
        b"".join(b"\x1b[3%dmcolour line %03d \xe4\xb8\xad\x1b[0m tail\n" % (i % 8, i) for i in range(120))
    )
    found: dict[str, bytes] = {"synthetic": synthetic()}
    if shutil.which("vim"):
        vim = ["vim", "-u", "NONE", "-i", "NONE", "-N", "-n", "-c", "set number hlsearch ruler", "-c", "syntax on"]
        found["vim"] = record(
            [*vim, str(sample)],
            [
                (b"", b"sample.py"),
                (b"30Gdd3jo\xe4\xb8\xad new line \x1b:echo 'VIM-A'\r", b"VIM-A"),
                (b"/def f4\r:split\r:echo 'VIM-B'\r", b"VIM-B"),
            ],
            workdir,
        )
    if shutil.which("less"):
        less = ["less", "-R", "-P", "LESS-PROMPT %lb", str(coloured)]
        found["less"] = record(
            less, [(b"", b"LESS-PROMPT"), (b" ", b"LESS-PROMPT 46"), (b"/line 07\r", b"LESS-PROMPT")], workdir
        )
    if shutil.which("top"):
        found["top"] = record(["top", "-d", "0.2"], [(b"", b"load average"), (b"", b"Tasks:")], workdir)
    return found


@dataclass
class Shot:
    """A screen as cells, row by row, and the cursor (x, y)."""

    rows: list[list[Cell]]
    cursor: tuple[int, int]

    def text(self) -> list[str]:
        return ["".join(c[0] for c in row).rstrip() for row in self.rows]


def _colour(color: Color | None) -> Any:
    if color is None or color.is_default:
        return None
    return color.number if color.number is not None else color.triplet


def cells(segments: list[Segment]) -> list[Cell]:
    """One entry per character (a wide char is one entry) with its visible attributes; blank tail dropped."""
    from rich.cells import cell_len

    row: list[Cell] = []
    for seg in segments:
        st = seg.style
        for ch in seg.text:
            if cell_len(ch) == 0:
                continue
            row.append(
                (
                    ch,
                    *(
                        (
                            _colour(st.color),
                            _colour(st.bgcolor),
                            bool(st.bold),
                            bool(st.italic),
                            bool(st.underline),
                            bool(st.reverse),
                        )
                        if st
                        else (None, None, False, False, False, False)
                    ),
                )
            )
    while row and row[-1] == (" ", None, None, False, False, False, False):
        row.pop()
    return row


def _console() -> Any:
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), color_system="truecolor", width=10_000)


def shot_tmux(data: bytes, workdir: Path) -> Shot:
    """The corpus bytes replayed into a tmux pane of the corpus size (the reference)."""
    sock = f"crewmux-corpus-{uuid.uuid4().hex[:8]}"
    conf = workdir / "tmux.conf"
    conf.write_text("set -g status off\nset -g default-terminal tmux-256color\nset -g history-limit 2000\n")
    stream = workdir / f"replay-{sock}.bin"
    stream.write_bytes(data + f"\x1b]2;{_DONE}\x07".encode())
    tmux = ["tmux", "-L", sock, "-f", str(conf)]
    try:
        subprocess.run(
            [*tmux, "new-session", "-d", "-x", str(COLS), "-y", str(ROWS), f"stty -echo; cat {stream}; exec sleep 600"],
            check=True,
            env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            title = subprocess.run([*tmux, "display-message", "-p", "#{pane_title}"], capture_output=True, text=True)
            if title.stdout.strip() == _DONE:
                break
        shown = subprocess.run([*tmux, "capture-pane", "-p", "-e", "-N"], capture_output=True, check=True).stdout
        at = subprocess.run([*tmux, "display-message", "-p", "#{cursor_x} #{cursor_y}"], capture_output=True, text=True)
        x, y = (int(v) for v in at.stdout.split())
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
    # one stream: tmux carries attributes from one row into the next without repeating them
    text = Text.from_ansi(shown.decode("utf-8", "replace"), end="")
    lines = [cells(list(line.render(_console(), end=""))) for line in text.split("\n", allow_blank=True)][:ROWS]
    return Shot(lines + [[] for _ in range(ROWS - len(lines))], (x, y))


def shot_screen(data: bytes, kind: str) -> Shot:
    """The corpus bytes fed to crewmux's screen (``ghostty`` or ``pyte``), as the console draws it."""
    from app.console.widgets.screen_rows import screen_row
    from backends.pyte_screen import TerminalScreen

    if kind == "pyte":
        screen: Any = TerminalScreen(COLS, ROWS)
    else:
        from backends.ghostty_screen import GhosttyScreen

        screen = GhosttyScreen(COLS, ROWS)
    screen.feed(data)
    rows = [cells(screen_row(screen, y, None)) for y in range(ROWS)]
    return Shot(rows, (screen.cursor.x, screen.cursor.y))


def compare(ours: Shot, ref: Shot) -> tuple[int, int, bool]:
    """(rows whose text differs, cells whose text or attributes differ, cursor equal)."""
    text = sum(a != b for a, b in zip(ours.text(), ref.text(), strict=True))
    diff = 0
    for a, b in zip(ours.rows, ref.rows, strict=True):
        for i in range(max(len(a), len(b))):
            diff += (a[i] if i < len(a) else None) != (b[i] if i < len(b) else None)
    return text, diff, ours.cursor == ref.cursor


if __name__ == "__main__":  # a quick look: python -m bench.screen_corpus
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, data in corpus(Path(tmp)).items():
            ref = shot_tmux(data, Path(tmp))
            for kind in ("ghostty", "pyte"):
                print(name, kind, compare(shot_screen(data, kind), ref), file=sys.stderr)

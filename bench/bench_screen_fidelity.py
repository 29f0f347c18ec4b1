"""The in-process screens against tmux (the baseline): a corpus of real vim, less and top runs and
synthetic sequences, replayed into each and compared cell by cell (text and attributes) as the
console draws them; and each screen's parse rate on the same coloured stream."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench import Row, print_table, quick, ratio_text, verdict
from bench.screen_corpus import COLS, ROWS, compare, corpus, shot_screen, shot_tmux


def feed_rate(kind: str, data: bytes) -> float:
    """MB/s ``kind``'s screen parses ``data`` at (64 KiB feeds, as the pty host hands them)."""
    from backends.pyte_screen import TerminalScreen

    if kind == "pyte":
        screen = TerminalScreen(120, 36)
    else:
        from backends.ghostty_screen import GhosttyScreen

        screen = GhosttyScreen(120, 36)  # type: ignore[assignment]
    start = time.perf_counter()
    for i in range(0, len(data), 65536):
        screen.feed(data[i : i + 65536])
    return len(data) / (time.perf_counter() - start) / 1e6


def main() -> None:
    rows: list[Row] = []
    cells = COLS * ROWS
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for item, data in corpus(tmp).items():
            ref = shot_tmux(data, tmp)
            g_text, g_cells, g_cur = compare(shot_screen(data, "ghostty"), ref)
            p_text, p_cells, p_cur = compare(shot_screen(data, "pyte"), ref)
            rows.append(
                Row(
                    f"{item}: cells unlike tmux (of {cells})",
                    f"{g_cells} ghostty",
                    f"{p_cells} pyte",
                    "-",
                    "0",
                    verdict(g_cells == 0),
                )
            )
            rows.append(
                Row(
                    "  rows of text unlike tmux; cursor",
                    f"{g_text}; {'same' if g_cur else 'moved'}",
                    f"{p_text}; {'same' if p_cur else 'moved'}",
                )
            )
    line = "".join(f"\x1b[3{i % 8}m word{i} \x1b[1;4{(i + 3) % 8}m中" for i in range(8)) + "\x1b[0m\r\n"
    size = 300_000 if quick() else 2_000_000
    stream = (line * (size // len(line) + 1)).encode()[:size]
    g_rate, p_rate = feed_rate("ghostty", stream), feed_rate("pyte", stream[: size // 4])
    rows.append(
        Row(
            "parse rate, coloured stream, MB/s",
            f"{g_rate:.1f} ghostty",
            f"{p_rate:.2f} pyte",
            ratio_text(g_rate, p_rate),
            ">= 10",
            verdict(g_rate >= 10),
        )
    )
    print_table(f"in-process screens vs tmux ({COLS}x{ROWS}): the corpus as drawn by the console", rows)


if __name__ == "__main__":
    main()

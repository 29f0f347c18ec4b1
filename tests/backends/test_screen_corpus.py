"""Ghostty's screen, as the console draws it, against tmux on a corpus of real vim and less runs
and synthetic sequences (scroll regions, insert/delete, 256/true colour, wide chars at the margin,
the alternate screen): every cell's text and attributes, and the cursor. pyte's text matches too."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from bench.screen_corpus import ROWS, compare, corpus, shot_screen, shot_tmux

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


def test_ghostty_draws_every_cell_as_tmux_does(tmp_path: Path) -> None:
    found = corpus(tmp_path)
    found.pop("top", None)  # its figures: bench/bench_screen_fidelity.py (tmux keeps reverse in erased cells)
    assert {"synthetic", "vim", "less"} <= set(found), sorted(found)
    for name, data in found.items():
        ref = shot_tmux(data, tmp_path)
        ghostty, pyte = shot_screen(data, "ghostty"), shot_screen(data, "pyte")
        assert compare(ghostty, ref) == (0, 0, True), (name, ghostty.text(), ref.text())
        assert pyte.text() == ref.text() and pyte.cursor == ref.cursor, name
        assert sum(bool(row) for row in ref.rows) > ROWS // 2, name  # the corpus is not blank

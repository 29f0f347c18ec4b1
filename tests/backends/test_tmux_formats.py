"""tmux never runs ``#()`` from user text: names, directories and titles reach it as literal text.

A real tmux server on a private socket; every probe would create a file if tmux expanded it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.errors import InvalidName
from backends.base import Layout, PaneSpec
from backends.tmux import TmuxBackend
from tests.agents.teammate_helpers import wait_until


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], tuple[str, Path]]:
    """``#(touch $VAR)`` text (no '/': valid in a name) and the file it makes if tmux runs it.

    The tmux server starts in the test and inherits ``$VAR``; format jobs run with its environment.
    """

    def make(tag: str) -> tuple[str, Path]:
        marker = tmp_path / f"expanded-{tag}"
        monkeypatch.setenv(f"CREWMUX_PROBE_{tag.upper()}", str(marker))
        return f"#(touch $CREWMUX_PROBE_{tag.upper()})", marker

    return make


@pytest.mark.parametrize("layout", ["main-vertical", "windows"])
def test_names_directories_and_titles_are_never_expanded(
    tmux_socket: str, tmp_path: Path, layout: Layout, probe: Callable[[str], tuple[str, Path]]
) -> None:
    name_probe, name_marker = probe("name")
    cwd_probe, cwd_marker = probe("cwd")
    title_probe, title_marker = probe("title")
    backend = TmuxBackend()
    cwd = tmp_path / f"dir{cwd_probe}"
    cwd.mkdir()
    handles = []
    for i in range(2):  # the first makes the session, the second splits or adds a window
        spec = PaneSpec(
            team="fmt", name=f"w{i}{name_probe}"[:64], argv=["sleep", "30"], cwd=str(cwd),
            title=f"t{title_probe}", layout=layout,
        )  # fmt: skip
        handles.append(backend.spawn(spec))
    rows = backend.server.run("list-panes", "-a", "-F", "#{pane_current_path}\t#{pane_title}\t#{window_name}")
    wait_until(lambda: backend.is_alive(handles[-1]), 10, "panes up")
    assert all(row.split("\t")[0] == str(cwd) for row in rows), rows  # the directory as it is, '#' and all
    assert any(title_probe in row.split("\t")[1] for row in rows), rows
    for marker in (name_marker, cwd_marker, title_marker):
        assert not marker.exists(), f"tmux ran {marker.name}"


def test_a_refused_name_never_reaches_tmux(
    tmux_socket: str, tmp_path: Path, probe: Callable[[str], tuple[str, Path]]
) -> None:
    text, marker = probe("refused")
    backend = TmuxBackend()
    for bad in (f"a\x1b]0;x\x07{text}", f"..{text}", f"{text}/x", f"{text}{'x' * 64}"):
        with pytest.raises(InvalidName):
            backend.spawn(PaneSpec(team="fmt", name=bad, argv=["sleep", "30"], cwd=str(tmp_path)))
    assert not marker.exists()
    assert not backend.server.has_session("crewmux-fmt")

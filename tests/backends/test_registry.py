"""Choosing a backend: explicit (flag, env, team setting) or detected; lazy; clear errors."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from app.core.errors import BackendUnavailable, BadInput
from backends import registry


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(BadInput, match="valid backends: auto, tmux, in-process, iterm2"):
        registry.choose("screen", env={})


def test_explicit_flag_beats_env_and_setting(tmp_path: Path) -> None:
    settings = tmp_path / "crewmux.json"
    settings.write_text(json.dumps({"backend": "tmux"}))
    assert registry.choose("in-process", settings=settings, env={"CREWMUX_BACKEND": "tmux"}) == "in-process"
    assert registry.choose(None, settings=settings, env={"CREWMUX_BACKEND": "in-process"}) == "in-process"
    settings.write_text(json.dumps({"backend": "in-process"}))
    assert registry.choose(None, settings=settings, env={}) == "in-process"


def test_auto_detection_order(monkeypatch: pytest.MonkeyPatch) -> None:
    has_tmux = shutil.which("tmux") is not None
    if has_tmux:
        assert registry.choose("auto", env={"TMUX": "/tmp/x,1,0"}) == "tmux"
        assert registry.choose(None, env={}) == "tmux"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert registry.choose(None, env={}) == "in-process"
    # iTerm2 without a reachable API (no it2 CLI on PATH) is not chosen.
    assert registry.choose(None, env={"TERM_PROGRAM": "iTerm.app"}) == "in-process"


def test_auto_picks_iterm2_when_its_api_answers(fake_iterm2: Path) -> None:
    assert registry.choose(None, env={"TERM_PROGRAM": "iTerm.app"}) == "iterm2"
    assert registry.choose("iterm2", env={}) == "iterm2"
    fake_iterm2.unlink()  # iTerm2 not running / API disabled
    with pytest.raises(BackendUnavailable, match="Enable Python API"):
        registry.choose("iterm2", env={})


def test_explicit_backend_that_cannot_work_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BackendUnavailable, match="brew install tmux"):
        registry.choose("tmux", env={})
    with pytest.raises(BackendUnavailable, match="Python API"):
        registry.choose("iterm2", env={"CREWMUX_ITERM2_SOCKET": "/nonexistent"})


def test_backends_load_lazily() -> None:
    sys.modules.pop("backends.iterm2", None)
    registry.backend_class("in-process")
    assert "backends.iterm2" not in sys.modules
    assert registry.load("in-process").name == "in-process"


def test_corrupt_team_settings_are_quarantined_and_detection_decides(tmp_path: Path) -> None:
    settings = tmp_path / "crewmux.json"
    settings.write_text('{"backend": ')
    assert registry.choose(None, settings=settings, env={}) == registry.detect({})
    assert not settings.exists() and list(tmp_path.glob("crewmux.json.corrupt-*"))

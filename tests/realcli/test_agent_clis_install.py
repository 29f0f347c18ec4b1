"""The pinned-versions file, the installer and ``crewmux doctor`` (with the real installed CLIs)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.agents import install_clis
from app.agents.clis import in_range, parse_version, pinned, pinned_for


def test_pinned_file_names_each_kind_once_with_its_version_in_range() -> None:
    kinds = [c.kind for c in pinned()]
    assert sorted(kinds) == ["aider", "claude", "codex", "gemini"]
    for cli in pinned():
        assert in_range(cli.version, cli.verified), cli
    assert pinned_for("codex").spec == "@openai/codex@0.169.0"
    assert pinned_for("aider").spec == "aider-chat==0.86.2"
    assert parse_version("codex-cli 0.169.0") == (0, 169, 0)
    assert not in_range("0.170.1", pinned_for("codex").verified)


def test_second_install_starts_no_installer(real_cli: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for cli in pinned():
        real_cli(cli.kind)
    assert install_clis.missing() == []

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("an installer ran although everything was installed")

    monkeypatch.setattr(subprocess, "run", refuse)  # the module install_clis runs its installers through
    assert install_clis.main([]) == 0


def test_installer_without_npm_says_why_and_fails_only_when_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CREWMUX_AGENT_CLIS", str(tmp_path / "clis"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CI", raising=False)
    assert install_clis.main(["codex"]) == 0
    assert "npm not found" in capsys.readouterr().err
    status = json.loads((tmp_path / "clis" / "status.json").read_text())
    assert "npm not found" in status["errors"]["codex"]
    assert install_clis.main(["codex", "--strict"]) == 1
    monkeypatch.setenv("CI", "true")
    assert install_clis.main(["codex"]) == 1


def test_doctor_lists_each_cli_its_version_and_verdict(real_cli: Callable[[str], Path], cli: Any) -> None:
    for c in pinned():
        real_cli(c.kind)
    res = cli("doctor", "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    by_kind = {d["kind"]: d for d in doc["agentClis"]}
    assert set(by_kind) == {c.kind for c in pinned()}
    for c in pinned():
        assert by_kind[c.kind]["version"] == c.version
        assert by_kind[c.kind]["verified"] is True
        assert by_kind[c.kind]["where"] == "project"
    tmux = subprocess.run(["tmux", "-V"], capture_output=True, text=True, check=False).stdout.strip()
    assert doc["tmux"] == (tmux or None)
    text = cli("doctor")
    assert text.code == 0 and "codex" in text.out and "0.169.0" in text.out
